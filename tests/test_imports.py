"""Every module of src/archlab imports in the quick lane (`make test-fast`, `-m "not slow"`).

Many modules are exercised end to end only by slow tests (real `dvc repro`, subprocesses); a broken import there
would otherwise wait for the full suite. Importing each one here, in the worker's own process, costs seconds.
"""

import importlib
import pkgutil
from pathlib import Path

import pytest

import archlab

MODULES = sorted(info.name for info in pkgutil.walk_packages(archlab.__path__, prefix="archlab."))


def test_the_module_list_covers_every_file_under_src():
    files = {".".join(p.relative_to(Path(archlab.__file__).parents[1]).with_suffix("").parts)
             for p in Path(archlab.__file__).parent.rglob("*.py")}
    files = {name.removesuffix(".__init__") for name in files} - {"archlab"}
    assert files == set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_imports(name):
    module = importlib.import_module(name)
    assert module.__name__ == name
