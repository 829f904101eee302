"""The ingest stage for the tabular task: a table in, the same dataset folder layout as images out.

features.npy holds the float features as training sees them (masked cells NaN); truth.npy the values before the
masking of `ingest.missing_fraction`, the reference the evaluate stage scores imputation against.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from archlab.data import store
from archlab.data.splits import SPLITS, assign_splits, imbalance_keep, time_ordered_splits
from archlab.errors import DataError
from archlab.ingest import dataset_hash, write_rejected
from archlab.params import Params
from archlab.tasks.tabular_classification.tables import encode_categories, mask_cells, open_table

log = logging.getLogger(__name__)


def row_hash(row: np.ndarray, text: tuple = ()) -> str:
    """Content hash of a table row (its numbers, and its categorical cells' raw text): equal rows share a split,
    like equal images."""
    digest = hashlib.blake2b(np.ascontiguousarray(row, dtype=np.float64).tobytes(), digest_size=16)
    if text:
        digest.update("\x1f".join("\x00" if v is None else v for v in text).encode())
    return digest.hexdigest()


def _splits(table, hashes: list[str], params: Params) -> np.ndarray:
    """Stratified by class at random, or ordered by `ingest.date_column` (`ingest.split_by: time`). A random split
    of dated rows lets a model train on the future it is tested on: said in the stage log, with the fix."""
    if params.ingest.split_by == "time":
        log.info("ingest.split_by: time: rows ordered by %r, the latest %.0f%% are the test split",
                 params.ingest.date_column, 100 * params.ingest.split.test)
        return time_ordered_splits(table.times, params.ingest.split)
    if table.date_columns:
        log.warning("%s has date columns (%s) and is split at random: training rows can come after test rows, so "
                    "the test score can be optimistic for a model used on future data; `ingest.split_by: time` "
                    "(with ingest.date_column) trains on the past and tests on the latest rows",
                    table.name, ", ".join(table.date_columns))
    return assign_splits(table.y, hashes, params.ingest.split, params.project.seed)


def ingest_table(params: Params, out_dir: str | Path, rejected_csv: str | Path, task_name: str) -> dict:
    """Read the configured table, mask cells if asked, split it and write the dataset folder.

    Returns:
        The dataset's meta (also written to meta.json).
    """
    out_dir, rejected_csv = Path(out_dir), Path(rejected_csv)
    table = open_table(params.ingest)
    write_rejected(rejected_csv, table.rejected)
    total = len(table.y) + len(table.rejected)
    if total and len(table.rejected) / total > params.ingest.max_rejected_fraction:
        raise DataError(f"{len(table.rejected)} of {total} rows rejected, above ingest.max_rejected_fraction="
                        f"{params.ingest.max_rejected_fraction}; the list is in {rejected_csv}")
    if len(set(table.y.tolist())) < 2:
        raise DataError(f"{table.name}: only {len(set(table.y.tolist()))} class present; classification needs 2+")
    raw_text = [tuple(table.categorical[j][i] for j in sorted(table.categorical)) for i in range(len(table.y))]
    hashes = [row_hash(row, text) for row, text in zip(table.x, raw_text, strict=True)]
    split = _splits(table, hashes, params)
    keep = imbalance_keep(table.y, split, hashes, table.class_names, params.ingest.imbalance, params.project.seed)
    if not keep.all():  # ingest.imbalance: the cut training rows leave the dataset altogether
        index = np.flatnonzero(keep)
        table = dataclasses.replace(table, x=table.x[index], y=table.y[index], refs=[table.refs[i] for i in index],
                                    categorical={j: np.asarray(v)[index] for j, v in table.categorical.items()},
                                    ids=None if table.ids is None else [table.ids[i] for i in index])
        hashes, split = [hashes[i] for i in index], split[index]
        log.info("ingest.imbalance: %d training rows of classes %s left out (keep %g)", int((~keep).sum()),
                 params.ingest.imbalance.classes, params.ingest.imbalance.keep)
    truth, columns = encode_categories(table, split == "train")
    numeric = np.array([c["kind"] == "numeric" for c in columns])
    features = mask_cells(truth, params.ingest.missing_fraction, params.project.seed, numeric)
    ids = table.ids or [f"{table.name}-{i:06d}" for i in range(len(table.y))]
    manifest = pd.DataFrame({"id": ids,
                             "row": np.arange(len(table.y)), "label": table.y,
                             "class_name": [table.class_names[i] for i in table.y], "source_ref": table.refs,
                             "content_hash": hashes})
    manifest.insert(2, "split", split)
    with store.building(out_dir) as tmp:
        np.save(tmp / store.FEATURES, features.astype(np.float32))
        np.save(tmp / store.TRUTH, truth.astype(np.float32))
        np.save(tmp / store.LABELS, table.y)
        manifest.to_csv(tmp / store.MANIFEST, index=False)
        meta = {"task": task_name, "source": table.name, "class_names": table.class_names,
                "n_classes": len(table.class_names), "feature_names": table.feature_names, "columns": columns,
                "id_column": params.ingest.id_column if table.ids else None,
                "image_shape": [len(table.feature_names)], "count": len(table.y), "rejected": len(table.rejected),
                "missing_fraction": params.ingest.missing_fraction,
                "masked_cells": int(np.isnan(features).sum() - np.isnan(truth).sum()),
                "split_counts": {s: int((manifest["split"] == s).sum()) for s in SPLITS},
                "seed": params.project.seed, "dataset_hash": dataset_hash(manifest)}
        if params.ingest.imbalance is not None:
            meta["imbalance"] = params.ingest.imbalance.model_dump() | {"left_out": int((~keep).sum())}
        store.write_meta(tmp, meta)
    log.info("ingested %d rows x %d features of %d classes from %s (%d cells masked), splits %s", meta["count"],
             len(table.feature_names), meta["n_classes"], table.name, meta["masked_cells"], meta["split_counts"])
    return meta


def ingest(task, params: Params, out_dir: Path, rejected_csv: Path) -> dict:
    """The ingest part of the task: the table into data/ingested/."""
    return ingest_table(params, out_dir, rejected_csv, task.name)
