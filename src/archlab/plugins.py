"""Plugins found, not listed: the one registry behind the architectures (`architectures/zoo/`, one module each)
and the tasks (`tasks/`, one package each).

A plugin module registers itself when imported (`plugins.register(name, item)` at its end); `all()` imports every
plugin module of the package once, `get(name)` only the one it needs when `lazy` (a stage never imports the other
tasks' code) or all of them (an architecture's params are checked against every zoo schema).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Plugins(Generic[T]):
    """The registry of one plugin package.

    Args:
        package: the dotted name of the package whose modules (or sub-packages) are the plugins.
        kind: what a plugin is called in errors ("architecture", "task").
        packages_only: plugins are sub-packages (tasks); plain modules beside them are shared code.
        unknown: the error message for a name nobody registered, given the name and the known names.
    """

    def __init__(self, package: str, kind: str, *, packages_only: bool, unknown: Callable[[str, list[str]], str]):
        self.package, self.kind, self.packages_only, self.unknown = package, kind, packages_only, unknown
        self.items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Add a plugin; a second one with the same name is a programming error."""
        if name in self.items:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self.items[name] = item
        return item

    def all(self) -> dict[str, T]:
        """Every plugin, importing each plugin module of the package once."""
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            if module.ispkg or not self.packages_only:
                importlib.import_module(f"{self.package}.{module.name}")
        return self.items

    def get(self, name: str, *, lazy: bool) -> T:
        """The plugin registered as `name`: importing its own module only (`lazy`) or every one; an unknown name
        is a ParamsError listing the known ones."""
        from archlab.errors import ParamsError

        if name not in self.items:
            if lazy:
                try:
                    importlib.import_module(f"{self.package}.{name}")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{self.package}.{name}":
                        raise
            else:
                self.all()
        if name not in self.items:
            raise ParamsError(self.unknown(name, sorted(self.all())))
        return self.items[name]
