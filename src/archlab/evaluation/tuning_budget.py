"""Would more tuning change the winner? The expected best validation loss of each tuned architecture against the
number of trials (Dodge et al. 2019, "Show your work"), with the unbiased estimator of Tang et al. 2020 (the best
of n trials drawn without replacement from the K that ran), and a bootstrap band over the trials.

Only trials that ran to the end count: ASHA stops the others early, at a loss that is not the config's (the
figure says how many it pruned). A curve still falling at its last trial says more trials could still help.
"""

from __future__ import annotations

import json
from math import comb
from pathlib import Path

import numpy as np


def expected_best(losses, n: int) -> float:
    """Expected lowest loss among `n` trials drawn without replacement from `losses` (Tang et al. 2020): the i-th
    smallest of K is the minimum of a draw with probability C(K - i, n - 1) / C(K, n)."""
    values = np.sort(np.asarray(losses, dtype=np.float64))
    k = len(values)
    if not 1 <= n <= k:
        raise ValueError(f"n must be between 1 and the {k} trials, got {n}")
    return float(sum(values[i] * comb(k - 1 - i, n - 1) for i in range(k - n + 1)) / comb(k, n))


def curve(losses, *, resamples: int = 500, seed: int = 0) -> dict[str, list[float]]:
    """The expected best loss for 1..K trials, and its 5th-95th percentile band over bootstrap resamples of the
    trials."""
    losses = np.asarray(losses, dtype=np.float64)
    k = len(losses)
    rng = np.random.default_rng(seed)
    draws = np.array([[expected_best(sample, n) for n in range(1, k + 1)]
                      for sample in (rng.choice(losses, size=k, replace=True) for _ in range(resamples))])
    return {"trials": list(range(1, k + 1)), "expected": [expected_best(losses, n) for n in range(1, k + 1)],
            "low": np.percentile(draws, 5, axis=0).tolist(), "high": np.percentile(draws, 95, axis=0).tolist()}


def read_studies(tuned_dir: Path | None) -> dict[str, dict]:
    """Every tune@ stage's trials (tuned/<arch>.trials.json) that holds at least one finished trial."""
    out = {}
    for path in sorted(tuned_dir.glob("*.trials.json")) if tuned_dir is not None and tuned_dir.is_dir() else []:
        record = json.loads(path.read_text())
        finished = [t["best_val_loss"] for t in record["trials"]
                    if t["status"] == "FINISHED" and t["best_val_loss"] is not None]
        if finished:
            out[record["architecture"]] = {"finished": finished, "pruned": sum(t["status"] == "PRUNED"
                                                                              for t in record["trials"]),
                                           "ran": len(record["trials"])}
    return out


def figure(tuned_dir: Path | None, path: Path) -> Path | None:
    """reports/figures/tuning_budget.png when tuning ran (None otherwise)."""
    from archlab.figures import band_chart

    studies = read_studies(tuned_dir)
    if not studies:
        return None
    series = {}
    for name, study in studies.items():
        points = curve(study["finished"])
        label = f"{name} ({len(study['finished'])} of {study['ran']} ran to the end, {study['pruned']} pruned)"
        series[label] = (points["trials"], points["expected"], points["low"], points["high"])
    return band_chart(series, path, xlabel="trials", ylabel="expected best val loss", log_x=False,
                      title="Tuning budget: expected best val loss of n trials (Tang et al. 2020), 90% bootstrap band")
