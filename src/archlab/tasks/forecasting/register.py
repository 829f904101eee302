"""The register stage's scoring for forecasting: a version's forecasts of the test windows, by RMSE, MAE or MASE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from archlab.errors import ArchlabError
from archlab.evaluation.split import test_split
from archlab.tasks.base import Metric, Scorer
from archlab.tasks.forecasting.errors import forecast_errors


def scorer(task, dataset, models_dir: Path, evaluation: dict) -> Scorer:
    x_test, y_test, _ = test_split(dataset)
    scale = dataset.meta["mase_scale"]

    def score(output: pd.DataFrame, metric: Metric) -> float:
        predicted = output.to_numpy(dtype=np.float64)
        if predicted.shape != y_test.shape:
            raise ArchlabError(f"forecasts of shape {predicted.shape}, expected {y_test.shape}")
        return float(forecast_errors(y_test, predicted, scale)[metric.name])

    return Scorer(inputs=np.asarray(x_test, dtype=np.float32), score=score)
