"""`seasonal_naive`: forecasting's floor. Each future step repeats the value one season earlier (forecasting only).

MASE divides every model's error by this forecast's in-sample error, so a MASE under 1 means better than it.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field
from sklearn.base import BaseEstimator, RegressorMixin

from archlab.architectures.registry import Architecture, register
from archlab.params import Strict


class SeasonalNaiveParams(Strict):
    season: int | None = Field(None, ge=1, description="steps per season; null: ingest.season (from the data)")


class SeasonalNaive(RegressorMixin, BaseEstimator):
    """y[t + h] = y[t + h - season] for h = 1..horizon, read from the window (needs horizon <= season <= window)."""

    def __init__(self, season: int = 1, horizon: int = 1):
        self.season = season
        self.horizon = horizon

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        windows = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        start = windows.shape[1] - self.season
        return windows[:, start:start + self.horizon]


def fit(data, params: SeasonalNaiveParams, ctx):
    from archlab.training.sklearn_fit import fit_forecaster

    season = params.season or ctx.season
    return fit_forecaster(SeasonalNaive(season=season, horizon=data.y_train.shape[1]), data)


register(Architecture(name="seasonal_naive", family="classical", params=SeasonalNaiveParams,
                      fits=dict(forecasting=fit)))
