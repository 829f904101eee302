"""MLflow model-registry calls, kept together as tracking.py keeps the run calls: versions, aliases, scoring.

Aliases on the project-level registered model (`<project>`): `champion` (serving), `previous` (the champion it
replaced: rollback target), `challenger` (the latest best candidate that did not win).
"""

from __future__ import annotations

import logging

import numpy as np

from archlab.errors import ArchlabError

log = logging.getLogger(__name__)
CHAMPION, PREVIOUS, CHALLENGER = "champion", "previous", "challenger"


def client():
    from mlflow import MlflowClient

    return MlflowClient()


def ensure_registered_model(name: str, description: str) -> None:
    """Create the registered model unless it exists; another process creating it at the same moment is fine."""
    from mlflow.exceptions import MlflowException

    c = client()
    try:
        c.get_registered_model(name)
    except MlflowException:
        try:
            c.create_registered_model(name, description=description)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # seen with parallel `dvc exp` runs on a server
                raise


def register_version(name: str, model_uri: str, run_id: str, *, description: str, tags: dict[str, str]):
    """Register `model_uri` under `name` once: a re-run of the same training run reuses its version."""
    import mlflow

    ensure_registered_model(name, description=f"archlab models: {name}")
    existing = client().search_model_versions(f"name='{name}' and run_id='{run_id}'")
    version = existing[0] if existing else mlflow.register_model(model_uri, name, tags=tags)
    client().update_model_version(name, version.version, description=description)
    for key, value in tags.items():
        client().set_model_version_tag(name, version.version, key, value)
    return client().get_model_version(name, version.version)


def alias_version(name: str, alias: str):
    """The version an alias points to, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return client().get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def set_alias(name: str, alias: str, version: str) -> None:
    client().set_registered_model_alias(name, alias, str(version))
    log.info("%s@%s -> version %s", name, alias, version)


def delete_alias(name: str, alias: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client().delete_registered_model_alias(name, alias)
    except MlflowException:
        pass


def score_version(name: str, version: str, images: np.ndarray, labels: np.ndarray, metric: str,
                  mase_scale: float = 1.0, judge=None) -> float:
    """Load a registered version through the registry (as serving would) and score it on the given samples.

    Classifiers are scored on `labels` by accuracy or macro-F1; forecasters (metric rmse, mae or mase) on the
    target windows `labels` (N, horizon); generators (caption_match) on caption tokens `images`, their drawings
    labelled by `judge` = (classifier, image shape).

    Raises:
        ArchlabError: the version cannot be loaded or cannot predict.
    """
    import mlflow
    from sklearn.metrics import accuracy_score, f1_score

    uri = f"models:/{name}/{version}"
    try:
        model = mlflow.pyfunc.load_model(uri)
        output = model.predict(images.astype(np.int32 if metric == "caption_match" else np.float32))
        predicted = output.to_numpy(dtype=np.float64) if metric in ("rmse", "mae", "mase", "caption_match") else \
            output["label"].to_numpy()
    except Exception as exc:  # noqa: BLE001 - any load or predict failure disqualifies the version
        raise ArchlabError(f"{uri} failed to load or predict: {type(exc).__name__}: {exc}") from None
    if metric == "caption_match":
        from archlab.evaluation.generation import judged_match

        classifier, shape = judge
        if predicted.shape[1:] != (int(np.prod(shape)),):
            raise ArchlabError(f"{uri} draws {predicted.shape[1]} pixels per image, expected {shape}")
        return float(judged_match(classifier, predicted.reshape(len(predicted), *shape), labels).mean())
    if metric in ("rmse", "mae", "mase"):
        from archlab.evaluation.forecast import forecast_errors

        if predicted.shape != labels.shape:
            raise ArchlabError(f"{uri} forecasts shape {predicted.shape}, expected {labels.shape}")
        return float(forecast_errors(labels, predicted, mase_scale)[metric])
    if metric == "macro_f1":
        return float(f1_score(labels, predicted, average="macro"))
    return float(accuracy_score(labels, predicted))
