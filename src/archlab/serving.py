"""The MLflow pyfunc wrapper every archlab model is logged as, so `mlflow.pyfunc.load_model` and
`mlflow models serve` answer with class predictions whatever the architecture."""

from __future__ import annotations

import json

import mlflow.pyfunc


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
