"""The cv@ stages' fold scores on the leaderboard: each model's CV mean and spread, and its verdict against the
model with the best CV mean (`archlab.evaluation.verdicts`), from metrics/cv/<arch>.json.

The fold score is the task's `cv_metric` (accuracy; a series' RMSE). An error metric is turned around before the
tests (its negative: higher is better there too), and its rope is relative: `compare.rope` times the best model's
CV error, since an error has the series' units where an accuracy has none.
"""

from __future__ import annotations

import json
from pathlib import Path

from archlab.evaluation.verdicts import against_best

CV_KEYS = ("cv_mean", "cv_std", "cv_metric", "cv_design", "cv_rope", "cv_best", "cv_verdict", "cv_mean_difference",
           "cv_p_value", "cv_p_worse", "cv_p_equivalent", "cv_p_better", "cv_tuned_config")
STRATIFIED = "repeated stratified k-fold"  # what a metrics/cv file without a `design` (older archlab) used


def read_folds(cv_dir: Path | None, names: list[str]) -> dict[str, dict]:
    """Each named model's metrics/cv/<name>.json that holds fold scores (none: compare is off, or it was
    skipped)."""
    out = {}
    for name in names:
        path = None if cv_dir is None else cv_dir / f"{name}.json"
        if path is not None and path.is_file():
            folds = json.loads(path.read_text())
            if not folds.get("skipped"):
                out[name] = folds
    return out


def add_verdicts(results: dict[str, dict], cv_dir: Path | None, rope: float) -> str | None:
    """Add the CV columns (`CV_KEYS`) to each result that has fold scores; returns the best model by CV mean
    (None: no fold scores). The holdout scores in `results` are left as they are."""
    folds = read_folds(cv_dir, list(results))
    if not folds:
        return None
    higher = next(iter(folds.values())).get("higher_is_better", True)
    sign = 1.0 if higher else -1.0  # scores turned so that higher is better for the tests
    best = max(folds, key=lambda n: sign * folds[n]["mean"])
    margin = rope if higher else rope * abs(folds[best]["mean"])
    for name, cv in folds.items():
        oriented = {key: sign * value for key, value in cv["scores"].items()}
        row = {"cv_mean": cv["mean"], "cv_std": cv["std"], "cv_metric": cv.get("metric", "accuracy"),
               "cv_design": f"{cv['folds']}x{cv['repeats']}", "cv_rope": margin, "cv_best": best,
               "cv_tuned_config": cv.get("tuned_config", False),
               "cv_folds": {"scores": oriented, "folds": cv["folds"], "n_fit": cv["n_fit"], "n_score": cv["n_score"],
                            "method": cv.get("design", STRATIFIED), "rope_setting": rope,
                            "higher_is_better": higher}}  # the claims' pairs (not written to evaluate.json)
        if name == best:
            row["cv_verdict"] = "best"
        else:
            best_scores = {key: sign * value for key, value in folds[best]["scores"].items()}
            verdict = against_best(oriented, best_scores, folds=cv["folds"], n_fit=cv["n_fit"],
                                   n_score=cv["n_score"], rope=margin).as_dict()
            row |= {f"cv_{k}" if k != "verdict" else "cv_verdict": v for k, v in verdict.items()}
        results[name].update(row)
    return best


def verdict_cell(result: dict) -> str:
    """The leaderboard's CV verdict cell: the word, with P(worse) / P(tied) / P(better) against the best."""
    if "cv_verdict" not in result:
        return "-"
    if result["cv_verdict"] == "best":
        return "best"
    return (f"{result['cv_verdict']} ({result['cv_p_worse']:.2f} / {result['cv_p_equivalent']:.2f} / "
            f"{result['cv_p_better']:.2f})")


def method_note(results: dict[str, dict]) -> str | None:
    """How the CV columns were computed, and the bias tuned configs carry (None without fold scores)."""
    rows = [r for r in results.values() if "cv_mean" in r]
    if not rows:
        return None
    first = rows[0]
    folds, rope = first["cv_folds"], first["cv_rope"]
    margin = (f"rope {rope:g}" if folds["higher_is_better"] else
              f"rope {folds['rope_setting']:g} of the best model's CV {first['cv_metric']} ({rope:.4g})")
    note = (f"CV: {folds['method']} ({first['cv_design']}: folds x repeats) over train + val, the test split "
            f"untouched; fold score {first['cv_metric']}; verdict against the best CV mean by the Bayesian correlated "
            f"t-test with {margin} (P(worse) / P(tied) / P(better); a verdict needs 0.95, else undecided).")
    if any(r.get("cv_tuned_config") for r in rows):
        note += (" Tuned configs were chosen on the val split, which lies inside the cross-validated rows: an "
                 "optimistic bias every tuned architecture shares.")
    return note


def compare_pair(a: dict, b: dict) -> tuple[str, str] | None:
    """Model `a` against model `b` on their paired fold scores (results rows from `add_verdicts`): the verdict word
    ("better" / "worse" / "tied within rope" / "undecided"), and the evidence in words with what would decide an
    undecided one; None when either has no fold scores."""
    from archlab.evaluation.verdicts import what_would_decide

    if "cv_folds" not in a or "cv_folds" not in b:
        return None
    folds, rope = a["cv_folds"], a["cv_rope"]
    verdict = against_best(folds["scores"], b["cv_folds"]["scores"], folds=folds["folds"], n_fit=folds["n_fit"],
                           n_score=folds["n_score"], rope=rope)
    score = a.get("cv_metric", "accuracy")
    words = (f"{a['architecture']} {a['cv_mean']:.4f} vs {b['architecture']} {b['cv_mean']:.4f} CV {score} "
             f"({a['cv_design']}; difference {verdict.mean_difference:+.4f}, P(worse / tied within {rope:g} / better) "
             f"{verdict.p_worse:.2f} / {verdict.p_equivalent:.2f} / {verdict.p_better:.2f}, corrected t-test "
             f"p={verdict.p_value:.3g})")
    if verdict.word == "undecided":
        keys = sorted(folds["scores"])
        diffs = [folds["scores"][k] - b["cv_folds"]["scores"][k] for k in keys]
        words += "; would decide it: " + what_would_decide(diffs, folds["folds"], rope)
    return verdict.word, words



def critical_difference(results: dict[str, dict], path: Path) -> Path | None:
    """The critical-difference diagram of the models with fold scores (three or more; `figures.cd_chart`): mean
    rank over the fold blocks, bars where a Friedman + Nemenyi test cannot tell models apart. Descriptive only, and
    labelled so: folds of one dataset are not independent blocks (Demšar 2006); the verdicts decide."""
    import pandas as pd

    from archlab.figures import cd_chart

    scores = {name: r["cv_folds"]["scores"] for name, r in results.items() if "cv_folds" in r}
    if len(scores) < 3:
        return None
    blocks = pd.DataFrame(scores)  # rows: the fold keys (blocks), columns: the models
    return cd_chart(blocks, path, title=(
        f"Mean rank over {len(blocks)} fold scores (1 = best); bars: Friedman + Nemenyi, no difference at 0.05.\n"
        "Descriptive only: folds of one dataset are not independent blocks (Demšar 2006); the verdicts decide."))
