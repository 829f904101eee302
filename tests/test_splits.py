"""The split is deterministic from the seed, exactly stratified, keeps duplicates together, and is stable."""

import numpy as np

from archlab.data.splits import assign_splits
from archlab.params import SplitParams

FRACTIONS = SplitParams(train=0.7, val=0.15, test=0.15)


def _data(n_per_class=100, n_classes=4, seed=0):
    labels = np.repeat(np.arange(n_classes), n_per_class)
    hashes = [f"h{seed}-{i}" for i in range(len(labels))]
    return labels, hashes


def test_same_seed_same_split_and_other_seed_differs():
    labels, hashes = _data()
    a = assign_splits(labels, hashes, FRACTIONS, seed=1)
    assert (a == assign_splits(labels, hashes, FRACTIONS, seed=1)).all()
    assert (a != assign_splits(labels, hashes, FRACTIONS, seed=2)).sum() > 50


def test_every_class_is_split_in_the_same_proportions():
    labels = np.repeat(np.arange(3), [100, 40, 7])
    split = assign_splits(labels, [str(i) for i in range(len(labels))], FRACTIONS, seed=0)
    for label, n in zip(range(3), [100, 40, 7], strict=True):
        mine = split[labels == label]
        assert abs((mine == "train").sum() - 0.7 * n) <= 1
        assert abs((mine == "test").sum() - 0.15 * n) <= 1
        assert (mine == "val").sum() >= 1 and (mine == "test").sum() >= 1


def test_identical_images_land_in_one_split():
    labels = np.array([0] * 50 + [1] * 50)
    hashes = [f"u{i}" for i in range(100)]
    hashes[3] = hashes[60] = hashes[90] = "dup"  # same picture three times, even across classes
    split = assign_splits(labels, hashes, FRACTIONS, seed=5)
    assert split[3] == split[60] == split[90]


def test_adding_data_keeps_old_samples_out_of_the_new_test_set():
    """Growing data must not move what a champion trained on into the test split it is re-scored on."""
    labels, hashes = _data(n_per_class=200)
    before = assign_splits(labels, hashes, FRACTIONS, seed=3)
    more_labels, more_hashes = _data(n_per_class=50, seed=1)
    after = assign_splits(np.concatenate([labels, more_labels]), hashes + more_hashes, FRACTIONS, seed=3)[
        : len(labels)]
    assert not ((before == "train") & (after == "test")).any()
    assert (before == after).mean() > 0.95
