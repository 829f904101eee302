"""`dvc repro` as a child of the retrain job: output passed through, stages that ran collected, a stop forwarded.

The child stays in the job's process group, so a scheduler that kills the group (systemd does by default) takes
the whole pipeline down with the job; the next job finds the flock free and DVC re-runs what did not finish.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections import deque
from pathlib import Path

from archlab.errors import PipelineFailed

log = logging.getLogger(__name__)
RUNNING = re.compile(r"Running stage '([^']+)'")
TAIL_LINES = 40
STOP_GRACE_S = 60


def repro(root: Path, env: dict[str, str], *, dry: bool = False) -> list[str]:
    """Run `dvc repro` (or a dry run) in `root`; returns the stages it ran (or would at most run), in order.

    Raises:
        PipelineFailed: DVC exited non-zero; the message carries the last lines of its output.
    """
    # --force-downstream: a dry run cannot know which outputs will change, so it lists everything below a change
    cmd = ["dvc", "repro", *(["--dry", "--force-downstream"] if dry else [])]
    ran: list[str] = []
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                bufsize=1)
    except FileNotFoundError:
        raise PipelineFailed("`dvc` was not found on PATH; run `make setup` and use .venv/bin/archlab") from None
    try:
        for line in proc.stdout:
            if not dry:
                sys.stderr.write(line)
            tail.append(line.rstrip())
            match = RUNNING.search(line)
            if match:
                ran.append(match.group(1))
        code = proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        raise
    if code != 0:
        raise PipelineFailed(f"`{' '.join(cmd)}` exited {code} after running {ran or 'no stage'}; the champion "
                             "is unchanged. Last output:\n  " + "\n  ".join(tail))
    return ran


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the child tree (stages end their MLflow runs KILLED), then SIGKILL whatever is left."""
    import psutil

    try:
        tree = [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]
    except psutil.NoSuchProcess:
        return
    for process in tree:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(tree, timeout=STOP_GRACE_S)
    for process in alive:
        process.kill()
    log.warning("stopped `dvc repro` (%d processes)", len(tree))
