"""The one place that talks to MLflow: tracking URI, experiment, runs.

The tracking URI comes from params (`mlflow.tracking_uri`) unless `MLFLOW_TRACKING_URI` is set, so a team can
point the same pipeline at a shared server without editing params.yaml. A relative SQLite path is anchored at the
project root, so a stage started from any folder writes to the same `mlflow.db`.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

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


def _quiet_known_warnings() -> None:
    """MLflow warns on every run about choices archlab made on purpose; keep the stage logs readable."""
    import warnings

    warnings.filterwarnings("ignore", message=".*dataset source can be interpreted in multiple ways.*")
    warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column.*")
    warnings.filterwarnings("ignore", module="mlflow.pyfunc.utils.data_validation")


def experiment_name(params: Params) -> str:
    """One experiment per project: `mlflow.experiment` if set, else the project name."""
    return params.mlflow.experiment or params.project.name


def configure(params: Params, project_root: str | Path = ".") -> str:
    """Point MLflow at the project's store and experiment; returns the experiment id."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow  # deferred: importing MLflow costs seconds that `archlab --help` should not pay

    _quiet_known_warnings()
    uri = resolve_tracking_uri(params, project_root)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment(experiment_name(params))
    log.info("MLflow tracking at %s, experiment %r", uri, experiment.name)
    return experiment.experiment_id


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


def flatten_params(values: dict, prefix: str = "") -> dict[str, str]:
    """Nested params as MLflow params: dotted keys, lists as their JSON-ish text."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_params(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


class EpochLogger:
    """Logs each epoch's metrics in one batched call; non-main phases get a prefix (`pretrain_loss`)."""

    MAIN_PHASES = ("train", "classifier", "head", "finetune")  # classifier phases share one continuous series

    def __init__(self, run_id: str):
        self.run_id = run_id

    def __call__(self, phase: str, epoch: int, metrics: dict[str, float]) -> None:
        import time

        from mlflow import MlflowClient
        from mlflow.entities import Metric

        prefix = "" if phase in self.MAIN_PHASES else f"{phase}_"
        now = int(time.time() * 1000)
        MlflowClient().log_batch(self.run_id, metrics=[
            Metric(f"{prefix}{key}", float(value), now, epoch) for key, value in metrics.items()])


@contextmanager
def run(params: Params, *, run_name: str, tags: dict[str, str], project_root: str | Path = "."):
    """Start an MLflow run that always ends: FINISHED, FAILED on an error, KILLED on Ctrl-C or SIGTERM."""
    import socket

    import mlflow

    experiment_id = configure(params, project_root)
    close_orphaned_runs(experiment_id)
    all_tags = {"archlab.host": socket.gethostname(), "archlab.process": _process_tag(),
                "archlab.pipeline_run_id": pipeline_run_id(), **tags}
    active = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=all_tags)
    try:
        yield active
    except KeyboardInterrupt:
        mlflow.end_run(status="KILLED")
        raise
    except BaseException:
        mlflow.end_run(status="FAILED")
        raise
    mlflow.end_run(status="FINISHED")


def log_dataset(frame, *, source: str, name: str, digest: str, context: str) -> None:
    """Record the data a run used as an MLflow dataset input (shown in the UI's Datasets column)."""
    import mlflow

    dataset = mlflow.data.from_pandas(frame, source=source, name=name, digest=digest)
    mlflow.log_input(dataset, context=context)


def log_pyfunc_model(model_path: Path, info_path: Path, example: np.ndarray) -> str:
    """Log a model file as an archlab pyfunc with signature and input example; returns the model URI."""
    import mlflow

    import archlab
    from archlab.serving import predictions_frame

    example = example.astype(np.float32)
    info = json.loads(info_path.read_text())
    dummy = predictions_frame(np.full((len(example), len(info["class_names"])), 1.0 / len(info["class_names"])),
                              info["class_names"])
    signature = mlflow.models.infer_signature(example, dummy)
    logged = mlflow.pyfunc.log_model(
        name="model", python_model=str(Path(archlab.__file__).parent / "pyfunc_entry.py"),
        artifacts={"model": str(model_path), "info": str(info_path)},
        code_paths=[str(Path(archlab.__file__).parent)],
        signature=signature, input_example=example, pip_requirements=_requirements())
    return logged.model_uri


def _requirements() -> list[str]:
    """Pinned requirements of the serving environment (explicit: MLflow's inference would reload the model)."""
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for package in ("mlflow", "keras", "tensorflow", "scikit-learn", "skops", "numpy", "pandas", "pillow"):
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return pins


def now_ms() -> int:
    """MLflow timestamps: milliseconds since the epoch."""
    import time

    return int(time.time() * 1000)
