"""The ingested dataset on disk: images.npy, labels.npy, manifest.csv and meta.json in one folder.

Written into a temporary sibling folder and renamed into place only when complete, so a failed or killed ingest
never leaves a dataset that looks finished. Images are streamed into a memory-mapped .npy, so memory stays bounded
whatever the number of images.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where it is used: ~0.45 s a stage that only reads params
    import pandas as pd

IMAGES, LABELS, MANIFEST, META = "images.npy", "labels.npy", "manifest.csv", "meta.json"
FEATURES, TRUTH = "features.npy", "truth.npy"  # the tabular task's samples, and its values before masking
TOKENS = "tokens.npy"  # text-to-image: each sample's caption as token ids
COPY_ROWS = 4096


def content_hash(image: np.ndarray) -> str:
    """Hash of a sample's normalised pixels: equal images, equal hash (the leakage check relies on it)."""
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).hexdigest()


@dataclass
class Dataset:
    """An ingested dataset opened for reading; `images` is memory-mapped.

    For the tabular task `images` holds the feature rows (N, F): every stage indexes samples the same way.
    """

    images: np.ndarray
    labels: np.ndarray
    manifest: pd.DataFrame
    meta: dict
    folder: Path | None = None

    @property
    def task(self) -> str:
        from archlab.tasks import DEFAULT

        return self.meta.get("task", DEFAULT)

    def tokens(self, name: str) -> np.ndarray | None:
        """A split's caption tokens (text-to-image), in manifest order; None when the dataset has no captions."""
        if self.folder is None or not (self.folder / TOKENS).is_file():
            return None
        index = self.manifest[self.manifest["split"] == name]["row"].to_numpy()
        return np.load(self.folder / TOKENS)[index]

    def truth(self, name: str) -> np.ndarray | None:
        """A table split's feature values before masking (None for images or when not recorded)."""
        if self.folder is None or not (self.folder / TRUTH).is_file():
            return None
        index = self.manifest[self.manifest["split"] == name]["row"].to_numpy()
        return np.load(self.folder / TRUTH, mmap_mode="r")[index]

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        """Images, labels and manifest rows of one split, in manifest order."""
        rows = self.manifest[self.manifest["split"] == name]
        index = rows["row"].to_numpy()
        return np.asarray(self.images[index]), self.labels[index], rows


def read_dataset(folder: str | Path) -> Dataset:
    """Open an ingested dataset folder (written by `write_dataset`)."""
    import pandas as pd

    from archlab.errors import DataError

    folder = Path(folder)
    samples = FEATURES if (folder / FEATURES).is_file() else IMAGES
    missing = [name for name in (samples, LABELS, MANIFEST, META) if not (folder / name).is_file()]
    if missing:
        raise DataError(f"{folder}: not an ingested dataset, missing {missing}; run the ingest stage first")
    return Dataset(
        folder=folder,
        images=np.load(folder / samples, mmap_mode="r"),
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


@contextmanager
def building(final: str | Path) -> Iterator[Path]:
    """Build the folder `final` in a fresh temporary sibling, published in place only when the block completes.

    A block that raises (a bad sample, a full disk, Ctrl-C) leaves no temporary folder behind and the previous
    `final`, if any, untouched: no output that looks complete without being so.
    """
    final = Path(final)
    tmp = temp_folder(final)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish(tmp, final)


def publish(tmp: Path, final: Path) -> None:
    """Replace `final` by the completed `tmp` folder."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def allocated_memmap(path: Path, dtype, shape: tuple[int, ...]) -> np.memmap:
    """`np.lib.format.open_memmap` with its disk space reserved up front.

    A memory-mapped file is sparse until written, and a page written to a full disk kills the process with SIGBUS:
    no message, and the temporary folder is left behind. Reserving the space turns a full disk into an OSError
    (ENOSPC, naming the file) before anything is written, which the stage reports and cleans up after.
    """
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    try:
        with open(path, "r+b") as fh:
            os.posix_fallocate(fh.fileno(), 0, os.path.getsize(path))
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            return array  # a filesystem that cannot reserve space: write as before
        del array
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    return array


def compact_images(raw_path: Path, final_path: Path, rows: int | np.ndarray) -> None:
    """Copy the first `rows` images (or the rows an index array names, in its order) of a .npy into an
    exactly-sized one, chunk by chunk, and remove the source."""
    index = np.arange(rows) if isinstance(rows, int) else np.asarray(rows)
    raw = np.load(raw_path, mmap_mode="r")
    out = allocated_memmap(final_path, raw.dtype, (len(index), *raw.shape[1:]))
    for start in range(0, len(index), COPY_ROWS):
        out[start:start + COPY_ROWS] = raw[index[start:start + COPY_ROWS]]
    out.flush()
    del out, raw
    raw_path.unlink()


def write_meta(folder: Path, meta: dict) -> None:
    (folder / META).write_text(json.dumps(meta, indent=2) + "\n")
