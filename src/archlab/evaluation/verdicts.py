"""Is a model better than, tied with, or worse than the best one? Decided on paired cross-validation scores.

Fold scores of one dataset are not independent: folds share training rows, so the plain paired t-test is far
too confident. Two corrections, both on the per-fold differences d (model minus best, the same folds for both):

- the corrected resampled t-test (Nadeau & Bengio 2003; Bouckaert & Frank 2004 for repeated k-fold): the variance
  of the mean difference is (1/J + n_score/n_fit) s^2 for J = folds x repeats scores, t with J - 1 degrees of
  freedom: a p-value for "no difference";
- the Bayesian correlated t-test (Benavoli, Corani, Demšar & Zaffalon 2017, JMLR 18(77)): the mean difference's
  posterior is Student t (J - 1 degrees of freedom, location mean(d), scale sqrt((1/J + rho/(1 - rho)) s^2) with
  correlation rho = 1/folds), from which P(worse), P(equivalent) and P(better) with a region of practical
  equivalence (rope): differences inside +-rope are ties in practice.

The verdict uses the posterior: each outcome needs probability >= 0.95, else "undecided".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DECISIVE = 0.95


@dataclass(frozen=True)
class Verdict:
    """One model against the best on paired fold scores."""

    mean_difference: float
    p_value: float  # corrected resampled t-test, two-sided
    p_worse: float
    p_equivalent: float
    p_better: float

    @property
    def word(self) -> str:
        if self.p_better >= DECISIVE:
            return "better"
        if self.p_worse >= DECISIVE:
            return "worse"
        if self.p_equivalent >= DECISIVE:
            return "tied within rope"
        return "undecided"

    def as_dict(self) -> dict:
        return {"verdict": self.word, "mean_difference": self.mean_difference, "p_value": self.p_value,
                "p_worse": self.p_worse, "p_equivalent": self.p_equivalent, "p_better": self.p_better}


def corrected_t_test(differences: np.ndarray, n_fit: int, n_score: int) -> float:
    """Two-sided p-value of the corrected resampled t-test (Nadeau & Bengio) on paired fold differences."""
    from scipy import stats

    d = np.asarray(differences, dtype=np.float64)
    mean, var = float(d.mean()), float(d.var(ddof=1)) if len(d) > 1 else 0.0
    if var == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    t = mean / math.sqrt((1.0 / len(d) + n_score / n_fit) * var)
    return float(2.0 * stats.t.sf(abs(t), df=len(d) - 1))


def correlated_posterior(differences: np.ndarray, folds: int, rope: float) -> tuple[float, float, float]:
    """(P(difference < -rope), P(|difference| <= rope), P(difference > rope)) under the Bayesian correlated
    t-test with correlation 1/folds."""
    from scipy import stats

    d = np.asarray(differences, dtype=np.float64)
    mean, var = float(d.mean()), float(d.var(ddof=1)) if len(d) > 1 else 0.0
    if var == 0.0:  # every fold agrees: the posterior is a point
        return float(mean < -rope), float(abs(mean) <= rope), float(mean > rope)
    rho = 1.0 / folds
    scale = math.sqrt((1.0 / len(d) + rho / (1.0 - rho)) * var)
    below = float(stats.t.cdf(-rope, df=len(d) - 1, loc=mean, scale=scale))
    above = float(stats.t.sf(rope, df=len(d) - 1, loc=mean, scale=scale))
    return below, max(0.0, 1.0 - below - above), above


def against_best(scores: dict[str, float], best: dict[str, float], *, folds: int, n_fit: int, n_score: int,
                 rope: float) -> Verdict:
    """A model's fold scores (`key -> score`, higher is better) against the best model's on the same folds."""
    keys = sorted(set(scores) & set(best))
    if len(keys) != len(scores) or len(keys) != len(best):
        raise ValueError(f"fold keys differ: {sorted(scores)} vs {sorted(best)} (were both run with the same "
                         "compare settings and seed?)")
    d = np.array([scores[k] - best[k] for k in keys])
    worse, equivalent, better = correlated_posterior(d, folds, rope)
    return Verdict(float(d.mean()), corrected_t_test(d, n_fit, n_score), worse, equivalent, better)


def what_would_decide(differences, folds: int, rope: float, most: int = 1000) -> str:
    """For an undecided verdict: how many fold scores (repeats of `folds`-fold) would make the nearest outcome reach
    0.95 if the mean difference and spread stayed as observed (the smallest J with t_{0.95, J-1} x scale(J) within
    the distance to the decision), or that only more data would: the posterior's scale cannot fall below
    sqrt(rho / (1 - rho)) s however many repeats run, since folds share their rows."""
    from scipy import stats

    d = np.asarray(differences, dtype=np.float64)
    mean, s2 = float(d.mean()), float(d.var(ddof=1))
    # the distance to the nearest decision: inside the rope (a tie) or past its edge (better / worse)
    distance = rope - abs(mean) if abs(mean) <= rope else abs(mean) - rope
    if distance <= 0 or s2 == 0:
        return "more data (the observed difference sits on the rope's edge)"
    rho = 1.0 / folds
    for runs in range(2, most + 1):
        if stats.t.ppf(DECISIVE, runs - 1) * math.sqrt((1.0 / runs + rho / (1.0 - rho)) * s2) <= distance:
            return (f"about {math.ceil(runs / folds)} repeats of {folds}-fold ({runs} fold scores) if the spread "
                    "stays as it is")
    return f"more data: at {folds} folds no number of repeats would (folds share training rows)"
