"""What every archlab model answers, as a frame: the pyfunc's output and the MLflow signature's output schema.

Kept apart from `archlab.serving` (the pyfunc wrapper, which imports MLflow) so that a train stage can shape its
model's answer without importing MLflow: there MLflow lives in a worker process (archlab.tracking_worker).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def images_frame(images: np.ndarray) -> pd.DataFrame:
    """One row per generated image: its pixels in [0, 1], flattened row-major, columns `px_<i>`."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    return pd.DataFrame({f"px_{i}": flat[:, i] for i in range(flat.shape[1])})


def forecasts_frame(forecasts: np.ndarray) -> pd.DataFrame:
    """One row per window: the forecast of each future step, columns `t+1` .. `t+H`."""
    return pd.DataFrame({f"t+{h + 1}": forecasts[:, h].astype(np.float64) for h in range(forecasts.shape[1])})


def predictions_frame(proba: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """One row per image: predicted label index, its class name, then `p_<i>` per class."""
    labels = proba.argmax(axis=1)
    frame = pd.DataFrame({"label": labels.astype(np.int64), "class_name": [class_names[i] for i in labels]})
    for i in range(proba.shape[1]):
        frame[f"p_{i}"] = proba[:, i].astype(np.float64)
    return frame
