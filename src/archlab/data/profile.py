"""A compact fingerprint of an image set's distribution, and the population stability index (PSI) between two.

The train stage logs the training split's profile with every model, so a scheduled retrain compares new data with
the data the serving champion actually learned from, not with whatever the workspace holds today. Histograms use
fixed bins over 0..255, so profiles of different sizes and image shapes stay comparable.
"""

from __future__ import annotations

import numpy as np

DATA_PROFILE = "data_profile.json"  # the artifact name on every training run
BINS = 16  # equal-width bins over the uint8 range: 0-15, 16-31, ..., 240-255
CHUNK_ROWS = 4096
PSI_FLOOR = 1e-4  # an empty bin counts as this share, so PSI stays finite


def profile(images: np.ndarray, labels: np.ndarray, class_names: list[str]) -> dict:
    """Per-class counts, pixel-intensity histogram, per-image mean-intensity histogram and pixel mean/std.

    Args:
        images: uint8 (N, H, W, C), possibly memory-mapped (read in chunks, memory stays bounded).
        labels: int (N,).
        class_names: label i is class_names[i]; counts are keyed by name, so a class added later lines up.

    Returns:
        A JSON-ready dict.
    """
    pixel_hist = np.zeros(BINS, dtype=np.int64)
    mean_hist = np.zeros(BINS, dtype=np.int64)
    total, total_sq, n_pixels = 0.0, 0.0, 0
    for start in range(0, len(images), CHUNK_ROWS):
        chunk = np.asarray(images[start:start + CHUNK_ROWS])
        flat = chunk.reshape(len(chunk), -1)
        pixel_hist += np.bincount((flat >> 4).ravel(), minlength=BINS)
        means = flat.mean(axis=1)
        mean_hist += np.bincount(np.minimum((means // BINS).astype(np.int64), BINS - 1), minlength=BINS)
        values = flat.astype(np.float64)
        total, total_sq, n_pixels = total + values.sum(), total_sq + (values ** 2).sum(), n_pixels + values.size
    mean = total / max(n_pixels, 1)
    return {
        "count": int(len(images)),
        "image_shape": [int(v) for v in images.shape[1:]],
        "class_counts": dict(zip(class_names, np.bincount(np.asarray(labels, dtype=np.int64),
                                                          minlength=len(class_names)).tolist(), strict=True)),
        "pixel_histogram": pixel_hist.tolist(),
        "image_mean_histogram": mean_hist.tolist(),
        "pixel_mean": round(float(mean), 4),
        "pixel_std": round(float(np.sqrt(max(total_sq / max(n_pixels, 1) - mean ** 2, 0.0))), 4),
    }


def psi(expected: list[int] | np.ndarray, actual: list[int] | np.ndarray) -> float:
    """Population stability index of two histograms over the same bins: sum((a - e) * ln(a / e)) over shares.

    The usual reading: below 0.1 no real change, 0.1-0.25 a moderate shift, above 0.25 a significant one.
    """
    e, a = np.asarray(expected, dtype=np.float64), np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape:
        raise ValueError(f"histograms have different bins: {e.shape} vs {a.shape}")
    if e.sum() == 0 or a.sum() == 0:
        raise ValueError("cannot compare an empty histogram")
    e = np.maximum(e / e.sum(), PSI_FLOOR)
    a = np.maximum(a / a.sum(), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))
