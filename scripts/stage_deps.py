"""Write each DVC stage's code deps into dvc.yaml from the imports the stage really runs (`make deps`).

Usage: python -m scripts.stage_deps [--check]

A stage's code deps are its script and every `archlab` module it runs: its imports, theirs, imports inside
functions included (they run too), `if TYPE_CHECKING:` blocks left out (they never run), and the parent package of
each module (importing a module runs its package's `__init__`). Plugins found at run time are followed the way the
code finds them:

- the task: `archlab.tasks.get(params.task)` imports the package `src/archlab/tasks/${task}/__init__.py` only,
  and `archlab.tasks.part(params.task, "<part>")` that package's module `<part>.py`; the deps are those templated
  files, and the modules outside the task package are the union over every task, since the task is a param;
- the trained architecture: `--arch ${item}` trains the zoo file `src/archlab/architectures/zoo/${item}.py` only;
  the modules the zoo files import are the union over every zoo file;
- the learning curve trains the architectures listed in `evaluate.learning_curve`, a params list DVC cannot turn
  into paths: its dep is the whole zoo folder, a coarse dep chosen over a list regenerated from params (which
  would go stale silently when the list changes);
- `archlab.tracking.pyfunc` logs `pyfunc_entry.py` by path as every model's entry point.

Deps that are not code (data, models, params-chosen paths) are kept as written, after the code deps. `--check`
changes nothing and exits 1 when dvc.yaml is stale (tests/test_stage_deps.py asserts the same).
"""

from __future__ import annotations

import ast
import io
import re
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
DVC_YAML = ROOT / "dvc.yaml"
TASK_DIR = "src/archlab/tasks/${task}"
ARCH_DEP = "src/archlab/architectures/zoo/${item}.py"
ZOO = "src/archlab/architectures/zoo"
ALL_ARCHITECTURES = "*"  # the learning curve's `arch`: every zoo file (the coarse dep)
RUNS_BY_PATH = {"archlab.tracking.pyfunc": ["archlab.pyfunc_entry"]}
CODE_PREFIXES = ("src/", "stages/")


def module_file(name: str) -> Path | None:
    """The source file of an archlab module or package, or None when `name` is not one (an attribute)."""
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """The ids of every node inside an `if TYPE_CHECKING:` block (type-only imports that never run)."""
    blocks = [node for node in ast.walk(tree) if isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING"))]
    return {id(child) for block in blocks for child in ast.walk(block)}


def imported_names(tree: ast.Module) -> set[str]:
    """Every `archlab` name a file imports outside `if TYPE_CHECKING:` (modules, and `from m import x` as m.x)."""
    skipped = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] == "archlab"}


def _is_part_call(node: ast.AST) -> bool:
    """`tasks.part(task, "<literal>")` or `part(task, "<literal>")`."""
    if not isinstance(node, ast.Call) or len(node.args) < 2:
        return False
    func = node.func
    named = (isinstance(func, ast.Attribute) and func.attr == "part") or (isinstance(func, ast.Name)
                                                                           and func.id == "part")
    return named and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)


@cache
def parts_called(name: str) -> frozenset[str]:
    """The task parts module `name` reaches through `archlab.tasks.part(..., "<part>")`."""
    tree = ast.parse(module_file(name).read_text(encoding="utf-8"))
    return frozenset(node.args[1].value for node in ast.walk(tree) if _is_part_call(node))


@cache
def imports_of(name: str) -> frozenset[str]:
    """The archlab modules `name` imports anywhere in its file, with the parent packages each import runs."""
    found: set[str] = set()
    for target in imported_names(ast.parse(module_file(name).read_text(encoding="utf-8"))):
        parts = target.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1) if module_file(".".join(parts[:i])))
    return frozenset(found)


def task_names() -> list[str]:
    return sorted(p.parent.name for p in (SRC / "archlab/tasks").glob("*/__init__.py"))


