"""DVC deps that cannot go stale: every stage depends on all the archlab code it runs.

For each stage of dvc.yaml, resolved by DVC itself with each params file of the project, the test follows the
stage script's `archlab` imports (transitively, imports inside functions included, and the parent packages each
import runs) and fails when a reached module is not covered by one of the stage's deps (the file itself or a
folder above it).

Plugins are found at run time, not imported by name, so the test follows them the way the code does:
- `archlab.tasks` imports the package of the params file's task only (`tasks.get(params.task)`);
- `archlab.architectures.registry` trains the zoo module of the stage's `--arch` (params validation imports
  every zoo module to check its `train.<name>` block, but only the trained one's builder shapes the outputs);
- `archlab.tracking` logs `pyfunc_entry.py` by path as every model's entry point.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT, subprocess_env

SRC = ROOT / "src"
PARAMS_FILES = [ROOT / "params.yaml", *sorted((ROOT / "params").glob("*.yaml"))]
RUNS_BY_PATH = {"archlab.tracking": ["archlab.pyfunc_entry"]}


def module_file(name: str) -> Path | None:
    """The source file of an archlab module or package, or None when `name` is not one (an attribute)."""
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def imports_of(name: str) -> frozenset[str]:
    """The archlab modules `name` imports anywhere in its file, with the parent packages each import runs."""
    tree = ast.parse(module_file(name).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for target in targets:
            if not target.startswith("archlab"):
                continue
            parts = target.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1) if module_file(".".join(parts[:i])))
    return frozenset(found)


def closure(script: Path, *, task: str, arch: str | None) -> set[str]:
    """Every archlab module a stage script runs: its imports, theirs, and the plugins chosen at run time."""
    dynamic = {"archlab.tasks": [f"archlab.tasks.{task}"], **RUNS_BY_PATH}
    if arch is not None:
        dynamic["archlab.architectures.registry"] = [f"archlab.architectures.zoo.{arch}"]
    tree = ast.parse(script.read_text(encoding="utf-8"))
    todo = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    todo |= {f"{node.module}.{a.name}" for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.module for a in node.names}
    todo |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    todo = {t for t in todo if t.startswith("archlab") and module_file(t)}
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo |= set(imports_of(name)) - seen
        todo |= {m for m in dynamic.get(name, []) if module_file(m)} - seen
    return seen


def resolved_stages(params_file: Path, tmp_path: Path) -> list[tuple[str, str, list[str]]]:
    """(stage name, cmd, dep paths) of every stage, as DVC resolves dvc.yaml with this params file."""
    repo = tmp_path / params_file.stem
    repo.mkdir()
    shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
    shutil.copy(params_file, repo / "params.yaml")
    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=repo, check=True, env=subprocess_env())
    script = ("import json\nfrom dvc.repo import Repo\nrepo = Repo('.')\n"
              "print(json.dumps([[s.addressing, s.cmd, [d.def_path for d in s.deps]] for s in repo.index.stages]))")
    out = subprocess.run(["python", "-c", script], cwd=repo, check=True, capture_output=True, text=True,
                         env=subprocess_env())
    import json

    return json.loads(out.stdout)


def uncovered(stage_cmd: str, deps: list[str], task: str) -> list[str]:
    """The files of the modules the stage runs that none of its deps covers."""
    script = re.search(r"python (stages/\w+\.py)", stage_cmd)
    assert script, f"no stage script in {stage_cmd!r}"
    arch = re.search(r"--arch (\w+)", stage_cmd)
    modules = closure(ROOT / script.group(1), task=task, arch=arch.group(1) if arch else None)
    dep_paths = [(ROOT / d).resolve() for d in deps]
    files = sorted({module_file(m).relative_to(ROOT).as_posix() for m in modules})
    return [f for f in files if not any((ROOT / f).resolve() == d or d in (ROOT / f).resolve().parents
                                        for d in dep_paths)]


@pytest.mark.parametrize("params_file", PARAMS_FILES, ids=[p.name for p in PARAMS_FILES])
def test_every_stage_depends_on_all_the_archlab_code_it_runs(params_file, tmp_path):
    import yaml

    task = (yaml.safe_load(params_file.read_text()) or {}).get("task", "image_classification")
    missing = {name: uncovered(cmd, deps, task) for name, cmd, deps in resolved_stages(params_file, tmp_path)}
    missing = {name: files for name, files in missing.items() if files}
    assert not missing, (f"dvc.yaml with {params_file.name}: stages that run code they do not depend on (DVC would "
                         f"serve a stale cached result after that code changes): {missing}")


def test_the_follower_sees_imports_inside_functions_and_the_chosen_plugins():
    """The checker itself: a stage's closure holds lazily imported modules and only the chosen task and zoo file."""
    train = closure(ROOT / "stages/train.py", task="forecasting", arch="lstm")
    assert {"archlab.tasks.forecasting", "archlab.architectures.zoo.lstm", "archlab.training.fit",
            "archlab.pyfunc_entry"} <= train
    assert "archlab.tasks.tabular_classification" not in train and "archlab.architectures.zoo.cnn" not in train
    ingest = closure(ROOT / "stages/ingest.py", task="tabular_classification", arch=None)
    assert "archlab.tasks.tabular_classification.ingest" in ingest  # imported inside a method
    assert not any(m.startswith("archlab.architectures.zoo.") for m in ingest)


def test_a_stage_missing_a_dep_is_reported(tmp_path):
    """Drop one dep the train stage needs from a copy of dvc.yaml: the check names the stage and the file."""
    stages = {name: (cmd, deps) for name, cmd, deps in resolved_stages(ROOT / "params.yaml", tmp_path)}
    cmd, deps = stages["train@cnn"]
    assert uncovered(cmd, deps, "image_classification") == []
    kept = [d for d in deps if d != "src/archlab/architectures/zoo/${item}.py" and not d.endswith("zoo/cnn.py")]
    assert uncovered(cmd, kept, "image_classification") == ["src/archlab/architectures/zoo/cnn.py"]
