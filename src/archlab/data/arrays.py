"""Array-shaped sources: scikit-learn digits, a user's .npz file, and keras.datasets."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from archlab.data.decode import normalise_batch, to_uint8_range
from archlab.data.source import Chunk, Rejected, SourceData
from archlab.errors import DataError
from archlab.params import IngestParams

log = logging.getLogger(__name__)

KERAS_CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
DOWNLOAD_TIMEOUT_S = 30


def _chunks(x: np.ndarray, y: np.ndarray, params: IngestParams, prefix: str,
            rejected: list[Rejected]) -> Iterator[Chunk]:
    """Slice arrays into normalised chunks; samples with NaN pixels are rejected, not passed on."""
    for start in range(0, len(x), params.chunk_size):
        stop = min(start + params.chunk_size, len(x))
        batch = np.asarray(x[start:stop])
        keep = np.ones(len(batch), dtype=bool)
        if np.issubdtype(batch.dtype, np.floating):
            keep = ~np.isnan(batch.reshape(len(batch), -1)).any(axis=1)
            for offset in np.flatnonzero(~keep):
                rejected.append(Rejected(f"{prefix}[{start + offset}]", "NaN pixel values"))
        index = np.arange(start, stop)[keep]
        images = normalise_batch(to_uint8_range(batch[keep], source=prefix), params.image_size, params.color_mode)
        yield Chunk(images=images, labels=np.asarray(y[start:stop])[keep].astype(np.int64),
                    ids=[f"{prefix}-{i:06d}" for i in index], refs=[f"{prefix}[{i}]" for i in index])


def _array_source(name: str, x: np.ndarray, y: np.ndarray, class_names: list[str],
                  params: IngestParams) -> SourceData:
    rejected: list[Rejected] = []
    return SourceData(name=name, class_names=class_names, candidates=len(x),
                      chunks=_chunks(x, y, params, name, rejected), rejected=rejected)


def digits(params: IngestParams) -> SourceData:
    """scikit-learn's 1,797 handwritten 8x8 digits (pixel values 0..16, scaled to 0..255)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    return _array_source("digits", x, bunch.target, [str(c) for c in bunch.target_names], params)


def _check_labels(y: np.ndarray, n_classes: int | None, where: str) -> np.ndarray:
    """Labels must be integral, finite and in [0, n_classes); returns them as int64."""
    y = np.asarray(y).reshape(-1) if np.asarray(y).ndim == 2 and np.asarray(y).shape[1] == 1 else np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{where}: labels 'y' must be 1-D, got shape {y.shape}")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise DataError(f"{where}: labels 'y' must be integers, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size:
            raise DataError(f"{where}: labels must be whole numbers; y[{bad[0]}] = {y[bad[0]]} "
                            f"({bad.size} bad labels in all)")
    y = y.astype(np.int64)
    upper = n_classes if n_classes is not None else None
    out = np.flatnonzero((y < 0) | ((y >= upper) if upper is not None else False))
    if out.size:
        allowed = f"[0, {upper - 1}]" if upper is not None else ">= 0"
        raise DataError(f"{where}: label y[{out[0]}] = {y[out[0]]} is out of range; allowed {allowed} "
                        f"({out.size} out-of-range labels in all)")
    return y


def npz(params: IngestParams) -> SourceData:
    """A .npz file with arrays `x` (N, H, W[, C]) and `y` (N,), and optionally `class_names`."""
    path = Path(params.path)
    if not path.is_file():
        raise DataError(f"ingest.path: npz file not found: {path}")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz file: {exc}") from None
    with archive:
        missing = {"x", "y"} - set(archive.files)
        if missing:
            raise DataError(f"{path}: missing array(s) {sorted(missing)}; expected 'x' and 'y' "
                            f"(found {sorted(archive.files)})")
        x, y = archive["x"], archive["y"]
        names = [str(n) for n in archive["class_names"]] if "class_names" in archive.files else None
    if x.ndim not in (3, 4):
        raise DataError(f"{path}: 'x' must have shape (N, H, W) or (N, H, W, C), got {x.shape}")
    if len(x) != len(y):
        raise DataError(f"{path}: 'x' has {len(x)} samples but 'y' has {len(y)}; they must match")
    y = _check_labels(y, len(names) if names else None, str(path))
    if names is None:
        names = [str(c) for c in range(int(y.max()) + 1)]
    return _array_source("npz", x, y, names, params)


def keras_dataset(params: IngestParams) -> SourceData:
    """mnist, fashion_mnist or cifar10 via keras.datasets (downloaded on first use, cached under KERAS_HOME).

    The dataset's own train/test partition is pooled and re-split by archlab's seeded stratified split, so every
    source gets the same split policy.
    """
    import keras

    name = params.keras_dataset
    loader = getattr(keras.datasets, name)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # a dead network must fail in seconds, not hang the stage
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # noqa: BLE001 - keras raises bare Exception for download failures
        raise DataError(
            f"ingest.keras_dataset={name!r}: could not load it ({exc}). keras.datasets downloads it on first use "
            f"into $KERAS_HOME/datasets (default ~/.keras/datasets); without network, place the file there, or "
            f"convert it to an .npz and use ingest.source: npz") from None
    finally:
        socket.setdefaulttimeout(previous)
    x = np.concatenate([x_train, x_test])
    y = _check_labels(np.concatenate([y_train.reshape(-1), y_test.reshape(-1)]), 10, f"keras.datasets.{name}")
    return _array_source(name, x, y, KERAS_CLASS_NAMES[name], params)
