"""MLflow model-registry calls, kept together as tracking.py keeps the run calls: versions, aliases, scoring.

Aliases on the project-level registered model (`<project>`): `champion` (serving), `previous` (the champion it
replaced: rollback target), `challenger` (the latest best candidate that did not win).
"""

from __future__ import annotations

import logging

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


def score_version(name: str, version: str, scorer, metric) -> float:
    """Load a registered version through the registry (as serving would) and score it on the task's test inputs.

    Args:
        scorer: the task's `Scorer`: the inputs the pyfunc gets and how to score its output frame.
        metric: the `Metric` to score.

    Raises:
        ArchlabError: the version cannot be loaded, cannot predict, or answers in the wrong shape.
    """
    import mlflow

    uri = f"models:/{name}/{version}"
    try:
        model = mlflow.pyfunc.load_model(uri)
        output = model.predict(scorer.inputs)
        return float(scorer.score(output, metric))
    except Exception as exc:  # noqa: BLE001 - any load or predict failure disqualifies the version
        raise ArchlabError(f"{uri} failed to load or predict: {type(exc).__name__}: {exc}") from None
