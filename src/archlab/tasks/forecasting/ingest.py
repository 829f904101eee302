"""The ingest stage for forecasting: a series in, windows and targets out, in the dataset folder layout.

features.npy holds the windows (N, W, 1), labels.npy their targets (N, H); series.csv the whole series with the
split each stretch of time belongs to (the forecast plot draws it); meta.json the window, horizon, season and
MASE's scale.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from archlab.data import store
from archlab.data.splits import SPLITS
from archlab.errors import DataError
from archlab.ingest import dataset_hash, write_rejected
from archlab.params import Params
from archlab.tasks.forecasting import SERIES
from archlab.tasks.forecasting.series import chronological_split, open_series, seasonal_scale, step_unit, windows

log = logging.getLogger(__name__)


def ingest_series(params: Params, out_dir: str | Path, rejected_csv: str | Path, task_name: str) -> dict:
    """Read the configured series, cut it into windows, split them in time and write the dataset folder.

    Returns:
        The dataset's meta (also written to meta.json).
    """
    p = params.ingest
    out_dir, rejected_csv = Path(out_dir), Path(rejected_csv)
    series = open_series(p)
    write_rejected(rejected_csv, [])
    inputs, targets, target_start = windows(series.values, p.window, p.horizon)
    split = chronological_split(target_start, p.horizon, len(series.values), p.split)
    keep = split != ""
    for name in SPLITS:
        if not (split == name).any():
            raise DataError(f"{series.name}: no {name} window; {len(series.values)} values are too few for "
                            f"window {p.window} + horizon {p.horizon} at split {p.split.model_dump()}")
    inputs, targets, target_start, split = inputs[keep], targets[keep], target_start[keep], split[keep]
    cut_val = round(len(series.values) * p.split.train)
    manifest = pd.DataFrame({
        "id": [f"{series.name}-{s:06d}" for s in target_start], "row": np.arange(len(split)), "split": split,
        "target_start": [series.dates[s] for s in target_start],
        "target_end": [series.dates[s + p.horizon - 1] for s in target_start],
        "content_hash": [hashlib.blake2b(np.concatenate([x, y]).tobytes(), digest_size=16).hexdigest()
                         for x, y in zip(inputs, targets, strict=True)],
        "label": 0})
    cut_test = round(len(series.values) * (p.split.train + p.split.val))
    position = np.arange(len(series.values))
    stretch = np.where(position < cut_val, "train", np.where(position < cut_test, "val", "test"))
    with store.building(out_dir) as tmp:
        np.save(tmp / store.FEATURES, inputs[..., None].astype(np.float32))
        np.save(tmp / store.LABELS, targets.astype(np.float32))
        manifest.to_csv(tmp / store.MANIFEST, index=False)
        pd.DataFrame({"date": series.dates, "value": series.values, "split": stretch}).to_csv(tmp / SERIES,
                                                                                              index=False)
        meta = {"task": task_name, "source": series.name, "class_names": [], "n_classes": 0,
                "image_shape": [p.window, 1], "window": p.window, "horizon": p.horizon, "season": p.season,
                "count": int(len(split)), "n_values": int(len(series.values)), "interpolated": series.filled,
                "missing_dates": series.missing_dates, "frequency": series.frequency,
                "rejected": 0, "mase_scale": seasonal_scale(series.values[:cut_val], p.season),
                "first_date": series.dates[0], "last_date": series.dates[-1],
                "split_counts": {s: int((split == s).sum()) for s in SPLITS},
                "seed": params.project.seed, "dataset_hash": dataset_hash(manifest)}
        store.write_meta(tmp, meta)
    unit = step_unit(series.frequency)
    log.info("ingested %s: %s of %s %s interpolated (%d absent dates, frequency %s) -> %d windows of %d predicting "
             "%d, splits %s", series.name, f"{series.filled:,}", f"{meta['n_values']:,}", unit, series.missing_dates,
             series.frequency, meta["count"], p.window, p.horizon, meta["split_counts"])
    return meta


def ingest(task, params: Params, out_dir: Path, rejected_csv: Path) -> dict:
    """The ingest part of the task: the series into data/ingested/ as windows."""
    return ingest_series(params, out_dir, rejected_csv, task.name)
