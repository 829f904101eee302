"""`archlab predict`: images or an .npy file in, class predictions out, from a local or registered model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from archlab.errors import ArchlabError


def read_arrays(paths: list[Path], input_shape: list[int]) -> tuple[np.ndarray, list[str]]:
    """Table rows (N, F) or series windows (N, W[, 1]) from .npy files, or table rows from .csv files with a
    header (the feature columns, in training order)."""
    arrays, names = [], []
    for path in paths:
        if not path.is_file():
            raise ArchlabError(f"{path}: input file not found")
        if path.suffix.lower() == ".npy":
            array = np.asarray(np.load(path, allow_pickle=False), dtype=np.float32)
        elif path.suffix.lower() == ".csv":
            array = pd.read_csv(path).to_numpy(dtype=np.float32)
        else:
            raise ArchlabError(f"{path}: this model takes arrays of shape (N, {', '.join(map(str, input_shape))}): "
                               "give an .npy file (or a .csv of table rows)")
        if array.ndim == len(input_shape) and len(input_shape) == 2 and input_shape[1] == 1:
            array = array[..., None]  # windows given as (N, W)
        if tuple(array.shape[1:]) != tuple(input_shape):
            raise ArchlabError(f"{path}: expected shape (N, {', '.join(map(str, input_shape))}), got {array.shape}")
        arrays.append(array)
        names.extend(f"{path}[{i}]" for i in range(len(array)))
    return np.concatenate(arrays), names


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
