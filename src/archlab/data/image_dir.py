"""A folder with one sub-folder per class, the layout `keras.utils.image_dataset_from_directory` reads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from archlab.data.decode import IMAGE_EXTENSIONS, Unreadable, decode_file
from archlab.data.source import Chunk, Rejected, SourceData
from archlab.errors import DataError
from archlab.params import IngestParams


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _list_class(class_dir: Path, root: Path, rejected: list[Rejected]) -> list[Path]:
    """Image candidates of one class, recursively and sorted; what cannot be a sample is listed as rejected."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(class_dir):
        dirnames.sort()
        for name in list(dirnames):
            if (Path(dirpath) / name).is_symlink():
                rejected.append(Rejected(str(Path(dirpath, name).relative_to(root)), "symlinked folder not followed"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            ref = str(path.relative_to(root))
            if path.is_symlink() and not _inside(path, root):
                rejected.append(Rejected(ref, "symlink points outside the dataset folder"))
            elif path.suffix.lower() not in IMAGE_EXTENSIONS:
                rejected.append(Rejected(ref, f"not an image file (extension {path.suffix or 'none'!r})"))
            else:
                found.append(path)
    return found


def _scan(root: Path) -> tuple[list[str], list[tuple[Path, int]], list[Rejected]]:
    """Class names, (file, label) candidates and up-front rejects; structural problems raise DataError."""
    if not root.exists():
        raise DataError(f"ingest.path: image folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"ingest.path: {root} is not a folder; source 'image_dir' expects one sub-folder per class")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{root}: no class sub-folders found; expected {root}/<class_name>/<image files>")
    if len(class_dirs) < 2:
        raise DataError(f"{root}: only one class folder ({class_dirs[0].name!r}); classification needs at least 2")
    rejected: list[Rejected] = []
    candidates: list[tuple[Path, int]] = []
    for label, class_dir in enumerate(class_dirs):
        files = _list_class(class_dir, root.resolve(), rejected)
        if not files:
            raise DataError(f"{class_dir}: class folder has no image files ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        candidates.extend((path, label) for path in files)
    return [p.name for p in class_dirs], candidates, rejected


def _decode_chunks(root: Path, candidates: list[tuple[Path, int]], params: IngestParams,
                   rejected: list[Rejected]) -> Iterator[Chunk]:
    for start in range(0, len(candidates), params.chunk_size):
        images, labels, refs = [], [], []
        for path, label in candidates[start:start + params.chunk_size]:
            ref = path.relative_to(root).as_posix()
            try:
                images.append(decode_file(path, params.image_size, params.color_mode))
            except Unreadable as exc:
                rejected.append(Rejected(ref, str(exc)))
                continue
            labels.append(label)
            refs.append(ref)
        if images:
            yield Chunk(images=np.stack(images), labels=np.asarray(labels, dtype=np.int64), ids=list(refs), refs=refs)


def image_dir(params: IngestParams) -> SourceData:
    """Open an image folder: PNG/JPEG/BMP/GIF of any size and colour mode, resized to `ingest.image_size`."""
    root = Path(params.path).resolve()  # refs are relative to it, however the path was written
    class_names, candidates, rejected = _scan(root)
    return SourceData(name="image_dir", class_names=class_names, candidates=len(candidates),
                      chunks=_decode_chunks(root, candidates, params, rejected), rejected=rejected)
