"""The one place that talks to MLflow: tracking URI, experiment, runs.

The tracking URI comes from params (`mlflow.tracking_uri`) unless `MLFLOW_TRACKING_URI` is set, so a team can
point the same pipeline at a shared server without editing params.yaml. A relative SQLite path is anchored at the
project root, so a stage started from any folder writes to the same `mlflow.db`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from archlab.params import Params

log = logging.getLogger(__name__)

SQLITE_PREFIX = "sqlite:///"


def resolve_tracking_uri(params: Params, project_root: str | Path = ".") -> str:
    """Return the tracking URI in force: the environment's, else params', relative SQLite made absolute."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or params.mlflow.tracking_uri
    if uri.startswith(SQLITE_PREFIX):
        db_path = uri[len(SQLITE_PREFIX):]
        if not db_path.startswith("/"):
            uri = SQLITE_PREFIX + str((Path(project_root) / db_path).resolve())
    return uri


def experiment_name(params: Params) -> str:
    """One experiment per project: `mlflow.experiment` if set, else the project name."""
    return params.mlflow.experiment or params.project.name


def configure(params: Params, project_root: str | Path = ".") -> str:
    """Point MLflow at the project's store and experiment; returns the experiment id."""
    import mlflow  # deferred: importing MLflow costs seconds that `archlab --help` should not pay

    uri = resolve_tracking_uri(params, project_root)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment(experiment_name(params))
    log.info("MLflow tracking at %s, experiment %r", uri, experiment.name)
    return experiment.experiment_id
