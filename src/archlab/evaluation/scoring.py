"""Test-split metrics with honest uncertainty: bootstrap intervals and paired McNemar tests."""

from __future__ import annotations

import numpy as np


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, class_names: list[str]) -> dict:
    """Accuracy, macro-F1, balanced accuracy, per-class precision/recall, log-loss and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, precision_recall_fscore_support

    labels = np.arange(len(class_names))
    predicted = proba.argmax(axis=1)
    precision, recall, _, support = precision_recall_fscore_support(y_true, predicted, labels=labels,
                                                                    zero_division=0)
    clipped = np.clip(proba, 1e-7, 1.0)
    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "macro_f1": float(f1_score(y_true, predicted, labels=labels, average="macro", zero_division=0)),
        # the mean recall over the classes the test split has: what a model that ignores a small class loses
        "balanced_accuracy": float(np.mean(recall[support > 0])),
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


def paired_p_value(correct_a: list[np.ndarray], correct_b: list[np.ndarray]) -> tuple[float, str]:
    """Two-sided paired test of two architectures on the same test samples, with every seed's predictions.

    One model each: the exact McNemar test. Several seeds: the test sample stays the unit (the seeds of one
    architecture see the same samples, so pooling their predictions as independent pairs would overstate the
    evidence): per sample, the share of seeds that got it right, A minus B, then the Wilcoxon signed-rank test on
    those differences (samples where both agree drop out, as in McNemar).

    Returns:
        The p-value and the test's name.
    """
    if len(correct_a) == 1 and len(correct_b) == 1:
        return mcnemar_p_value(correct_a[0], correct_b[0]), "mcnemar"
    from scipy.stats import wilcoxon

    difference = np.mean(correct_a, axis=0) - np.mean(correct_b, axis=0)
    if not np.any(difference):
        return 1.0, "wilcoxon_over_seeds"
    return float(wilcoxon(difference, zero_method="wilcox").pvalue), "wilcoxon_over_seeds"


def seed_summary(scores: dict[int, float]) -> dict:
    """Mean and sample standard deviation of one architecture's test score over its seeds, and its median seed:
    the seed whose model scores in the middle (of an even count, the lower of the two middle ones; ties go to the
    earlier seed of `train.seeds`). That model is the one evaluated in full and registered."""
    import statistics

    order = sorted(scores, key=lambda seed: scores[seed])  # stable: ties keep train.seeds' order
    values = list(scores.values())
    return {"seeds": list(scores), "median_seed": order[(len(order) - 1) // 2],
            "test_accuracy_mean": statistics.fmean(values),
            "test_accuracy_std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "seed_accuracy": {str(seed): value for seed, value in scores.items()}}
