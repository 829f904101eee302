"""`archlab simulate-arrivals`: scikit-learn's digits as a stream of time-ordered batches landing in an image folder.

The 1,797 digits come in the order they were collected (writer by writer), so consecutive slices are a fair
stand-in for data arriving over time. Each call writes one batch as PNG files into `<folder>/<digit>/`, the
layout the `image_dir` source reads; a drifted batch (inverted or very noisy digits) shows the drift gate at work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from archlab.errors import ArchlabError

Drift = Literal["none", "invert", "noise"]
NOISE_SIGMA = 80.0  # grey levels: enough to swamp the clean black background


def batch_slice(total: int, batches: int, batch: int) -> slice:
    """Rows of batch `batch` (1-based) when `total` rows are cut into `batches` near-equal consecutive slices."""
    if batches < 1 or not 1 <= batch <= batches:
        raise ArchlabError(f"--batch must be within 1..{batches} (received {batch}); --batches is {batches}")
    edges = np.linspace(0, total, batches + 1).round().astype(int)
    return slice(int(edges[batch - 1]), int(edges[batch]))


def drifted(images: np.ndarray, drift: Drift, seed: int) -> np.ndarray:
    """The same digits as they would look from a broken scanner: inverted, or buried in noise."""
    if drift == "invert":
        return 255 - images
    if drift == "noise":
        noise = np.random.default_rng(seed).normal(0.0, NOISE_SIGMA, images.shape)
        return np.clip(images.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    return images


def write_batch(folder: Path, *, batch: int, batches: int, limit: int | None = None, drift: Drift = "none",
                seed: int = 0) -> list[Path]:
    """Write one batch of digits as 8x8 greyscale PNGs into `folder/<digit>/`; returns the files written.

    Args:
        folder: the image folder `ingest.path` points at (created if missing).
        batch: which batch, 1-based; earlier batches' files are left in place, as new files land beside old ones.
        batches: how many batches the (limited) data is cut into.
        limit: use only the first `limit` digits (a smaller stream for quick demos and tests).
        drift: "invert" or "noise" writes the batch drifted (file names say so).
        seed: the noise seed.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    total = len(bunch.target) if limit is None else min(limit, len(bunch.target))
    rows = batch_slice(total, batches, batch)
    images = drifted(np.rint(bunch.images[rows] * (255.0 / 16.0)).astype(np.uint8), drift, seed)
    tag = "" if drift == "none" else f"-{drift}"
    written = []
    for offset, (image, label) in enumerate(zip(images, bunch.target[rows], strict=True)):
        path = folder / str(label) / f"b{batch:03d}{tag}-{rows.start + offset:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, "L").save(path)
        written.append(path)
    return written
