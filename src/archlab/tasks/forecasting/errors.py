"""Forecast errors: what evaluate reports and what the registry re-scores a version by."""

from __future__ import annotations

import numpy as np


def forecast_errors(y_true: np.ndarray, predicted: np.ndarray, mase_scale: float) -> dict:
    """MAE, RMSE, MASE over all (window, step) pairs, and MAE per horizon step."""
    error = np.asarray(predicted, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    mae = float(np.mean(np.abs(error)))
    return {"mae": mae, "rmse": float(np.sqrt(np.mean(error ** 2))), "mase": mae / mase_scale,
            "mae_by_step": [float(v) for v in np.mean(np.abs(error), axis=0)]}
