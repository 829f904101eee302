"""The register stage's scoring for the classification tasks: the registry re-scores a model version through its
pyfunc on the test split, by accuracy or macro-F1."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from archlab.evaluation.split import test_split
from archlab.tasks.base import Metric, Scorer

if TYPE_CHECKING:
    import pandas as pd

    from archlab.tasks.classification import ClassificationTask


def scorer(task: ClassificationTask, dataset, models_dir: Path, evaluation: dict) -> Scorer:
    """Labels predicted by a version's pyfunc for the test samples (in the form `task.registry_inputs` gives)."""
    x_test, y_test, _ = test_split(dataset)

    def score(output: pd.DataFrame, metric: Metric) -> float:
        from sklearn.metrics import accuracy_score, f1_score

        predicted = output["label"].to_numpy()
        if metric.name == "macro_f1":
            return float(f1_score(y_test, predicted, average="macro"))
        return float(accuracy_score(y_test, predicted))

    return Scorer(inputs=task.registry_inputs(dataset, x_test), score=score)
