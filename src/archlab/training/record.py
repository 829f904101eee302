"""What a training run leaves for DVC: the metrics JSON and the per-epoch CSV, and the numbers in them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from archlab.files import write_atomically
from archlab.training.fit import Trained

PLOT_COLUMNS = ["epoch", "phase", "loss", "accuracy", "val_loss", "val_accuracy", "val_mae"]


def parameter_count(model: Any, kind: str) -> int:
    """Trainable and frozen weights of a Keras model, or the fitted arrays of a scikit-learn pipeline."""
    if kind == "keras":
        return int(model.count_params())
    steps = [step for _, step in getattr(model, "steps", [("model", model)])]
    steps += [step.rbm_ for step in steps if hasattr(step, "rbm_")]  # an RBM inside an imputer
    return int(sum(_fitted_size(step) for step in steps))


# Fitted arrays: linear weights and RBM units; an SVC's support vectors and their coefficients; what k-NN keeps
# (the training samples themselves: its size grows with the data, which is its cost).
FITTED_ARRAYS = ("coef_", "intercept_", "components_", "intercept_hidden_", "intercept_visible_",
                 "support_vectors_", "dual_coef_", "_fit_X")


def _fitted_size(step: Any) -> int:
    """One fitted scikit-learn step's size: its arrays, or the nodes of its trees (forests, boosting, and the
    per-output copies of a multi-output wrapper)."""
    size = sum(np.size(getattr(step, name)) for name in FITTED_ARRAYS if hasattr(step, name))
    if hasattr(step, "tree_"):
        size += step.tree_.node_count
    for predictors in getattr(step, "_predictors", []):  # HistGradientBoosting: per round, a tree per class
        size += sum(len(tree.nodes) for tree in predictors)
    for calibrated in getattr(step, "calibrated_classifiers_", []):  # a calibrated SVC: the SVC it wraps
        size += _fitted_size(calibrated.estimator) + 2 * len(calibrated.calibrators)
    for inner in getattr(step, "estimators_", []):
        size += sum(map(_fitted_size, np.ravel(inner))) if isinstance(inner, np.ndarray) else _fitted_size(inner)
    return size


def summary_metrics(trained: Trained, train_seconds: float, val_metric) -> dict[str, float]:
    """metrics/train/<name>.json: the best `val_metric` (an `archlab.tasks.Metric`: the fitted task's val score,
    which knows its direction) and val loss over the phases that report it (not an autoencoder's pre-training),
    epochs, time, size."""
    main = [row for row in trained.history if val_metric.name in row]
    return {
        best_val_key(val_metric): float(min((row[val_metric.name] for row in main), key=val_metric.sort_key)),
        "best_val_loss": float(min(row["val_loss"] for row in main)),
        "epochs_run": len(trained.history),
        "train_seconds": round(float(train_seconds), 3),
        "param_count": parameter_count(trained.model, trained.kind),
        **{key: float(value) for key, value in trained.metrics.items()},
    }


def best_val_key(val_metric) -> str:
    """The summary's key for the best val score: `best_val_accuracy`, `best_val_mae`."""
    return f"best_{val_metric.name}"


def write_metrics(path: Path, metrics: dict[str, float]) -> None:
    write_atomically(path, lambda fh: fh.write(json.dumps(metrics, indent=2) + "\n"))


def write_epoch_plot(path: Path, history: list[dict[str, float]]) -> None:
    """plots/train/<name>.csv for `dvc plots`: one row per epoch (empty cells where a phase has no accuracy)."""

    def write(fh):
        writer = csv.DictWriter(fh, fieldnames=PLOT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({"phase": "train", **row} for row in history)

    write_atomically(path, write)


def write_skipped(name: str, family: str, task: str, reason: str, *, model_dir: Path, metrics_path: Path,
                  plots_path: Path) -> dict:
    """The outputs of a train stage whose architecture does not apply to the task: a skip record, not a model.

    The evaluate stage lists the skipped architectures with this reason; the register stage passes them over.
    """
    import logging

    from archlab.data.store import building

    logging.getLogger(__name__).warning("%s skipped: %s", name, reason)
    record = {"architecture": name, "family": family, "task": task, "skipped": True, "reason": reason}
    with building(model_dir) as tmp:
        (tmp / "info.json").write_text(json.dumps(record, indent=2) + "\n")
    write_metrics(metrics_path, {"skipped": True, "reason": reason})
    write_epoch_plot(plots_path, [])
    return record
