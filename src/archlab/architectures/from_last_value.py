"""A window regressor that forecasts changes from the last value (`FromLastValue`): trees on a trending series."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


class FromLastValue(RegressorMixin, BaseEstimator):
    """A regressor on windows as changes from each window's last value, its forecasts added back to that value.

    Trees cannot predict outside the targets they were fitted on; a series that trends (co2, sales) leaves its
    training range in the test stretch, where a tree on raw levels would forecast a flat line at the old maximum.
    Changes from the last value stay in range. A scikit-learn estimator, so it pickles, clones and reports its
    size like the rest.
    """

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, x, y):
        last = np.asarray(x)[:, -1:]
        self.regressor_ = self.regressor.fit(np.asarray(x) - last, np.asarray(y) - last)
        self.estimators_ = [self.regressor_]  # what `parameter_count` walks
        return self

    def predict(self, x):
        last = np.asarray(x)[:, -1:]
        return np.asarray(self.regressor_.predict(np.asarray(x) - last)).reshape(len(last), -1) + last
