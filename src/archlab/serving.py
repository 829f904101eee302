"""The MLflow pyfunc wrapper every archlab model is logged as, so `mlflow.pyfunc.load_model` and
`mlflow models serve` answer with class predictions whatever the architecture."""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd


class ArchlabClassifier(mlflow.pyfunc.PythonModel):
    """Every archlab model as one pyfunc: its task (info.json's `task`) reads the input and shapes the answer.

    Classifiers: images (N, H, W, C) 0..255 or table rows in; label, class_name and one probability per class out.
    Forecasters: windows (N, W, 1) in; `t+1..t+H` out. Generators: caption tokens (N, T) in; pixels `px_<i>` in
    [0, 1] out.
    """

    def load_context(self, context):
        from archlab import modelio, tasks

        self.model = modelio.load(context.artifacts["model"])
        with open(context.artifacts["info"]) as fh:
            self.info = json.load(fh)
        self.task = tasks.get(self.info.get("task"))

    def predict(self, context, model_input, params=None):
        return self.task.output_frame(self.model, model_input, self.info)


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
