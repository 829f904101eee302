"""The one place that talks to MLflow: tracking URI, experiment, runs.

The tracking URI comes from params (`mlflow.tracking_uri`) unless `MLFLOW_TRACKING_URI` is set, so a team can
point the same pipeline at a shared server without editing params.yaml. A relative SQLite path is anchored at the
project root, so a stage started from any folder writes to the same `mlflow.db`; a queued `dvc exp run` runs in a
temporary copy under .dvc/tmp/exps, and there the anchor is the real project (DVC's `DVC_ROOT`), so its runs land
in the project's store instead of vanishing with the copy.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from archlab.params import Params

log = logging.getLogger(__name__)

SQLITE_PREFIX = "sqlite:///"
_clock = {"seconds": 0.0, "depth": 0}  # time inside this module's MLflow calls, this process (nested calls once)


def timed(fn):
    """Count the wall time of an MLflow-calling function into `seconds_in_mlflow()` (the benchmark's MLflow cost)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _clock["depth"] += 1
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _clock["depth"] -= 1
            if _clock["depth"] == 0:
                _clock["seconds"] += time.perf_counter() - started

    return wrapper


def seconds_in_mlflow() -> float:
    """Seconds this process has spent in MLflow calls made through this module (import included)."""
    return _clock["seconds"]


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


DATASET_ATTEMPTS = 3
DUPLICATE_KEY = ("duplicate key value violates unique constraint", "UNIQUE constraint failed")
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
    raise TrackingUnavailable(f"MLflow tracking server {uri} is not reachable ({reason}); start it (README "
                              "\"Team set-up\") or unset MLFLOW_TRACKING_URI to use the local SQLite store")


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
        experiment = mlflow.set_experiment(experiment_name(params))
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
        return mlflow.set_experiment(name)


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


@timed
def log_params(values: dict) -> None:
    import mlflow

    mlflow.log_params(values)


@timed
def log_metrics(values: dict[str, float]) -> None:
    import mlflow

    mlflow.log_metrics(values)


@timed
def set_tags(values: dict[str, str]) -> None:
    import mlflow

    mlflow.set_tags(values)


@timed
def log_artifacts(paths: list[Path], artifact_path: str) -> None:
    import mlflow

    for path in paths:
        mlflow.log_artifact(str(path), artifact_path=artifact_path)


@timed
def log_dict(value: dict, name: str) -> None:
    import mlflow

    mlflow.log_dict(value, name)


@timed
def log_dataset(frame, *, source: str, name: str, digest: str, context: str) -> None:
    """Record the data a run used as an MLflow dataset input (shown in the UI's Datasets column)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    dataset = mlflow.data.from_pandas(frame, source=source, name=name, digest=digest)
    for attempt in range(DATASET_ATTEMPTS):
        try:
            mlflow.log_input(dataset, context=context)
            return
        except MlflowException as exc:
            # Parallel runs (queued `dvc exp` against one server) insert the same dataset at the same moment: the
            # loser's insert violates the store's unique key. The dataset now exists; linking it again succeeds.
            if attempt + 1 == DATASET_ATTEMPTS or not any(text in str(exc) for text in DUPLICATE_KEY):
                raise
            log.info("dataset %s was being created by a parallel run; linking it again", name)
            time.sleep(0.2 * (attempt + 1))


@timed
def log_pyfunc_model(model_path: Path, info_path: Path, example, output, *, validate: bool = True) -> str:
    """Log a model file as an archlab pyfunc with signature and input example; returns the model URI.

    Args:
        example: two samples as serving receives them (the task's `pyfunc_example`).
        output: the model's answer to them (the task's `output_frame`), the signature's output schema.
        validate: let MLflow load the logged model and answer `example` (its serving-input check). False when the
            caller already got `output` from the saved model file (the train stage's MLflow worker, which would
            otherwise import TensorFlow only for this).
    """
    import mlflow

    import archlab

    signature = mlflow.models.infer_signature(example, output)
    with _no_requirement_mismatch_scan(), _serving_input_check(validate):
        logged = mlflow.pyfunc.log_model(
            name="model", python_model=str(Path(archlab.__file__).parent / "pyfunc_entry.py"),
            artifacts={"model": str(model_path), "info": str(info_path)},
            code_paths=[str(Path(archlab.__file__).parent)],
            signature=signature, input_example=example, pip_requirements=_requirements())
    return logged.model_uri


@contextmanager
def _no_requirement_mismatch_scan():
    """Skip MLflow's check that the running environment satisfies the model's requirements.

    The requirements are `_requirements()`: the exact versions installed in this very environment, so the check
    cannot fail; it costs ~1 s a model (it maps every installed distribution to its modules). MLflow's
    serving-input validation still runs: the logged model is loaded and answers its input example.
    """
    from mlflow.utils import requirements_utils

    # Logging calls it twice: when saving, and when MLflow loads the saved model to validate the input example.
    original = getattr(requirements_utils, "_check_requirement_satisfied", None)
    if original is None:  # a later MLflow renamed it: nothing to skip
        yield
        return
    requirements_utils._check_requirement_satisfied = lambda requirement: None
    try:
        yield
    finally:
        requirements_utils._check_requirement_satisfied = original


@contextmanager
def _serving_input_check(enabled: bool):
    """MLflow's serving-input check (load the logged model, answer the input example), unless not `enabled`."""
    from mlflow.models import utils as model_utils

    original = getattr(model_utils, "_validate_serving_input", None)
    if enabled or original is None:  # a later MLflow renamed it: the check runs, slower but still right
        yield
        return
    model_utils._validate_serving_input = lambda model_uri, serving_input: None
    try:
        yield
    finally:
        model_utils._validate_serving_input = original


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
    return int(time.time() * 1000)
