"""What the tabular task's networks share: standardised inputs (missing cells at the mean) and the fit wrapper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def standardize_front(x_train: np.ndarray) -> Callable[[Any], Any]:
    """inputs -> `Standardize` with the train split's per-feature mean and std (NaN cells ignored)."""
    from archlab.architectures.layers import Standardize

    mean = np.nan_to_num(np.nanmean(x_train, axis=0))
    std = np.nan_to_num(np.nanstd(x_train, axis=0), nan=1.0)
    return lambda inputs: Standardize(mean, std, name="standardize")(inputs)


def tabular_fit(build: Callable[..., Any]) -> Callable[..., Any]:
    """The tabular `fit` of a builder `build(input_shape, n_classes, params, front=...) -> keras.Model`."""

    def fit(data, params, ctx):
        from archlab.training.fit import fit_classifier

        front = standardize_front(data.x_train)
        return fit_classifier(build(data.input_shape, data.n_classes, params, front=front), data, params, ctx)

    return fit
