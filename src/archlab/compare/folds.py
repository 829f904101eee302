"""Which rows each cross-validation fold trains and scores on: repeated stratified k-fold over train + val for
labelled samples, rolling-origin folds for the windows of a series.

The test split is not an input here at all: the rows folded are the training data's train and val splits, so no
fold can see a test sample. Each repeat reshuffles with its own seed (`project.seed` + repeat); the same params
give the same folds on every machine and in every cv@ stage, which is what lets the verdicts pair the scores of
two architectures fold by fold. Rolling-origin folds are never shuffled (a series has one order), so they come
in a single repeat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The share of a fold's training rows held back for early stopping (the networks stop on it as train@ stops on the
# val split): the val split's share of train + val in the default 70/15/15.
EARLY_STOPPING_SHARE = 0.15 / 0.85


@dataclass(frozen=True)
class Fold:
    """One fold: rows (indices into train + val, train first) it fits on, stops early on and scores."""

    repeat: int
    fold: int
    fit_rows: np.ndarray
    stop_rows: np.ndarray
    score_rows: np.ndarray

    @property
    def key(self) -> str:
        return f"r{self.repeat}-f{self.fold}"

    def job(self) -> dict:
        """This fold as an executor job (`archlab.compare.run.fit_fold`'s item): plain lists, for Ray and JSON."""
        return {"key": self.key, "repeat": self.repeat, "fold": self.fold, "fit_rows": self.fit_rows.tolist(),
                "stop_rows": self.stop_rows.tolist(), "score_rows": self.score_rows.tolist()}


def repeated_stratified_folds(y: np.ndarray, folds: int, repeats: int, seed: int) -> list[Fold]:
    """`repeats` x `folds` folds over labels `y`: in each repeat every row is scored exactly once, each fold's
    class mix is the data's, and a stratified share of the other rows is held back for early stopping."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    y = np.asarray(y)
    smallest = int(np.bincount(y).min()) if len(y) else 0
    if smallest < folds:
        raise ValueError(f"compare.folds is {folds} but a class has only {smallest} samples in train + val: "
                         f"use at most {smallest} folds")
    out = []
    for repeat in range(repeats):
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        for number, (train_rows, score_rows) in enumerate(splitter.split(np.zeros(len(y)), y)):
            fit_rows, stop_rows = train_test_split(train_rows, test_size=EARLY_STOPPING_SHARE, stratify=y[train_rows],
                                                   random_state=seed + repeat)
            out.append(Fold(repeat, number, np.sort(fit_rows), np.sort(stop_rows), np.sort(score_rows)))
    return out


def rolling_origin_folds(n_rows: int, folds: int, gap: int) -> list[Fold]:
    """`folds` rolling-origin folds (Tashman 2000, expanding window) over `n_rows` windows in time order.

    The rows are cut into `folds + 1` consecutive blocks; fold i scores block i + 1 and trains on the rows before
    it, the last EARLY_STOPPING_SHARE of those held back for early stopping. `gap` rows are dropped before the
    stopping rows and before the scored block: a window's target runs `horizon` steps past its start, so with
    gap = horizon - 1 no fitted target overlaps a target the fold stops on or scores (the series' chronological
    split drops its straddling windows the same way). The first block is never scored: it only trains.
    """
    block = n_rows // (folds + 1)
    fewest_fit = 2 * gap + 4  # a fit part, a stopping part and the gaps between them
    if block < 2 or block - gap < fewest_fit:
        raise ValueError(f"compare.folds is {folds} but train + val holds only {n_rows} windows: each of the "
                         f"{folds + 1} blocks needs at least {fewest_fit + gap} windows with a gap of {gap} "
                         f"(horizon - 1); use fewer folds")
    out = []
    for number in range(folds):
        score_start = block * (number + 1)
        score_end = n_rows if number == folds - 1 else score_start + block
        before = score_start - gap  # rows [0, before) may train or stop
        n_stop = max(1, round(before * EARLY_STOPPING_SHARE))
        stop_rows = np.arange(before - n_stop, before)
        fit_rows = np.arange(0, before - n_stop - gap)
        out.append(Fold(0, number, fit_rows, stop_rows, np.arange(score_start, score_end)))
    return out


def task_folds(folding: str, y: np.ndarray, folds: int, repeats: int, seed: int) -> list[Fold]:
    """The folds a task's `cv_folding` names, over train + val whose targets are `y` (train rows first)."""
    if folding == "stratified":
        return repeated_stratified_folds(y, folds, repeats, seed)
    if folding == "rolling_origin":  # y: (windows, horizon); a target runs horizon - 1 steps past its start
        return rolling_origin_folds(len(y), folds, gap=y.shape[1] - 1)
    raise ValueError(f"unknown cv_folding {folding!r}; known: 'stratified', 'rolling_origin'")
