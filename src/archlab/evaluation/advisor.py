"""What the holdout can tell apart: the smallest accuracy gap an exact-enough McNemar test detects on this test
split, and how many test samples the observed top gap would need.

Sample size of the McNemar test for paired proportions (Connor 1987, Biometrics 43(1)): with a discordant share
psi (the share of test samples exactly one of the two models gets right) and a difference delta between the two
kinds of discordance (= the accuracy gap), n = (z_{1-alpha/2} sqrt(psi) + z_{power} sqrt(psi - delta^2))^2 /
delta^2. Solved for delta at the split's own n, it is the smallest gap the holdout can detect.
"""

from __future__ import annotations

import math


def _z(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))


def samples_needed(gap: float, disagreement: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Test samples a McNemar test needs to detect an accuracy `gap` between two models that disagree (one right,
    one wrong) on a `disagreement` share of samples; None when no sample size can (no gap, or a gap larger than
    the disagreement allows)."""
    gap = abs(gap)
    if gap == 0.0 or disagreement <= 0.0 or gap > disagreement:
        return None
    root = _z(1 - alpha / 2) * math.sqrt(disagreement) + _z(power) * math.sqrt(disagreement - gap ** 2)
    return math.ceil(root ** 2 / gap ** 2)


def detectable_gap(n: int, disagreement: float, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """The smallest accuracy gap a McNemar test detects on `n` test samples at this disagreement (bisection on
    `samples_needed`, which falls as the gap grows); None when the models never disagree."""
    if disagreement <= 0.0 or n <= 0:
        return None
    low, high = 1e-6, disagreement
    if (samples_needed(high, disagreement, alpha, power) or math.inf) > n:
        return None  # even the largest gap this disagreement allows is out of reach
    for _ in range(60):
        mid = (low + high) / 2
        if (samples_needed(mid, disagreement, alpha, power) or math.inf) <= n:
            high = mid
        else:
            low = mid
    return high


def advice(best: str, runner_up: str, correct_best, correct_runner_up, *, alpha: float, power: float = 0.8) -> str:
    """The leaderboard's header line on the holdout's resolution for the top pair (arrays of per-sample
    correctness on the test split)."""
    import numpy as np

    a, b = np.asarray(correct_best, dtype=bool), np.asarray(correct_runner_up, dtype=bool)
    n, disagreement, gap = len(a), float(np.mean(a != b)), float(a.mean() - b.mean())
    smallest = detectable_gap(n, disagreement, alpha, power)
    line = (f"Test-size advisor: {best} and {runner_up} disagree on {100 * disagreement:.1f}% of the {n} test "
            f"samples; ")
    line += (f"a McNemar test (alpha {alpha:g}, power {power:g}) detects gaps of {100 * smallest:.1f} points or more "
             if smallest is not None else "no gap between them is detectable at this size ")
    needed = samples_needed(gap, disagreement, alpha, power)
    if needed is None:
        return line + f"and their observed gap is {100 * gap:.2f} points: no test size separates them."
    verdict = "resolved" if needed <= n else f"would need about {needed:,} test samples, or cross-validation " \
                                              "(compare.folds)"
    return line + f"and their observed gap of {100 * gap:.2f} points {verdict}."
