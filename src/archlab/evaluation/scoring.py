"""Test-split metrics with honest uncertainty: bootstrap intervals and paired McNemar tests."""

from __future__ import annotations

import numpy as np


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, class_names: list[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall, log-loss and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, precision_recall_fscore_support

    labels = np.arange(len(class_names))
    predicted = proba.argmax(axis=1)
    precision, recall, _, support = precision_recall_fscore_support(y_true, predicted, labels=labels,
                                                                    zero_division=0)
    clipped = np.clip(proba, 1e-7, 1.0)
    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "macro_f1": float(f1_score(y_true, predicted, labels=labels, average="macro", zero_division=0)),
        "log_loss": float(log_loss(y_true, clipped / clipped.sum(axis=1, keepdims=True), labels=labels)),
        "per_class": {name: {"precision": float(p), "recall": float(r), "support": int(s)}
                      for name, p, r, s in zip(class_names, precision, recall, support, strict=True)},
        "confusion_matrix": confusion_matrix(y_true, predicted, labels=labels).tolist(),
    }


def bootstrap_interval(correct: np.ndarray, *, n_resamples: int, confidence: float, seed: int) -> tuple[float, float]:
    """Percentile bootstrap interval of the accuracy (the mean of a 0/1 vector)."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(correct), size=(n_resamples, len(correct)))
    means = correct[index].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def mcnemar_p_value(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Exact two-sided McNemar test on paired predictions: is the difference more than chance?

    Only the discordant pairs count (one model right, the other wrong); with none, the models are
    indistinguishable (p = 1).
    """
    from scipy.stats import binomtest

    a_only = int(np.sum(correct_a & ~correct_b))
    b_only = int(np.sum(~correct_a & correct_b))
    if a_only + b_only == 0:
        return 1.0
    return float(binomtest(a_only, a_only + b_only, 0.5).pvalue)
