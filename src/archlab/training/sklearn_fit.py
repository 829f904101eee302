"""Fitting the classical (scikit-learn) architectures: one pass on train, scored on val like the networks."""

from __future__ import annotations

import numpy as np

from archlab.training.data import TrainingData
from archlab.training.fit import Trained


def fit_estimator(estimator, data: TrainingData, class_weight: dict[int, float] | None = None) -> Trained:
    """Fit on train; the one-row history carries train/val accuracy and log-loss under the Keras metric names.

    Args:
        class_weight: per class its weight (`class_balance: class_weight`), given to the pipeline's last step as
            per-sample weights.
    """
    from sklearn.metrics import log_loss

    fit_args = {}
    if class_weight:
        weights = np.array([class_weight[int(c)] for c in data.y_train])
        last = estimator.steps[-1][0] if hasattr(estimator, "steps") else None
        fit_args = {f"{last}__sample_weight" if last else "sample_weight": weights}
    estimator.fit(data.x_train, data.y_train, **fit_args)
    labels = np.arange(data.n_classes)
    row = {"epoch": 1, "phase": "train"}
    for prefix, x, y in (("", data.x_train, data.y_train), ("val_", data.x_val, data.y_val)):
        proba = estimator.predict_proba(x)
        row[f"{prefix}loss"] = float(log_loss(y, proba, labels=labels))
        row[f"{prefix}accuracy"] = float((proba.argmax(axis=1) == y).mean())
    return Trained(model=estimator, kind="sklearn", history=[row])


def fit_forecaster(estimator, data: TrainingData) -> Trained:
    """Fit a scikit-learn forecaster on the train windows; one history row of MSE (`loss`) and MAE, train and val."""
    estimator.fit(data.x_train, data.y_train)
    row = {"epoch": 1, "phase": "train"}
    for prefix, x, y in (("", data.x_train, data.y_train), ("val_", data.x_val, data.y_val)):
        error = np.asarray(estimator.predict(x)) - y
        row[f"{prefix}loss"] = float(np.mean(error ** 2))
        row[f"{prefix}mae"] = float(np.mean(np.abs(error)))
    return Trained(model=estimator, kind="sklearn", history=[row])