@cache
def common_task_files() -> frozenset[str]:
    """The file names every task package has (its `__init__.py` and the parts): templated with `${task}`. A
    module only one task has is a dep by its own path (it is there whatever the task)."""
    packages = [p.parent for p in (SRC / "archlab/tasks").glob("*/__init__.py")]
    return frozenset.intersection(*(frozenset(f.name for f in package.glob("*.py")) for package in packages))


def zoo_names() -> list[str]:
    return sorted(p.stem for p in (SRC / "archlab/architectures/zoo").glob("*.py") if p.stem != "__init__")


def closure(script: Path, *, task: str, arch: str | None) -> set[str]:
    """Every archlab module a stage script runs: its imports, theirs, and the plugins chosen at run time."""
    dynamic = {"archlab.tasks": [f"archlab.tasks.{task}"], **RUNS_BY_PATH}
    if arch is not None:
        trained = zoo_names() if arch == ALL_ARCHITECTURES else [arch]
        dynamic["archlab.architectures.registry"] = [f"archlab.architectures.zoo.{a}" for a in trained]
    todo = {name for name in imported_names(ast.parse(script.read_text(encoding="utf-8"))) if module_file(name)}
    todo |= {".".join(name.split(".")[:i]) for name in set(todo) for i in range(1, name.count(".") + 1)}
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo |= set(imports_of(name)) - seen
        todo |= {m for m in dynamic.get(name, []) if module_file(m)} - seen
        todo |= {f"archlab.tasks.{task}.{part}" for part in parts_called(name)
                 if module_file(f"archlab.tasks.{task}.{part}")} - seen
    return seen


def _path(module: str) -> str:
    return module_file(module).relative_to(ROOT).as_posix()


def code_deps(cmd: str) -> list[str]:
    """A stage's code deps (dvc.yaml form, templated where the task or the trained architecture is a param)."""
    script = re.search(r"python (stages/\w+\.py)", cmd)
    if script is None:
        raise ValueError(f"no `python stages/<name>.py` in the stage command {cmd!r}")
    templated_arch = "--arch ${item}" in cmd
    learning_curve = script.group(1) == "stages/learning_curve.py"
    archs = zoo_names() if templated_arch else [ALL_ARCHITECTURES if learning_curve else None]
    deps: set[str] = {script.group(1)}
    for task in task_names():
        own_task = f"src/archlab/tasks/{task}/"
        for arch in archs:
            for path in map(_path, closure(ROOT / script.group(1), task=task, arch=arch)):
                if path.startswith(own_task) and path.removeprefix(own_task) in common_task_files():
                    deps.add(f"{TASK_DIR}/{path.removeprefix(own_task)}")
                elif templated_arch and path == f"{ZOO}/{arch}.py":
                    deps.add(ARCH_DEP)
                elif learning_curve and path.startswith(f"{ZOO}/"):
                    deps.add(ZOO)
                else:
                    deps.add(path)
    return [script.group(1)] + sorted(deps - {script.group(1)})


def stage_bodies(document) -> dict[str, dict]:
    """Each stage of dvc.yaml by name: its own mapping, or its `do:` block for a `foreach` group."""
    return {name: stage.get("do", stage) for name, stage in document["stages"].items()}


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def generated(text: str) -> str:
    """dvc.yaml's text with every stage's code deps replaced by `code_deps` (everything else as it was)."""
    yaml = _yaml()
    document = yaml.load(text)
    for body in stage_bodies(document).values():
        others = [dep for dep in body.get("deps", []) if not (isinstance(dep, str) and dep.startswith(CODE_PREFIXES))]
        deps = body["deps"]
        del deps[:]
        deps.extend(code_deps(" ".join(str(body["cmd"]).split())) + others)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def main(argv: list[str]) -> int:
    current = DVC_YAML.read_text(encoding="utf-8")
    wanted = generated(current)
    if "--check" in argv:
        if wanted != current:
            print("dvc.yaml: the stages' code deps are stale; run `make deps`", file=sys.stderr)  # noqa: T201
            return 1
        return 0
    if wanted != current:
        DVC_YAML.write_text(wanted, encoding="utf-8")
        print("dvc.yaml: code deps rewritten (the next `dvc repro` re-runs every stage whose deps changed)")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
