"""The drift gate: how far newly arrived data is from the data the champion was trained on.

Arrivals are the samples whose content hash the workspace's current dataset does not hold; when fewer than
`drift.min_arrivals` arrived (or a killed job already ingested them) the whole new dataset is compared instead.
The new side is compared with the champion's training profile (logged with its training run) by the population
stability index of three histograms: pixel intensities, per-image mean intensity (brightness, inversion, heavy
noise) and the class mix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from archlab.data.profile import profile, psi
from archlab.data.store import Dataset
from archlab.params import DriftParams

FEATURE_SCORES = ("pixel_psi", "image_mean_psi")
STATS = ("count", "pixel_mean", "pixel_std")


@dataclass
class Changes:
    """What the new data adds and removes, relative to the workspace's current dataset."""

    count_before: int
    count_after: int
    arrivals: int
    removed: int
    arrivals_by_class: dict[str, int]
    dataset_hash_before: str | None
    dataset_hash_after: str


@dataclass
class DriftAssessment:
    level: str  # "not measured" | "none" | "moderate" | "blocked"
    compared: str  # what the new side of the comparison is
    reference: str  # where the champion's side came from
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    reference_stats: dict = field(default_factory=dict)
    compared_stats: dict = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return self.level == "blocked"

    def as_dict(self) -> dict:
        return asdict(self)


def arrival_mask(candidate: pd.DataFrame, current: pd.DataFrame | None) -> np.ndarray:
    """True for candidate manifest rows whose content the current dataset does not hold."""
    if current is None:
        return np.ones(len(candidate), dtype=bool)
    return ~candidate["content_hash"].isin(set(current["content_hash"])).to_numpy()


def changes(candidate: Dataset, current: Dataset | None) -> Changes:
    new = arrival_mask(candidate.manifest, current.manifest if current is not None else None)
    removed = 0 if current is None else int((~current.manifest["content_hash"].isin(
        set(candidate.manifest["content_hash"]))).sum())
    by_class = candidate.manifest.loc[new, "class_name"].astype(str).value_counts().sort_index()
    return Changes(count_before=0 if current is None else len(current.manifest), count_after=len(candidate.manifest),
                   arrivals=int(new.sum()), removed=removed, arrivals_by_class={k: int(v) for k, v in by_class.items()},
                   dataset_hash_before=None if current is None else current.meta["dataset_hash"],
                   dataset_hash_after=candidate.meta["dataset_hash"])


def compared_profile(candidate: Dataset, current: Dataset | None, min_arrivals: int) -> tuple[dict, str]:
    """Profile of the arrivals, or of the whole new dataset when too few arrived for a stable histogram."""
    new = arrival_mask(candidate.manifest, current.manifest if current is not None else None)
    names = list(candidate.meta["class_names"])
    if new.sum() >= min_arrivals:
        rows = candidate.manifest.loc[new, "row"].to_numpy()
        return profile(candidate.images[rows], candidate.labels[rows], names), f"{int(new.sum())} new samples"
    return (profile(candidate.images, candidate.labels, names),
            f"the whole new dataset ({len(candidate.labels)} samples; {int(new.sum())} new to the workspace, "
            f"fewer than drift.min_arrivals={min_arrivals})")


def _class_shares(reference: dict, compared: dict) -> tuple[list[int], list[int], list[str]]:
    names = sorted(set(reference["class_counts"]) | set(compared["class_counts"]))
    added = [n for n in names if n not in reference["class_counts"]]
    return ([reference["class_counts"].get(n, 0) for n in names],
            [compared["class_counts"].get(n, 0) for n in names], added)


def assess(reference: dict, compared: dict, limits: DriftParams, *, reference_source: str,
           compared_source: str) -> DriftAssessment:
    """Score the shift and decide: none, moderate (warn_psi), or blocked (max_psi / max_label_psi)."""
    ref_classes, new_classes, added = _class_shares(reference, compared)
    scores = {"pixel_psi": psi(reference["pixel_histogram"], compared["pixel_histogram"]),
              "image_mean_psi": psi(reference["image_mean_histogram"], compared["image_mean_histogram"]),
              "label_psi": psi(ref_classes, new_classes)}
    scores = {k: round(v, 4) for k, v in scores.items()}
    feature = max(scores[k] for k in FEATURE_SCORES)
    reasons = [f"{k} {scores[k]:.3f} > max_psi {limits.max_psi}" for k in FEATURE_SCORES if scores[k] > limits.max_psi]
    if scores["label_psi"] > limits.max_label_psi:
        reasons.append(f"label_psi {scores['label_psi']:.3f} > max_label_psi {limits.max_label_psi}")
    if added:
        reasons.append(f"classes the champion never saw: {added}")
    if reasons:
        level = "blocked"
    elif feature > limits.warn_psi or scores["label_psi"] > limits.warn_psi:
        level = "moderate"
        reasons.append(f"largest PSI {max(scores.values()):.3f} > warn_psi {limits.warn_psi}")
    else:
        level = "none"
    return DriftAssessment(level=level, compared=compared_source, reference=reference_source, scores=scores,
                           reasons=reasons, reference_stats={k: reference[k] for k in STATS},
                           compared_stats={k: compared[k] for k in STATS})
