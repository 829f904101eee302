"""The ingest stage's logic: a configured source in, one normalised, split dataset folder out."""

from __future__ import annotations

import csv
import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from archlab.data import store
from archlab.data.source import Rejected, SourceData, open_source
from archlab.data.splits import SPLITS, assign_splits
from archlab.errors import DataError
from archlab.params import Params

log = logging.getLogger(__name__)
SHOWN_REJECTS = 20


@dataclass
class Streamed:
    rows: int
    labels: list[int]
    ids: list[str]
    refs: list[str]
    hashes: list[str]


def _stream_images(source: SourceData, folder: Path) -> Streamed:
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


def write_rejected(path: Path, rejected: list[Rejected]) -> None:
    """reports/ingest_rejected.csv: one row per unusable file or sample, with the reason (header-only if none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source_ref", "reason"])
        writer.writerows((r.ref, r.reason) for r in rejected)
    for r in rejected[:SHOWN_REJECTS]:
        log.warning("rejected %s: %s", r.ref, r.reason)
    if len(rejected) > SHOWN_REJECTS:
        log.warning("... and %d more rejected samples, listed in %s", len(rejected) - SHOWN_REJECTS, path)


def _check_outcome(streamed: Streamed, rejected: list[Rejected], class_names: list[str], params: Params,
                   rejected_csv: Path) -> None:
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


CAPTION_TOKENS = 8  # longer than any template's caption


def add_captions(folder: Path, manifest: pd.DataFrame, class_names: list[str], params: Params) -> dict:
    """Text-to-image: a caption per sample (manifest column `caption`), its tokens in tokens.npy; returns the meta
    entries (task, vocabulary)."""
    from archlab.data.captions import build_vocabulary, captions_for, encode
    from archlab.tasks import TEXT_TO_IMAGE

    texts = captions_for(manifest["id"].tolist(), class_names, manifest["label"].to_numpy(), params.project.seed)
    manifest["caption"] = texts
    train = [t for t, s in zip(texts, manifest["split"], strict=True) if s == "train"]
    vocabulary = build_vocabulary(train)
    np.save(folder / store.TOKENS, encode(texts, vocabulary, CAPTION_TOKENS))
    return {"task": TEXT_TO_IMAGE, "vocabulary": vocabulary, "caption_tokens": CAPTION_TOKENS}


def dataset_hash(manifest: pd.DataFrame) -> str:
    """A short fingerprint of the ingested data (content, labels and split), logged with every model trained on it."""
    digest = hashlib.blake2b(digest_size=8)
    for row in manifest[["content_hash", "label", "split"]].itertuples(index=False):
        digest.update(f"{row.content_hash}:{row.label}:{row.split};".encode())
    return digest.hexdigest()


def ingest(params: Params, out_dir: str | Path, rejected_csv: str | Path) -> dict:
    """Read `ingest.source` and write the normalised dataset folder.

    Args:
        params: the validated params.
        out_dir: folder to (re)create: images.npy (uint8 N,H,W,C), labels.npy, manifest.csv, meta.json.
        rejected_csv: where the list of rejected samples goes (written even when the stage fails).

    Returns:
        The dataset's meta (also written to meta.json).
    """
    from archlab.tasks import FORECASTING, TABULAR, TEXT_TO_IMAGE

    if params.task == TABULAR:
        from archlab.ingest_table import ingest_table

        return ingest_table(params, out_dir, rejected_csv)
    if params.task == FORECASTING:
        from archlab.ingest_series import ingest_series

        return ingest_series(params, out_dir, rejected_csv)
    out_dir, rejected_csv = Path(out_dir), Path(rejected_csv)
    source = open_source(params.ingest)
    tmp = store.temp_folder(out_dir)
    try:
        streamed = _stream_images(source, tmp)
        write_rejected(rejected_csv, source.rejected)
        _check_outcome(streamed, source.rejected, source.class_names, params, rejected_csv)
        labels = np.asarray(streamed.labels, dtype=np.int64)
        manifest = pd.DataFrame({
            "id": streamed.ids, "row": np.arange(streamed.rows), "label": labels,
            "class_name": [source.class_names[i] for i in labels], "source_ref": streamed.refs,
            "content_hash": streamed.hashes,
        })
        manifest.insert(2, "split", assign_splits(labels, streamed.hashes, params.ingest.split, params.project.seed))
        np.save(tmp / store.LABELS, labels)
        text = add_captions(tmp, manifest, source.class_names, params) if params.task == TEXT_TO_IMAGE else {}
        manifest.to_csv(tmp / store.MANIFEST, index=False)
        shape = list(np.load(tmp / store.IMAGES, mmap_mode="r").shape[1:])
        meta = {
            "source": source.name, "class_names": source.class_names, "n_classes": len(source.class_names),
            "image_shape": shape, "count": streamed.rows, "rejected": len(source.rejected),
            "split_counts": {s: int((manifest["split"] == s).sum()) for s in SPLITS},
            "seed": params.project.seed, "dataset_hash": dataset_hash(manifest), **text,
        }
        store.write_meta(tmp, meta)
        store.publish(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("ingested %d samples of %d classes from %s, shape %s, splits %s", meta["count"], meta["n_classes"],
             source.name, shape, meta["split_counts"])
    return meta
