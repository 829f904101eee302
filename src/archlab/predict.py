"""`archlab predict`: images or an .npy file in, class predictions out, from a local or registered model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from archlab.data.decode import IMAGE_EXTENSIONS, Unreadable, decode_file
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


def read_inputs(paths: list[Path], input_shape: list[int]) -> tuple[np.ndarray, list[str]]:
    """Stack images from files (decoded and resized like ingest does) and .npy arrays into (N, H, W, C) uint8;
    models of tables and series read arrays instead (`read_arrays`)."""
    if len(input_shape) != 3:
        return read_arrays(paths, input_shape)
    height, width, channels = input_shape
    color_mode = "grayscale" if channels == 1 else "rgb"
    arrays, names = [], []
    for path in paths:
        if not path.is_file():
            raise ArchlabError(f"{path}: input file not found")
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
            array = array[..., None] if array.ndim == 3 else array
            if array.ndim != 4 or tuple(array.shape[1:]) != (height, width, channels):
                raise ArchlabError(f"{path}: expected an array of shape (N, {height}, {width}, {channels}), "
                                   f"got {array.shape}")
            arrays.append(np.asarray(array, dtype=np.float32))
            names.extend(f"{path}[{i}]" for i in range(len(array)))
        elif path.suffix.lower() in IMAGE_EXTENSIONS:
            try:
                arrays.append(decode_file(path, (height, width), color_mode)[None].astype(np.float32))
            except Unreadable as exc:
                raise ArchlabError(f"{path}: {exc}") from None
            names.append(str(path))
        else:
            raise ArchlabError(f"{path}: expected an image ({', '.join(sorted(IMAGE_EXTENSIONS))}) or an .npy file")
    return np.concatenate(arrays), names


def predict_local(model_ref: Path, paths: list[Path], *, trust_pickle: bool) -> pd.DataFrame:
    """Predict with a local model folder or file (models/<arch>/, model.keras, model.skops)."""
    from archlab import modelio
    from archlab.serving import predictions_frame

    folder = model_ref if model_ref.is_dir() else model_ref.parent
    info = modelio.read_info(folder) if (folder / modelio.INFO).is_file() else None
    model = modelio.load(model_ref, trust_pickle=trust_pickle)
    shape = info["input_shape"] if info else list(model.input_shape[1:])
    images, names = read_inputs(paths, shape)
    if info and info.get("task") == "forecasting":
        from archlab.serving import forecasts_frame

        return forecasts_frame(modelio.predict_values(model, images)).assign(input=names)
    proba = modelio.predict_proba(model, images)
    class_names = info["class_names"] if info else [str(i) for i in range(proba.shape[1])]
    return predictions_frame(proba, class_names).assign(input=names)


def predict_registered(uri: str, paths: list[Path]) -> pd.DataFrame:
    """Predict with a registered model (`models:/name@alias`, `models:/name/3`), as serving would."""
    import mlflow

    try:
        model = mlflow.pyfunc.load_model(uri)
    except Exception as exc:  # noqa: BLE001 - surfaced as one clear message
        raise ArchlabError(f"{uri}: cannot load the model ({type(exc).__name__}: {exc})") from None
    shape = list(model.metadata.signature.inputs.to_dict()[0]["tensor-spec"]["shape"][1:])
    images, names = read_inputs(paths, shape)
    return model.predict(images).assign(input=names)
