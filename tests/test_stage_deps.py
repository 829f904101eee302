"""DVC deps that cannot go stale: every stage depends on all the archlab code it runs, and on nothing else.

dvc.yaml's code deps are written by `make deps` (scripts/stage_deps.py, which says how plugins are followed); the
first test fails when they differ from what it writes, the others check the generated deps against DVC's own
resolution with every params file.

For each stage of dvc.yaml, resolved by DVC itself with each params file of the project, the test follows the
stage script's `archlab` imports (transitively, imports inside functions included, and the parent packages each
import runs) and fails when a reached module is not covered by one of the stage's deps (the file itself or a
folder above it).

Plugins are found at run time, not imported by name, so the test follows them the way the code does:
- `archlab.tasks` imports the package of the params file's task only (`tasks.get(params.task)`);
- `archlab.architectures.registry` trains the zoo module of the stage's `--arch` (params validation imports
  every zoo module to check its `train.<name>` block, but only the trained one's builder shapes the outputs);
- `archlab.tracking.pyfunc` logs `pyfunc_entry.py` by path as every model's entry point.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.stage_deps import closure, code_deps, generated, imported_names, module_file
from tests.conftest import ROOT, subprocess_env

# params.yaml (the default pipeline) in the quick lane; the task examples' resolutions in the full suite
PARAMS_FILES = [pytest.param(ROOT / "params.yaml", id="params.yaml"),
                *(pytest.param(p, marks=pytest.mark.slow, id=p.name) for p in sorted((ROOT / "params").glob("*.yaml")))]


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


def test_dvc_yaml_code_deps_are_the_generated_ones():
    """No missing and no extra code dep: dvc.yaml is what `make deps` writes."""
    current = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    assert generated(current) == current, "dvc.yaml's code deps are stale: run `make deps` and commit dvc.yaml"


def test_an_edited_dep_list_is_regenerated_and_type_only_imports_are_left_out():
    current = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    script = "      - stages/evaluate.py\n"
    extra = current.replace(script, script + "      - src/archlab/cli.py\n", 1)
    missing = current.replace("      - src/archlab/evaluation/claims.py\n", "", 1)
    assert extra != current != missing
    assert generated(extra) == current and generated(missing) == current
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from archlab.params import Params\n"
                     "def f():\n    from archlab import modelio\n")
    assert imported_names(tree) == {"archlab", "archlab.modelio"}
    evaluate = code_deps("python stages/evaluate.py --params params.yaml")
    assert evaluate[0] == "stages/evaluate.py" and "src/archlab/tasks/${task}/evaluate.py" in evaluate
    assert "src/archlab/tasks/${task}/ingest.py" not in evaluate  # only the stage's own part of the task
    assert "src/archlab/architectures/zoo/cnn.py" not in evaluate and not any("${item}" in d for d in evaluate)
    train = code_deps("python stages/train.py --arch ${item}")
    assert "src/archlab/architectures/zoo/${item}.py" in train and "src/archlab/architectures/zoo/cnn.py" not in train


def test_a_change_re_runs_exactly_the_stages_that_run_the_changed_code(tmp_path):
    """The issue's three checks on dvc.yaml as DVC resolves it with params.yaml (`dvc status` after a real edit:
    the closing note)."""
    stages = resolved_stages(ROOT / "params.yaml", tmp_path)

    def depending_on(path: str) -> set[str]:
        return {name for name, _, deps in stages if any(path == d or path.startswith(d.rstrip("/") + "/")
                                                         for d in deps)}

    assert depending_on("src/archlab/evaluation/claims.py") == {"evaluate"}
    assert depending_on("src/archlab/architectures/zoo/cnn.py") == {"tune@cnn", "train@cnn", "learning_curve"}
    assert depending_on("src/archlab/tasks/image_classification/ingest.py") == {"ingest"}


@pytest.mark.parametrize("params_file", PARAMS_FILES)
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
