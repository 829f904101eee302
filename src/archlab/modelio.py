"""Model files: Keras 3 `.keras` for networks, skops for scikit-learn pipelines; never plain pickle.

Loading is safe by default: `.keras` files load in Keras safe mode (no code from Lambda layers), and skops files
load only if every type they contain is a standard scikit-learn/numpy type or one of archlab's own functions
listed here. A pickle/joblib file is refused unless the caller passes `trust_pickle=True`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from archlab.errors import ArchlabError

MODEL_KERAS, MODEL_SKOPS, INFO = "model.keras", "model.skops", "info.json"
SEEDS_DIR = "seeds"  # models/<arch>/seeds/<seed>/: the models of train.seeds after the first
TRUSTED_SKOPS_TYPES = [
    "archlab.architectures.common.flatten_unit", "archlab.architectures.forecasting.flatten_window",
    "archlab.architectures.rbm_imputer.RbmImputer", "archlab.architectures.seasonal_naive_model.SeasonalNaive",
    "archlab.architectures.zoo.seasonal_naive.SeasonalNaive",  # where models saved before the move name it
    "archlab.architectures.from_last_value.FromLastValue",
    "numpy.dtype",  # SimpleImputer keeps the dtype it was fitted on
    # the references' own parts: gradient_boosting's and random_forest's trees, svc's Platt calibration, the
    # search trees knn builds over its training samples (which one depends on the data's width)
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor", "sklearn.tree._tree.Tree",
    "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration",
    "sklearn.neighbors._kd_tree.KDTree", "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
]
PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib"}


def save(model: Any, kind: str, folder: Path) -> Path:
    """Write the model into `folder` as model.keras or model.skops and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "keras":
        path = folder / MODEL_KERAS
        model.save(path)
    else:
        import skops.io as sio

        path = folder / MODEL_SKOPS
        sio.dump(model, path)
    return path


def model_file(path: str | Path) -> Path:
    """The model file itself, given the file or a models/<name>/ folder."""
    path = Path(path)
    if path.is_dir():
        for name in (MODEL_KERAS, MODEL_SKOPS):
            if (path / name).is_file():
                return path / name
        raise ArchlabError(f"{path}: no {MODEL_KERAS} or {MODEL_SKOPS} in this model folder")
    if not path.is_file():
        raise ArchlabError(f"{path}: model file not found")
    return path


def load(path: str | Path, *, trust_pickle: bool = False) -> Any:
    """Load a model file or folder safely (see the module docstring)."""
    path = model_file(path)
    suffix = path.suffix.lower()
    if suffix == ".keras":
        import keras

        # Register archlab's custom layers (transformer, pretrained input pipeline) before deserialising.
        import archlab.architectures.layers  # noqa: F401
        import archlab.architectures.pretrained_layers  # noqa: F401
        import archlab.architectures.table_layers  # noqa: F401

        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)  # inference only
        except ValueError as exc:
            raise ArchlabError(f"{path}: refused or unreadable Keras model ({exc})") from None
    if suffix == ".skops":
        import skops.io as sio

        untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_SKOPS_TYPES]
        if untrusted:
            raise ArchlabError(f"{path}: skops file contains types archlab does not trust: {untrusted}")
        return sio.load(path, trusted=TRUSTED_SKOPS_TYPES)
    if suffix in PICKLE_SUFFIXES:
        if not trust_pickle:
            raise ArchlabError(f"{path}: pickle-based model files can run arbitrary code when loaded; refusing. "
                               "Pass --trust-pickle only for files you made yourself.")
        import joblib

        return joblib.load(path)
    raise ArchlabError(f"{path}: unknown model format {suffix!r}; expected .keras or .skops")


def predict_proba(model: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities (N, n_classes) for uint8 (N, H, W, C) images, whatever the model kind.

    Keras models go through `predict_on_batch` per chunk: `predict` builds a data pipeline on every call, which
    costs more than the model itself at batch size 1.
    """
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(images))
    images = np.asarray(images, dtype=np.float32)
    chunks = [np.asarray(model.predict_on_batch(images[i:i + batch_size])) for i in range(0, len(images), batch_size)]
    return np.concatenate(chunks) if chunks else np.empty((0, model.output_shape[-1]), dtype=np.float32)


def predict_values(model: Any, windows: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Forecasts (N, horizon) for (N, W, 1) windows, whatever the model kind."""
    if not hasattr(model, "predict_on_batch"):
        return np.asarray(model.predict(windows), dtype=np.float64)
    windows = np.asarray(windows, dtype=np.float32)
    chunks = [np.asarray(model.predict_on_batch(windows[i:i + batch_size]))
              for i in range(0, len(windows), batch_size)]
    return np.concatenate(chunks).astype(np.float64)


def write_info(folder: Path, info: dict) -> None:
    (folder / INFO).write_text(json.dumps(info, indent=2) + "\n")


def read_info(folder: str | Path) -> dict:
    path = Path(folder) / INFO
    if not path.is_file():
        raise ArchlabError(f"{folder}: missing {INFO}; is this a trained archlab model folder?")
    return json.loads(path.read_text())


def seed_folders(folder: str | Path) -> dict[int | None, Path]:
    """Every seed's model folder in models/<arch>/, by seed: the folder itself (the first seed of `train.seeds`,
    the one `predict`, `serve` and `retrain` use) first, then seeds/<seed>/ for the others. A model saved before
    seeds were recorded has the one key None."""
    folder = Path(folder)
    info = read_info(folder)
    found: dict[int | None, Path] = {info.get("seed"): folder}
    for seed in info.get("other_seeds", []):
        found[int(seed)] = folder / SEEDS_DIR / str(seed)
    return found


def seed_folder(folder: str | Path, seed: int | None) -> Path:
    """The model folder of `seed` in models/<arch>/ (None: the folder itself), or an error naming the seeds there."""
    if seed is None:
        return Path(folder)
    found = seed_folders(folder)
    if seed not in found:
        raise ArchlabError(f"{folder}: no model trained with seed {seed}; seeds there: {sorted(map(str, found))}; "
                           "re-run `dvc repro` after changing train.seeds")
    return found[seed]
