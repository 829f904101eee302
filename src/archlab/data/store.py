"""The ingested dataset on disk: images.npy, labels.npy, manifest.csv and meta.json in one folder.

Written into a temporary sibling folder and renamed into place only when complete, so a failed or killed ingest
never leaves a dataset that looks finished. Images are streamed into a memory-mapped .npy, so memory stays bounded
whatever the number of images.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

IMAGES, LABELS, MANIFEST, META = "images.npy", "labels.npy", "manifest.csv", "meta.json"
COPY_ROWS = 4096


def content_hash(image: np.ndarray) -> str:
    """Hash of a sample's normalised pixels: equal images, equal hash (the leakage check relies on it)."""
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).hexdigest()


@dataclass
class Dataset:
    """An ingested dataset opened for reading; `images` is memory-mapped."""

    images: np.ndarray
    labels: np.ndarray
    manifest: pd.DataFrame
    meta: dict

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        """Images, labels and manifest rows of one split, in manifest order."""
        rows = self.manifest[self.manifest["split"] == name]
        index = rows["row"].to_numpy()
        return np.asarray(self.images[index]), self.labels[index], rows


def read_dataset(folder: str | Path) -> Dataset:
    """Open an ingested dataset folder (written by `write_dataset`)."""
    from archlab.errors import DataError

    folder = Path(folder)
    missing = [name for name in (IMAGES, LABELS, MANIFEST, META) if not (folder / name).is_file()]
    if missing:
        raise DataError(f"{folder}: not an ingested dataset, missing {missing}; run the ingest stage first")
    return Dataset(
        images=np.load(folder / IMAGES, mmap_mode="r"),
        labels=np.load(folder / LABELS),
        manifest=pd.read_csv(folder / MANIFEST, dtype={"id": str, "split": str, "source_ref": str,
                                                       "content_hash": str}),
        meta=json.loads((folder / META).read_text()),
    )


def temp_folder(final: Path) -> Path:
    """A fresh sibling folder to build `final` in."""
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def publish(tmp: Path, final: Path) -> None:
    """Replace `final` by the completed `tmp` folder."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def compact_images(raw_path: Path, final_path: Path, rows: int) -> None:
    """Copy the first `rows` images of an over-allocated .npy into an exactly-sized one, chunk by chunk."""
    raw = np.load(raw_path, mmap_mode="r")
    out = np.lib.format.open_memmap(final_path, mode="w+", dtype=np.uint8, shape=(rows, *raw.shape[1:]))
    for start in range(0, rows, COPY_ROWS):
        out[start:start + COPY_ROWS] = raw[start:min(start + COPY_ROWS, rows)]
    out.flush()
    del out, raw
    raw_path.unlink()


def write_meta(folder: Path, meta: dict) -> None:
    (folder / META).write_text(json.dumps(meta, indent=2) + "\n")
