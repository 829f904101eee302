"""The seasonal-naive forecaster as a scikit-learn estimator (saved with skops like the other classical models).

Kept out of the zoo file: defining it imports scikit-learn (~1 s), and every stage imports every zoo file to check
its `train.<name>` block; a Keras stage should not pay for scikit-learn.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


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
