"""Scratch copies of the project for the benchmark: a git + DVC repo holding the pipeline and a params file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bench.measure import ROOT, env

# metrics/cv/README.md: the folder of the cv@ stages' outputs, which evaluate reads even while compare is off
PIPELINE_FILES = ["dvc.yaml", "stages", "src", "data/raw/README.md", "metrics/cv/README.md", ".gitignore", "bench"]


def git_dvc(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout


def make(folder: Path, params_text: str) -> Path:
    """A fresh repo in `folder` (replaced if present) with this checkout's pipeline and the given params."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in PIPELINE_FILES:
        source, target = ROOT / name, folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    (folder / "params.yaml").write_text(params_text)
    for cmd in (["git", "init", "-q"], ["git", "config", "user.email", "bench@archlab.invalid"],
                ["git", "config", "user.name", "archlab bench"], ["dvc", "init", "-q"],
                ["dvc", "config", "core.analytics", "false"], ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "bench"]):
        git_dvc(cmd, folder)
    return folder
