"""The MLflow pyfunc wrapper every archlab model is logged as, so `mlflow.pyfunc.load_model` and
`mlflow models serve` answer with class predictions whatever the architecture."""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd


class ArchlabClassifier(mlflow.pyfunc.PythonModel):
    """Input: images (N, H, W, C), pixel values 0..255. Output: label, class_name and one probability per class."""

    def load_context(self, context):
        from archlab import modelio

        self.model = modelio.load(context.artifacts["model"])
        with open(context.artifacts["info"]) as fh:
            self.class_names = json.load(fh)["class_names"]

    def predict(self, context, model_input, params=None):
        from archlab import modelio

        images = np.asarray(model_input.to_numpy() if isinstance(model_input, pd.DataFrame) else model_input)
        return predictions_frame(modelio.predict_proba(self.model, images), self.class_names)


def predictions_frame(proba: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """One row per image: predicted label index, its class name, then `p_<i>` per class."""
    labels = proba.argmax(axis=1)
    frame = pd.DataFrame({"label": labels.astype(np.int64), "class_name": [class_names[i] for i in labels]})
    for i in range(proba.shape[1]):
        frame[f"p_{i}"] = proba[:, i].astype(np.float64)
    return frame
