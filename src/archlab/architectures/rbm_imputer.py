"""Imputation with a restricted Boltzmann machine: missing cells filled by the RBM's reconstruction.

A BernoulliRBM learns the joint distribution of a table's [0, 1]-scaled features. A missing cell is filled by
mean-field inference: start from the column mean, then repeat "hidden probabilities given the row, visible
probabilities given the hidden units" and overwrite only the missing cells, so the observed cells of the same row
pull the missing ones towards values that co-occur with them. Mean imputation ignores the rest of the row.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class RbmImputer(TransformerMixin, BaseEstimator):
    """Fill NaN cells of rows scaled to [0, 1] (put a MinMaxScaler in front).

    Args:
        n_components: hidden units of the RBM.
        learning_rate, n_iter, batch_size: BernoulliRBM training.
        steps: mean-field steps per fill.
        rounds: refits on the table as last filled (the first fit sees mean-filled cells).
        random_state: seed.
    """

    def __init__(self, n_components: int = 64, learning_rate: float = 0.05, n_iter: int = 60, batch_size: int = 32,
                 steps: int = 10, rounds: int = 2, random_state: int | None = None):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.steps = steps
        self.rounds = rounds
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.neural_network import BernoulliRBM

        x = np.asarray(X, dtype=np.float64)
        missing = np.isnan(x)
        self.fill_ = np.nan_to_num(np.nanmean(x, axis=0), nan=0.5)
        filled = np.where(missing, self.fill_, x)
        for _ in range(self.rounds):
            self.rbm_ = BernoulliRBM(n_components=self.n_components, learning_rate=self.learning_rate,
                                     n_iter=self.n_iter, batch_size=self.batch_size,
                                     random_state=self.random_state).fit(np.clip(filled, 0.0, 1.0))
            filled = self._fill(filled, missing)
        return self

    def _fill(self, filled: np.ndarray, missing: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        for _ in range(self.steps):
            hidden = self.rbm_.transform(np.clip(filled, 0.0, 1.0))
            visible = expit(hidden @ self.rbm_.components_ + self.rbm_.intercept_visible_)
            filled = np.where(missing, visible, filled)
        return filled

    def transform(self, X):
        x = np.asarray(X, dtype=np.float64)
        missing = np.isnan(x)
        filled = np.where(missing, self.fill_, x)
        return self._fill(filled, missing) if missing.any() else filled
