"""Every model as an MLflow pyfunc (`pyfunc_entry.py` by path), with its signature, example and pinned
requirements."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from archlab.tracking.clock import timed


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
