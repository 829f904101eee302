"""A stage's MLflow run from start to end: tags, the run context (FINISHED, FAILED or KILLED, never left RUNNING),
a server lost mid-run, and child runs (tuning trials) with their epochs."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from archlab.params import Params
from archlab.tracking.clock import now_ms, timed
from archlab.tracking.pipeline import _process_tag, close_orphaned_runs, pipeline_run_id
from archlab.tracking.records import flatten_params
from archlab.tracking.store import check_server, configure

log = logging.getLogger(__name__)


@timed
def log_child_run(parent_run_id: str, *, run_name: str, params: dict, history: list[dict[str, float]], status: str,
                  tags: dict[str, str]) -> str:
    """A finished child run under `parent_run_id` (a tuning trial): its params, one step per epoch, its end status.

    Returns:
        the child's run id.
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient()
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    child = client.create_run(experiment_id, run_name=run_name,
                              tags={"mlflow.parentRunId": parent_run_id, **run_tags(tags)})
    now = now_ms()
    metrics = [Metric(key, float(value), now, step) for step, row in enumerate(history, 1)
               for key, value in row.items() if value is not None and math.isfinite(float(value))]
    flat = [Param(key, value[:6000]) for key, value in flatten_params(params).items()]
    for start in range(0, len(flat), 100):  # MLflow's batch limits: 100 params, 1,000 metrics
        client.log_batch(child.info.run_id, params=flat[start:start + 100])
    for start in range(0, len(metrics), 1000):
        client.log_batch(child.info.run_id, metrics=metrics[start:start + 1000])
    client.set_terminated(child.info.run_id, status)
    return child.info.run_id


class EpochLogger:
    """Logs each epoch's metrics in one batched call; non-main phases get a prefix (`pretrain_loss`)."""

    MAIN_PHASES = ("train", "classifier", "head", "finetune")  # classifier phases share one continuous series

    def __init__(self, run_id: str):
        self.run_id = run_id

    @timed
    def __call__(self, phase: str, epoch: int, metrics: dict[str, float]) -> None:
        from mlflow import MlflowClient
        from mlflow.entities import Metric

        prefix = "" if phase in self.MAIN_PHASES else f"{phase}_"
        now = now_ms()
        # synchronous on purpose: MLflow's async queue measured slower here (its thread pool and the final flush
        # cost more than the ~10 ms a batched SQLite write takes per epoch; see reports/bench.md)
        MlflowClient().log_batch(self.run_id, metrics=[
            Metric(f"{prefix}{key}", float(value), now, epoch) for key, value in metrics.items()])


def run_tags(tags: dict[str, str]) -> dict[str, str]:
    """Who owns the run (host and process: how orphans are found), which pipeline execution and DVC experiment."""
    import socket

    experiment = {"archlab.dvc_experiment": os.environ["DVC_EXP_NAME"]} if os.environ.get("DVC_EXP_NAME") else {}
    return {"archlab.host": socket.gethostname(), "archlab.process": _process_tag(),
            "archlab.pipeline_run_id": pipeline_run_id(), **experiment, **tags}


@contextmanager
def run(params: Params, *, run_name: str, tags: dict[str, str], project_root: str | Path = "."):
    """Start an MLflow run that always ends: FINISHED, FAILED on an error, KILLED on Ctrl-C or SIGTERM."""
    active = start_run(params, run_name, run_tags(tags), project_root)
    try:
        yield active
    except BaseException as exc:
        lost = end_after_error(exc, active.info.run_id, end_run, server_lost)
        if lost:
            raise lost from exc
        raise
    end_run("FINISHED")


def end_after_error(exc: BaseException, run_id: str, end: Callable[[str], object],
                    find_lost_server: Callable[[], BaseException | None]) -> BaseException | None:
    """End a run whose block raised `exc`: KILLED on a stop (Ctrl-C, SIGTERM), else FAILED.

    Shared by `run` and the train stage's MLflow worker (`archlab.tracking_worker`), which pass how they end a run and
    look for a lost server. Returns the TrackingUnavailable to raise instead of `exc` when the store is a server
    that stopped answering, else None (re-raise `exc`).
    """
    from archlab.interrupts import was_stopped

    stopped = was_stopped(exc)
    try:
        end("KILLED" if stopped else "FAILED")
    except Exception as end_error:  # the store itself is what failed; the next run closes this one as KILLED
        log.warning("could not end MLflow run %s: %s", run_id, str(end_error).splitlines()[0])
    return None if stopped else find_lost_server()


def server_lost():
    """A TrackingUnavailable naming the server when an http(s) store no longer answers, else None."""
    import mlflow

    from archlab.errors import TrackingUnavailable

    uri = mlflow.get_tracking_uri()
    try:
        check_server(uri)
    except TrackingUnavailable:
        return TrackingUnavailable(
            f"MLflow tracking server {uri} stopped answering during this run; nothing was published. Re-run the "
            "stage when the server is back: training resumes from its last checkpoint, and the run left RUNNING "
            "on the server is marked KILLED.")
    return None


@timed
def end_run(status: str) -> None:
    import mlflow

    mlflow.end_run(status=status)


@timed
def start_run(params: Params, run_name: str, tags: dict[str, str], project_root: str | Path):
    """Configure the store, close orphaned runs, start the run; `tags` complete (`run_tags`)."""
    import mlflow

    experiment_id = configure(params, project_root)
    close_orphaned_runs(experiment_id)
    return mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags)
