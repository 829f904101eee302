"""Deterministic, stratified train/val/test assignment.

Each sample gets a pseudo-random key from (seed, content hash); within each class the samples are ranked by key and
cut at the split fractions. That is exactly stratified, reproducible from the seed, and stable when data grows: a
new sample lands at a random rank, so old samples keep their split except near a cut point. Identical images share
a key and are then forced into one split, so a duplicate can never leak from train into test.
"""

from __future__ import annotations

import hashlib

import numpy as np

from archlab.errors import ParamsError
from archlab.params import ImbalanceParams, SplitParams

SPLITS = ("train", "val", "test")


def _key(seed: int, content_hash: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{content_hash}".encode(), digest_size=8).digest(), "big")


def _counts(n: int, fractions: SplitParams) -> tuple[int, int, int]:
    """Per-class split sizes; every split gets at least one sample once a class has three."""
    n_val = round(n * fractions.val)
    n_test = round(n * fractions.test)
    if n >= 3:
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    return n - n_val - n_test, n_val, n_test


def split_sizes(n: int, fractions: SplitParams) -> tuple[int, int, int]:
    """How many of a class's n samples assign_splits puts in train, val and test."""
    return _counts(n, fractions)


def assign_splits(labels: np.ndarray, content_hashes: list[str], fractions: SplitParams, seed: int) -> np.ndarray:
    """Return an array of "train"/"val"/"test", one per sample.

    Args:
        labels: int class per sample.
        content_hashes: hash of each sample's normalised pixels.
        fractions: the train/val/test shares (sum to 1).
        seed: `project.seed`.
    """
    keys = np.array([_key(seed, h) for h in content_hashes], dtype=np.uint64)
    split = np.empty(len(labels), dtype=object)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        ranked = members[np.argsort(keys[members], kind="stable")]
        n_train, n_val, _ = _counts(len(ranked), fractions)
        split[ranked[:n_train]] = "train"
        split[ranked[n_train:n_train + n_val]] = "val"
        split[ranked[n_train + n_val:]] = "test"
    first_split: dict[str, str] = {}
    for i, content_hash in enumerate(content_hashes):
        split[i] = first_split.setdefault(content_hash, split[i])
    return split.astype(str)


def time_ordered_splits(times: np.ndarray, fractions: SplitParams) -> np.ndarray:
    """"train"/"val"/"test" by time: the earliest `fractions.train` of the rows train, the latest `fractions.test`
    test (ties keep file order; rows without a time go first, to train). No class stratification: the test split is
    the future, whatever its class mix, as it will be in use."""
    order = np.argsort(np.nan_to_num(times.astype(np.float64), nan=-np.inf), kind="stable")
    n_train, n_val, _ = _counts(len(order), fractions)
    split = np.empty(len(order), dtype=object)
    split[order[:n_train]] = "train"
    split[order[n_train:n_train + n_val]] = "val"
    split[order[n_train + n_val:]] = "test"
    return split.astype(str)


def imbalance_keep(labels: np.ndarray, split: np.ndarray, content_hashes: list[str], class_names: list[str],
                   imbalance: ImbalanceParams | None, seed: int) -> np.ndarray:
    """Which samples stay under `ingest.imbalance`: all but the training samples of each listed class beyond its
    `keep` share (at least one stays). The same keys rank them as the split did, so the cut is reproducible.

    Raises:
        ParamsError: a listed class that the dataset does not have.
    """
    keep = np.ones(len(labels), dtype=bool)
    if imbalance is None:
        return keep
    unknown = sorted(set(imbalance.classes) - set(class_names))
    if unknown:
        raise ParamsError(f"ingest.imbalance.classes: {unknown} are not classes of this dataset; it has {class_names}")
    keys = np.array([_key(seed, h) for h in content_hashes], dtype=np.uint64)
    for name in imbalance.classes:
        members = np.flatnonzero((labels == class_names.index(name)) & (split == "train"))
        ranked = members[np.argsort(keys[members], kind="stable")]
        keep[ranked[max(1, round(imbalance.keep * len(ranked))):]] = False
    return keep
