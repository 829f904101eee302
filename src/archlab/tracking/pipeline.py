"""One id per `dvc repro` (every stage's run carries it), and the clean-up of runs a killed stage left RUNNING."""

from __future__ import annotations

import logging
import os

from archlab.tracking.clock import timed

log = logging.getLogger(__name__)


def pipeline_run_id() -> str:
    """An id shared by every stage of one `dvc repro` (or `dvc exp run`), so the UI can filter one execution.

    `ARCHLAB_PIPELINE_RUN_ID` wins; otherwise the id is derived from the DVC process this stage runs under (its pid
    and start time), which every stage of one execution shares; a stage run by hand gets a fresh id.
    """
    import hashlib
    import uuid

    import psutil

    explicit = os.environ.get("ARCHLAB_PIPELINE_RUN_ID")
    if explicit:
        return explicit
    for parent in psutil.Process().parents():
        try:
            cmdline = " ".join(parent.cmdline())
        except psutil.Error:
            continue
        if "dvc" in cmdline and any(verb in cmdline for verb in (" repro", " exp ", " queue")):
            key = f"{parent.pid}:{parent.create_time()}"
            return "dvc-" + hashlib.blake2b(key.encode(), digest_size=6).hexdigest()
    return "manual-" + uuid.uuid4().hex[:12]


def _process_tag() -> str:
    import psutil

    me = psutil.Process()
    return f"{me.pid}:{me.create_time()}"


def _is_alive(process_tag: str) -> bool:
    import psutil

    try:
        pid, created = process_tag.split(":", 1)
        return psutil.Process(int(pid)).create_time() == float(created)
    except (ValueError, psutil.Error):
        return False


@timed
def close_orphaned_runs(experiment_id: str) -> list[str]:
    """Mark KILLED the RUNNING runs whose process on this host is gone (a SIGKILL leaves no chance to do it)."""
    import socket

    from mlflow import MlflowClient

    client = MlflowClient()
    closed = []
    runs = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000)
    for run in runs:
        tags = run.data.tags
        if tags.get("archlab.host") == socket.gethostname() and not _is_alive(tags.get("archlab.process", "")):
            client.set_terminated(run.info.run_id, status="KILLED")
            closed.append(run.info.run_id)
            log.warning("run %s (%s) was left RUNNING by a killed process; marked KILLED",
                        run.info.run_id, run.info.run_name)
    return closed
