"""Inference cost measured the way a user calls the model, after warm-up: latency at batch 1, throughput at 256."""

from __future__ import annotations

import time

import numpy as np

from archlab import modelio


def measure(model, images: np.ndarray, *, single_calls: int = 50, batch_size: int = 256, repeats: int = 3,
            warmup: int = 3, predict=modelio.predict_proba) -> dict[str, float]:
    """Median milliseconds per sample at batch size 1, and samples per second at `batch_size`.

    Args:
        model: a loaded model (Keras or scikit-learn).
        images: test images (uint8 N,H,W,C); batches are tiled from them when fewer than `batch_size`.
        single_calls: how many single-image predictions the batch-1 median is taken over.
        repeats: how many full-batch predictions the throughput median is taken over.
        warmup: untimed single-image calls first (graph tracing, caches); the full batch is warmed once, which
            traces its shape (more full-batch calls cost ~0.5 s each for a VGG16 model and changed nothing).
        predict: how the model is called (`modelio.predict_values` for forecasters).
    """
    batch = images[np.arange(batch_size) % len(images)]
    for i in range(warmup):
        predict(model, images[i % len(images)][None])
    predict(model, batch)
    singles = []
    for i in range(single_calls):
        start = time.perf_counter()
        predict(model, images[i % len(images)][None])
        singles.append(time.perf_counter() - start)
    batches = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(model, batch)
        batches.append(time.perf_counter() - start)
    return {"latency_ms_batch1": float(np.median(singles) * 1000.0),
            "throughput_batch256": float(batch_size / np.median(batches))}
