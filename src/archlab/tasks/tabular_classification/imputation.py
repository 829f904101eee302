"""How well a model fills missing table cells: RMSE against the values masked at ingest, beside mean imputation.

Errors are in standardised units (each feature divided by its train standard deviation) so that a feature
measured in thousands does not drown one measured in fractions.
"""

from __future__ import annotations

import numpy as np


def imputer_prefix(model):
    """The steps of a scikit-learn pipeline up to and including its imputer that learns from the row (an
    `RbmImputer`), and the scalers before it; None for a model with no such step."""
    from archlab.architectures.rbm_imputer import RbmImputer

    steps = getattr(model, "steps", None) or []
    for i, (_, step) in enumerate(steps):
        if isinstance(step, RbmImputer):
            scalers = [s for _, s in steps[:i]]
            # a column encoder (categorical columns one-hot) has no inverse back to the raw cells: not scored
            return (model[: i + 1], scalers) if all(hasattr(s, "inverse_transform") for s in scalers) else None
    return None


def imputation_scores(model, x_masked: np.ndarray, truth: np.ndarray, x_train: np.ndarray) -> dict | None:
    """RMSE of the model's fills and of train-mean fills on the cells masked in `x_masked` whose truth is known.

    Returns:
        {"imputation_rmse", "mean_imputation_rmse", "imputed_cells"}, or None when the model does not impute
        or no masked cell has a true value.
    """
    prefix = imputer_prefix(model)
    x_masked = np.asarray(x_masked, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    cells = np.isnan(x_masked) & np.isfinite(truth)
    if prefix is None or not cells.any():
        return None
    pipeline, scalers = prefix
    filled = pipeline.transform(x_masked)
    for scaler in reversed(scalers):
        filled = scaler.inverse_transform(filled)
    means = np.nanmean(np.asarray(x_train, dtype=np.float64), axis=0)
    scale = np.nanstd(np.asarray(x_train, dtype=np.float64), axis=0)
    scale = np.where(scale > 0, scale, 1.0)

    def rmse(values: np.ndarray) -> float:
        errors = ((values - truth) / scale)[cells]
        return float(np.sqrt(np.mean(errors ** 2)))

    return {"imputation_rmse": rmse(filled), "mean_imputation_rmse": rmse(np.broadcast_to(means, truth.shape)),
            "imputed_cells": int(cells.sum())}
