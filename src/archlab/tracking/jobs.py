"""Runs that record a whole job (`archlab retrain`) rather than a stage, and reading their JSON artifacts back."""

from __future__ import annotations

from pathlib import Path

from archlab.params import Params
from archlab.tracking.clock import timed
from archlab.tracking.runs import run_tags
from archlab.tracking.store import configure


@timed
def record_job(params: Params, *, run_name: str, tags: dict[str, str], metrics: dict[str, float],
               files: list[Path], status: str) -> str:
    """Log a finished job (a retrain) as one short run ending in `status` (FINISHED or FAILED); returns its id."""
    import contextlib
    import sys

    import mlflow

    experiment_id = configure(params)
    # MLflow prints "View run ... at: <url>" on stdout when a server is in use; stdout is the job's --json output
    with contextlib.redirect_stdout(sys.stderr):
        active = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=run_tags(tags))
        try:
            mlflow.log_metrics(metrics)
            for path in files:
                mlflow.log_artifact(str(path), artifact_path="report")
        except BaseException:
            mlflow.end_run(status="FAILED")
            raise
        mlflow.end_run(status=status)
    return active.info.run_id


@timed
def run_json_artifact(run_id: str, name: str) -> dict | None:
    """A JSON artifact of a run, or None if the run has none (a model trained before archlab logged it)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{name}")
    except (MlflowException, OSError, ValueError):
        return None
