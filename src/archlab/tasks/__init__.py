"""The registry of tasks, chosen by `task:` in params.yaml.

One task = one package under `archlab/tasks/` whose `__init__` calls `register(...)`; packages here are
discovered, not listed, like the architectures in `archlab/architectures/zoo/`. Shared modules (`base`,
`classification`, `images`, ...) are plain modules and are not tasks. Task packages import their heavy libraries
inside their methods, so reading params never pays for TensorFlow.

A task's stage work lives in its parts, one module per stage with the same name in every task package
(`ingest.py`, `validate.py`, `evaluate.py`, `register.py`; see PARTS), and a stage reaches only its own part
through `part(task, "<name>")`. So a stage imports, and DVC re-runs it for, only its own part of a task: the
package's `__init__` keeps what every stage reads (name, metrics, inputs, the model's input and output).
scripts/stage_deps.py follows `part(..., "<name>")` calls the same way.
"""

from __future__ import annotations

import importlib

from archlab.plugins import Plugins
from archlab.tasks.base import Metric, Task

__all__ = ["DEFAULT", "PARTS", "Metric", "Task", "get", "names", "part", "register", "registry"]

DEFAULT = "image_classification"  # what params.yaml and meta.json mean when they name no task
PLUGINS: Plugins[Task] = Plugins("archlab.tasks", "task", packages_only=True,
                                 unknown=lambda name, known: f"task: unknown task {name!r}; known: {known}")
REGISTRY = PLUGINS.items
PARTS = ("ingest", "validate", "evaluate", "register")  # every task package has a module of each name


def register(task: Task) -> Task:
    """Add a task instance to the registry; a second one with the same name is a programming error."""
    return PLUGINS.register(task.name, task)


def registry() -> dict[str, Task]:
    """Every task, importing each task package under `archlab/tasks/` once."""
    return PLUGINS.all()


def names() -> list[str]:
    return sorted(registry())


def get(name: str | None) -> Task:
    """The task registered as `name` (None: the default), importing only its package (a stage never imports the
    other tasks' code); an unknown name is a ParamsError listing the known."""
    return PLUGINS.get(name or DEFAULT, lazy=True)


def part(name: str | None, stage_part: str):
    """The module `archlab.tasks.<name>.<stage_part>` of the task registered as `name` (None: the default).

    Call it with the part's name written out (`part(params.task, "evaluate")`): scripts/stage_deps.py reads the
    literal to know which part a stage runs.
    """
    if stage_part not in PARTS:
        raise ValueError(f"unknown task part {stage_part!r}; parts: {PARTS}")
    return importlib.import_module(f"{__name__}.{get(name).name}.{stage_part}")
