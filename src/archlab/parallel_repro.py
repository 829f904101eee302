"""`dvc repro` with the stages that do not depend on each other side by side (`archlab repro`, `make run`).

DVC runs a pipeline's stages one after another, so on a 2-core machine one core idles while a Keras model trains
(the default `make run`: 104% CPU). Here every stage is a `dvc --wait-for-lock repro --single-item <stage>` process
of its own, started once every stage it depends on has finished, up to `jobs` at a time: DVC itself decides whether
a stage changed, runs it and writes dvc.lock, exactly as `dvc repro` would. Its repository lock (`--wait-for-lock`:
wait, do not fail) serialises that bookkeeping and is released while a stage's command runs; its read/write locks
on the stages' paths refuse two stages writing one output. The first failure starts nothing new: the stages already
running finish (their outputs are complete and recorded), and the run exits 1 naming the stage.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from archlab.dvc_state import path_with_this_python
from archlab.errors import ArchlabError


class ReproFailed(ArchlabError):
    """A stage's `dvc repro` exited non-zero; the message names it and carries the end of its output."""

    exit_code = 1


@dataclass
class StageRun:
    """One stage's `dvc repro`: its name, exit code, output, and whether DVC ran it or found it unchanged."""

    name: str
    returncode: int
    output: str

    @property
    def ran(self) -> bool:
        return f"Running stage '{self.name}'" in self.output


def upstream_stages(root: Path) -> dict[str, set[str]]:
    """Every stage of the project at `root` (dvc.yaml's, imports' .dvc files) with the stages it depends on, as
    DVC's own graph has them. Reads the working folder's files: call it before starting threads."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:  # in `root`: a stage's address (`train@cnn`, `sub/dvc.yaml:stage`) is relative to the working folder
        with contextlib.chdir(root), Repo(".") as repo:
            graph = repo.index.graph  # an edge runs from a stage to a stage it depends on
            return {stage.addressing: {dep.addressing for dep in graph.successors(stage)} for stage in graph.nodes}
    except DvcException as exc:
        raise ArchlabError(f"{root}: DVC cannot read this project's pipeline: {exc}") from None


def downstream_counts(upstream: dict[str, set[str]]) -> dict[str, int]:
    """How many stages wait, directly or not, on each stage: the ready stage with most work behind it starts first,
    so a long chain does not start last and leave a core idle at the end."""
    import functools

    children = {name: [c for c, deps in upstream.items() if name in deps] for name in upstream}

    @functools.cache
    def below(name: str) -> frozenset[str]:
        return frozenset(children[name]).union(*(below(child) for child in children[name]))

    return {name: len(below(name)) for name in upstream}


def _repro_one(root: Path, name: str, env: dict[str, str]) -> StageRun:
    proc = subprocess.run([sys.executable, "-m", "dvc", "--wait-for-lock", "repro", "--single-item", name],
                          cwd=root, capture_output=True, text=True, env=env)
    return StageRun(name, proc.returncode, proc.stdout + proc.stderr)


def reproduce(root: Path, jobs: int, echo=print) -> list[StageRun]:
    """Bring every stage at `root` up to date, up to `jobs` stages at once; returns each stage's run in the order
    they finished. `echo` gets a line when a stage starts and its output when it ends.

    Raises:
        ReproFailed: a stage failed (the others that were running finished first).
    """
    if jobs < 1:
        raise ArchlabError(f"--jobs {jobs}: expected 1 or more stages at a time")
    upstream = upstream_stages(root)
    priority = downstream_counts(upstream)
    # one execution's MLflow runs share a pipeline id (archlab.tracking.pipeline): each stage here has a DVC process
    # of its own, so the id is chosen once and handed down, unless the caller chose it
    # and the stages' `python` is this install's, as for archlab's other DVC calls (`.venv/bin/archlab repro` works
    # without an activated venv)
    env = {**os.environ, "PATH": path_with_this_python(),
           "ARCHLAB_PIPELINE_RUN_ID": os.environ.get("ARCHLAB_PIPELINE_RUN_ID") or f"repro-{uuid.uuid4().hex[:12]}"}
    done: list[StageRun] = []
    running: dict[Future, str] = {}
    failed: StageRun | None = None  # the first stage that failed
    finished: set[str] = set()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while True:
            if not failed:
                ready = sorted((n for n in upstream if n not in finished and n not in running.values()
                                and upstream[n] <= finished), key=lambda n: (-priority[n], n))
                for name in ready[:jobs - len(running)]:
                    echo(f"starting stage '{name}'")
                    running[pool.submit(_repro_one, root, name, env)] = name
            if not running:
                break
            complete, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in complete:
                del running[future]
                result = future.result()
                echo(result.output.rstrip())
                done.append(result)
                finished.add(result.name)
                if result.returncode != 0 and failed is None:
                    failed = result
    if failed is not None:
        tail = "\n  ".join(failed.output.strip().splitlines()[-20:])
        raise ReproFailed(f"stage '{failed.name}' failed (`dvc repro --single-item {failed.name}` exited "
                          f"{failed.returncode} in {root}); no stage after it was started:\n  {tail}")
    return done
