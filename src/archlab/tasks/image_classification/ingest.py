"""Ingest for image classification (and text-to-image's images): stream any image source (`ingest.source`) into
data/ingested/ with bounded memory, deterministic stratified splits by content hash, and the optional cut of some
classes' training samples (`ingest.imbalance`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from archlab.data import store
from archlab.data.adapters import open_source
from archlab.data.splits import SPLITS, assign_splits, imbalance_keep
from archlab.errors import DataError
from archlab.ingest import dataset_hash, write_rejected

log = logging.getLogger(__name__)
# more files and manifest columns of the dataset (text-to-image's captions); returns meta entries
Extension = Callable[[Path, pd.DataFrame, list[str], object], dict]


@dataclass
class Streamed:
    rows: int
    labels: list[int]
    ids: list[str]
    refs: list[str]
    hashes: list[str]


def stream_images(source, folder: Path) -> Streamed:
    """Write every accepted image into `folder/images.npy` as it is decoded (bounded memory)."""
    raw_path = folder / "images.raw.npy"
    images = None
    out = Streamed(0, [], [], [], [])
    for chunk in source.chunks:
        if images is None:
            images = store.allocated_memmap(raw_path, np.uint8, (source.candidates, *chunk.images.shape[1:]))
        k = len(chunk.images)
        images[out.rows:out.rows + k] = chunk.images
        out.rows += k
        out.labels.extend(int(v) for v in chunk.labels)
        out.ids.extend(chunk.ids)
        out.refs.extend(chunk.refs)
        out.hashes.extend(store.content_hash(img) for img in chunk.images)
    if images is None:
        raise DataError(f"{source.name}: no readable samples at all ({len(source.rejected)} rejected); "
                        "see reports/ingest_rejected.csv")
    images.flush()
    del images
    if out.rows < source.candidates:
        store.compact_images(raw_path, folder / store.IMAGES, out.rows)
    else:
        raw_path.rename(folder / store.IMAGES)
    return out


def check_outcome(streamed: Streamed, rejected: list, class_names: list[str], params, rejected_csv: Path) -> None:
    total = streamed.rows + len(rejected)
    fraction = len(rejected) / total
    limit = params.ingest.max_rejected_fraction
    if fraction > limit:
        raise DataError(f"{len(rejected)} of {total} samples rejected ({fraction:.1%}), above "
                        f"ingest.max_rejected_fraction={limit}; the list is in {rejected_csv}")
    present = sorted(set(streamed.labels))
    if len(present) < 2:
        raise DataError(f"only {len(present)} class has readable samples ({[class_names[i] for i in present]}); "
                        "classification needs at least 2")


def no_extension(folder: Path, manifest: pd.DataFrame, class_names: list[str], params) -> dict:
    return {}


def ingest(task, params, out_dir: Path, rejected_csv: Path, extend_dataset: Extension = no_extension) -> dict:
    """Write data/ingested/ (images, labels, manifest, meta) from the configured source; returns its meta."""
    source = open_source(params.ingest)
    with store.building(out_dir) as tmp:
        streamed = stream_images(source, tmp)
        write_rejected(Path(rejected_csv), source.rejected)
        check_outcome(streamed, source.rejected, source.class_names, params, rejected_csv)
        labels = np.asarray(streamed.labels, dtype=np.int64)
        manifest = pd.DataFrame({
            "id": streamed.ids, "row": np.arange(streamed.rows), "label": labels,
            "class_name": [source.class_names[i] for i in labels], "source_ref": streamed.refs,
            "content_hash": streamed.hashes,
        })
        manifest.insert(2, "split", assign_splits(labels, streamed.hashes, params.ingest.split,
                                                  params.project.seed))
        keep = imbalance_keep(labels, manifest["split"].to_numpy(), streamed.hashes, source.class_names,
                              params.ingest.imbalance, params.project.seed)
        if not keep.all():  # ingest.imbalance: the cut training samples leave the dataset altogether
            store.compact_images(tmp / store.IMAGES, tmp / "images.kept.npy", np.flatnonzero(keep))
            (tmp / "images.kept.npy").rename(tmp / store.IMAGES)
            manifest, labels = manifest[keep].reset_index(drop=True), labels[keep]
            manifest["row"] = np.arange(len(manifest))
            log.info("ingest.imbalance: %d training samples of classes %s left out (keep %g)", int((~keep).sum()),
                     params.ingest.imbalance.classes, params.ingest.imbalance.keep)
        np.save(tmp / store.LABELS, labels)
        extra = extend_dataset(tmp, manifest, source.class_names, params)
        manifest.to_csv(tmp / store.MANIFEST, index=False)
        shape = list(np.load(tmp / store.IMAGES, mmap_mode="r").shape[1:])
        meta = {
            "task": task.name, "source": source.name, "class_names": source.class_names,
            "n_classes": len(source.class_names), "image_shape": shape, "count": len(manifest),
            "rejected": len(source.rejected),
            "split_counts": {s: int((manifest["split"] == s).sum()) for s in SPLITS},
            "seed": params.project.seed, "dataset_hash": dataset_hash(manifest), **extra,
        }
        if params.ingest.imbalance is not None:
            meta["imbalance"] = params.ingest.imbalance.model_dump() | {"left_out": int((~keep).sum())}
        store.write_meta(tmp, meta)
    log.info("ingested %d samples of %d classes from %s, shape %s, splits %s", meta["count"], meta["n_classes"],
             source.name, shape, meta["split_counts"])
    return meta
