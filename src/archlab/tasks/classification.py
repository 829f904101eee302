"""What the classification tasks share (images, table rows, and text-to-image's judges) in every stage:
probabilities out, accuracy and macro-F1 as metrics, class predictions from `predict` and `serve`. Their
evaluation is `archlab.tasks.classification_evaluate`, the registry's scoring `archlab.tasks.classification_register`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from archlab import modelio
from archlab.tasks.base import Column, Metric, Task, numeric_samples

if TYPE_CHECKING:  # pandas is imported where it is used: every stage imports this module when it reads params
    import pandas as pd

CLASSIFICATION_METRICS = (Metric("accuracy", higher_is_better=True, label="test accuracy"),
                          Metric("macro_f1", higher_is_better=True, label="macro-F1"))


class ClassificationTask(Task):
    """A task whose models output one probability per class."""

    metrics = CLASSIFICATION_METRICS
    val_metric = Metric("val_accuracy", higher_is_better=True, label="val accuracy")
    seed_repeats = True
    cross_validation = None  # repeated stratified k-fold over train + val (archlab.compare)
    cv_folding = "stratified"
    cv_design = "repeated stratified k-fold"

    def score_fold(self, model, x, y) -> dict:
        """Accuracy (the verdicts' score), log-loss, and the predicted class of each row."""
        from sklearn.metrics import log_loss

        proba = modelio.predict_proba(model, x)
        predicted = proba.argmax(axis=1)
        return {"score": float(np.mean(predicted == y)),
                "log_loss": float(log_loss(y, proba, labels=np.arange(proba.shape[1]))),
                "predicted": predicted.tolist()}

    def pyfunc_example(self, data, info: dict):
        """Two complete validation samples (JSON has no NaN for a masked cell)."""
        x = np.asarray(data.x_val, dtype=np.float32)
        flat = x.reshape(len(x), -1)
        complete = ~np.isnan(flat).any(axis=1)
        return (x[complete] if complete.any() else np.nan_to_num(x))[:2]

    def output_frame(self, model, samples, info: dict) -> pd.DataFrame:
        from archlab.output_frames import predictions_frame

        proba = modelio.predict_proba(model, numeric_samples(samples))
        class_names = info.get("class_names") or [str(i) for i in range(proba.shape[1])]  # a bare model file
        return predictions_frame(proba, class_names)

    def describe(self, meta: dict) -> str:
        return f"{meta['count']} {meta['source']} {self.sample_noun.removeprefix('test ')}, {meta['n_classes']} classes"

    def render_predictions(self, frame: pd.DataFrame) -> list[str]:
        return [f"{row.input}\t{row.class_name}\t(label {row.label})" for row in frame.itertuples()]

    def leaderboard_columns(self) -> list[Column]:
        return [Column("accuracy", "test accuracy"), Column("accuracy_ci_low", "CI low", ".3f"),
                Column("accuracy_ci_high", "CI high", ".3f"), Column("macro_f1", "macro-F1"),
                Column("balanced_accuracy", "balanced acc."), Column("minority_recall", "minority recall"),
                Column("test_accuracy_mean", "seeds mean"), Column("test_accuracy_std", "seeds std"),
                Column("p_value_vs_best", "p vs best", ".3f"), Column("latency_ms_batch1", "ms/img", ".2f"),
                Column("param_count", "params", ",.0f")]

    def registry_inputs(self, dataset, x_test):
        """The test samples as the pyfunc takes them (a table task may turn them back into raw columns)."""
        return np.asarray(x_test, dtype=np.float32)
