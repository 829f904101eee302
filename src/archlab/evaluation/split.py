"""The held-out test split every evaluation scores on, checked against leaks first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archlab.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def test_split(dataset) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The test split, after checking that none of its samples (by id or content) is in train or val."""
    x_test, y_test, rows = dataset.split("test")
    seen = dataset.manifest[dataset.manifest["split"] != "test"]
    overlap = set(rows["id"]) & set(seen["id"]) or set(rows["content_hash"]) & set(seen["content_hash"])
    if overlap:
        raise DataError(f"test samples also in train/val: {sorted(overlap)[:5]}; re-run ingest and validate")
    if len(rows) == 0:
        raise DataError("the test split is empty; check ingest.split")
    return x_test, y_test, rows
