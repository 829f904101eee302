"""`archlab predict`: input files in, the model's answers out, from a local or registered model; the model's task
reads the inputs and shapes the answers (`Task.read_inputs`, `Task.output_frame`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from archlab.errors import ArchlabError


def predict_local(model_ref: Path, paths: list[Path], *, trust_pickle: bool) -> tuple[pd.DataFrame, object]:
    """Predict with a local model folder or file (models/<arch>/, model.keras, model.skops); returns the answer
    and the task that shaped it."""
    from archlab import modelio, tasks

    folder = model_ref if model_ref.is_dir() else model_ref.parent
    model = modelio.load(model_ref, trust_pickle=trust_pickle)
    # a bare model file without its info.json: a classifier of whatever its input layer takes
    info = modelio.read_info(folder) if (folder / modelio.INFO).is_file() else \
        {"input_shape": list(model.input_shape[1:]), "class_names": None}
    task = tasks.get(info.get("task"))
    samples, names = task.read_inputs(paths, info)
    return task.output_frame(model, samples, info).assign(input=names), task


def predict_registered(uri: str, paths: list[Path]) -> tuple[pd.DataFrame, object]:
    """Predict with a registered model (`models:/name@alias`, `models:/name/3`), as serving would."""
    import mlflow

    try:
        model = mlflow.pyfunc.load_model(uri)
        wrapper = model.unwrap_python_model()
    except Exception as exc:  # noqa: BLE001 - surfaced as one clear message
        raise ArchlabError(f"{uri}: cannot load the model ({type(exc).__name__}: {exc})") from None
    samples, names = wrapper.task.read_inputs(paths, wrapper.info)
    return model.predict(samples).assign(input=names), wrapper.task
