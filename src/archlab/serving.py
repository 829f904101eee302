"""The MLflow pyfunc wrapper every archlab model is logged as, so `mlflow.pyfunc.load_model` and
`mlflow models serve` answer with class predictions whatever the architecture."""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd


class ArchlabClassifier(mlflow.pyfunc.PythonModel):
    """Classifiers: input images (N, H, W, C) 0..255 or table rows (N, F); output label, class_name and one
    probability per class. Forecasters (info task "forecasting"): input windows (N, W, 1), output `t+1..t+H`.
    Generators (family "generative"): input caption tokens (N, T), output pixels `px_<i>` in [0, 1]."""

    def load_context(self, context):
        from archlab import modelio

        self.model = modelio.load(context.artifacts["model"])
        with open(context.artifacts["info"]) as fh:
            info = json.load(fh)
        self.class_names = info["class_names"]
        self.forecaster = info.get("task") == "forecasting"
        self.generator = info.get("family") == "generative"
        self.image_shape = tuple(info["input_shape"])
        self.seed = int(info.get("generation_seed", 0))  # the evaluate stage draws with the same noise

    def predict(self, context, model_input, params=None):
        from archlab import modelio

        samples = np.asarray(model_input.to_numpy() if isinstance(model_input, pd.DataFrame) else model_input)
        if self.generator:  # caption tokens in; one image per caption, drawn from seeded noise
            from archlab.architectures.zoo.cross_attention import generate

            return images_frame(generate(self.model, samples, self.image_shape, seed=self.seed))
        if self.forecaster:
            return forecasts_frame(modelio.predict_values(self.model, samples))
        return predictions_frame(modelio.predict_proba(self.model, samples), self.class_names)


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
