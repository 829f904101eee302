"""The two tables the expectation suite checks: one row per sample, and one row per (split, class)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from archlab.data.splits import SPLITS
from archlab.errors import DataError

CHUNK = 4096


def sample_table(images: np.ndarray, manifest: pd.DataFrame) -> pd.DataFrame:
    """Manifest plus per-sample pixel statistics (min, max, mean, NaN count, shape), computed chunk by chunk.

    Works on any dtype so that corrupted data (floats with NaN) is measured rather than crashing the stage.
    """
    if len(images) != len(manifest):
        raise DataError(f"images.npy holds {len(images)} samples but manifest.csv lists {len(manifest)}")
    stats = {name: np.empty(len(images)) for name in ("pixel_min", "pixel_max", "pixel_mean", "nan_count")}
    rows = manifest["row"].to_numpy()
    for start in range(0, len(rows), CHUNK):
        index = rows[start:start + CHUNK]
        flat = np.asarray(images[index], dtype=np.float64).reshape(len(index), -1)
        nan = np.isnan(flat)
        filled_low = np.where(nan, np.inf, flat)
        filled_high = np.where(nan, -np.inf, flat)
        stats["pixel_min"][start:start + len(index)] = filled_low.min(axis=1)
        stats["pixel_max"][start:start + len(index)] = filled_high.max(axis=1)
        stats["pixel_mean"][start:start + len(index)] = np.where(nan, 0, flat).sum(1) / np.maximum((~nan).sum(1), 1)
        stats["nan_count"][start:start + len(index)] = nan.sum(axis=1)
    table = manifest.copy()
    for name, values in stats.items():
        table[name] = values
    height, width, channels = (list(images.shape[1:]) + [1])[:3]
    table["height"], table["width"], table["channels"] = height, width, channels
    seen_before_test = set(table.loc[table["split"] != "test", "content_hash"])
    table["test_duplicates_train_or_val"] = (table["split"] == "test") & table["content_hash"].isin(seen_before_test)
    return table


def class_count_table(manifest: pd.DataFrame, n_classes: int) -> pd.DataFrame:
    """Count of every class in every split, zeros included, plus each split's max/min class-count ratio."""
    grid = pd.MultiIndex.from_product([SPLITS, range(n_classes)], names=["split", "label"])
    labelled = manifest[manifest["label"].notna()].astype({"label": np.int64})
    counts = labelled.groupby(["split", "label"]).size().reindex(grid, fill_value=0).rename("count").reset_index()
    by_split = counts.groupby("split")["count"]
    ratio = by_split.max() / by_split.min().replace(0, np.nan)
    counts["imbalance_ratio"] = counts["split"].map(ratio.fillna(np.inf))
    return counts
