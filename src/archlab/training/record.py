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
    names = ("coef_", "intercept_", "components_", "intercept_hidden_", "intercept_visible_")
    return int(sum(np.size(getattr(step, name)) for step in steps for name in names if hasattr(step, name)))


def summary_metrics(trained: Trained, train_seconds: float) -> dict[str, float]:
    """metrics/train/<name>.json: best val accuracy (forecasters: val MAE) and loss of the final phase, epochs,
    time, size."""
    main = [row for row in trained.history if "val_accuracy" in row]  # classifier phases (not pre-training)
    if main:
        best = {"best_val_accuracy": float(max(row["val_accuracy"] for row in main))}
    else:  # a forecaster: regression metrics
        main = trained.history
        best = {"best_val_mae": float(min(row["val_mae"] for row in main))}
    return {
        **best,
        "best_val_loss": float(min(row["val_loss"] for row in main)),
        "epochs_run": len(trained.history),
        "train_seconds": round(float(train_seconds), 3),
        "param_count": parameter_count(trained.model, trained.kind),
        **{key: float(value) for key, value in trained.metrics.items()},
    }


def best_val_key(metrics: dict) -> str:
    """The summary's best val score: `best_val_accuracy` for a classifier, `best_val_mae` for a forecaster."""
    return "best_val_accuracy" if "best_val_accuracy" in metrics else "best_val_mae"


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
