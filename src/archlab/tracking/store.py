"""Where runs go: the tracking URI (params, or MLFLOW_TRACKING_URI; a relative SQLite path anchored at the project
root), a probe that fails in seconds when a server is down, and the experiment."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from archlab.params import Params
from archlab.tracking.clock import timed

log = logging.getLogger(__name__)


SQLITE_PREFIX = "sqlite:///"


def store_root(project_root: str | Path = ".") -> Path:
    """The folder relative store paths hang from: the project, or for a queued DVC experiment its parent project."""
    root = Path(project_root).resolve()
    dvc_root = os.environ.get("DVC_ROOT")
    if dvc_root and root.is_relative_to(Path(dvc_root).resolve() / ".dvc" / "tmp"):
        return Path(dvc_root).resolve()
    return root


def resolve_tracking_uri(params: Params, project_root: str | Path = ".") -> str:
    """Return the tracking URI in force: the environment's, else params', relative SQLite made absolute."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or params.mlflow.tracking_uri
    if uri.startswith(SQLITE_PREFIX):
        db_path = uri[len(SQLITE_PREFIX):]
        if not db_path.startswith("/"):
            uri = SQLITE_PREFIX + str(store_root(project_root) / db_path)
    return uri


def _quiet_known_warnings() -> None:
    """MLflow warns on every run about choices archlab made on purpose; keep the stage logs readable."""
    import warnings

    warnings.filterwarnings("ignore", message=".*dataset source can be interpreted in multiple ways.*")
    warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column.*")
    warnings.filterwarnings("ignore", module="mlflow.pyfunc.utils.data_validation")


def experiment_name(params: Params) -> str:
    """One experiment per project: `mlflow.experiment` if set, else the project name."""
    return params.mlflow.experiment or params.project.name


SERVER_PROBE_TIMEOUT_S = 5


# A server that dies mid-run fails the stage in about a minute, not after MLflow's default minutes of retries.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}


def check_server(uri: str) -> None:
    """Fail in seconds, naming the address, when an http(s) tracking server does not answer its health check.

    Raises:
        TrackingUnavailable: connection refused, timeout, or a non-200 answer.
    """
    import urllib.error
    import urllib.request

    from archlab.errors import TrackingUnavailable

    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=SERVER_PROBE_TIMEOUT_S) as answer:
            if answer.status == 200:
                return
            reason = f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        reason = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = str(getattr(exc, "reason", exc))
    raise TrackingUnavailable(f"MLflow tracking server {uri} is not reachable ({reason}); start it "
                              "(docs/team-and-faults.md) or unset MLFLOW_TRACKING_URI to use the local SQLite store")


@timed
def configure(params: Params, project_root: str | Path = ".") -> str:
    """Point MLflow at the project's store and experiment; returns the experiment id."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for key, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    uri = resolve_tracking_uri(params, project_root)
    check_server(uri)
    import mlflow  # deferred: importing MLflow costs seconds that `archlab --help` should not pay

    _quiet_known_warnings()
    mlflow.set_tracking_uri(uri)
    if uri.startswith(SQLITE_PREFIX):
        experiment = _sqlite_experiment(Path(uri[len(SQLITE_PREFIX):]), experiment_name(params))
    else:
        experiment = _mark_model_training(mlflow.set_experiment(experiment_name(params)))
    log.info("MLflow tracking at %s, experiment %r", uri, experiment.name)
    return experiment.experiment_id


def _sqlite_experiment(db_path: Path, name: str):
    """Set the experiment on a SQLite store that other processes may be writing to (see archlab.sqlite_store).

    A new experiment's artifacts go to `mlruns/` beside the database, wherever the stage runs from (MLflow's
    default is relative to the working folder, a temporary copy for a queued DVC experiment).
    """
    import mlflow

    from archlab import sqlite_store

    sqlite_store.harden_connections()
    with sqlite_store.first_use(db_path):
        if mlflow.get_experiment_by_name(name) is None:
            mlflow.create_experiment(name, artifact_location=(db_path.parent / "mlruns" / name).as_uri())
        return _mark_model_training(mlflow.set_experiment(name))


EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
def _mark_model_training(experiment):
    """Tag the experiment as model training (MLflow's own experiment kind), so the MLflow 3 UI opens it on its
    training runs instead of the GenAI overview ("Traces 0"). Written once, when the tag is missing."""
    import mlflow

    key, value = EXPERIMENT_KIND
    if experiment.tags.get(key) != value:
        mlflow.MlflowClient().set_experiment_tag(experiment.experiment_id, key, value)
    return experiment
