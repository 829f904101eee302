"""What a run records: params (flattened), metrics, tags, artifacts, dicts and datasets, each retried where MLflow's
stores race."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from archlab.tracking.clock import timed

log = logging.getLogger(__name__)


DATASET_ATTEMPTS = 3


DUPLICATE_KEY = ("duplicate key value violates unique constraint", "UNIQUE constraint failed")


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
