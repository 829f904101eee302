"""What the image tasks share in every stage (image classification, and text-to-image's real images and judges):
the data profile the retrain drift gate compares, image files as `predict` inputs. Their stage parts are image
classification's (`archlab.tasks.image_classification.ingest`, `.validate`, `.evaluate`), which text-to-image
extends."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from archlab.errors import ArchlabError
from archlab.tasks.classification import ClassificationTask

log = logging.getLogger(__name__)
IMAGE_SOURCES = ("digits", "image_dir", "npz", "keras")


def read_image_inputs(paths: list[Path], input_shape: list[int]) -> tuple[np.ndarray, list[str]]:
    """Stack images from files (decoded and resized like ingest does) and .npy arrays into (N, H, W, C) floats."""
    from archlab.data.decode import IMAGE_EXTENSIONS, Unreadable, decode_file

    if len(input_shape) != 3:
        raise ArchlabError(f"this model takes arrays of shape (N, {', '.join(map(str, input_shape))}), not images; "
                           "predict with its model folder (it holds info.json, which names the task)")
    height, width, channels = input_shape
    color_mode = "grayscale" if channels == 1 else "rgb"
    arrays, names = [], []
    for path in paths:
        if not path.is_file():
            raise ArchlabError(f"{path}: input file not found")
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
            array = array[..., None] if array.ndim == 3 else array
            if array.ndim != 4 or tuple(array.shape[1:]) != (height, width, channels):
                raise ArchlabError(f"{path}: expected an array of shape (N, {height}, {width}, {channels}), "
                                   f"got {array.shape}")
            arrays.append(np.asarray(array, dtype=np.float32))
            names.extend(f"{path}[{i}]" for i in range(len(array)))
        elif path.suffix.lower() in IMAGE_EXTENSIONS:
            try:
                arrays.append(decode_file(path, (height, width), color_mode)[None].astype(np.float32))
            except Unreadable as exc:
                raise ArchlabError(f"{path}: {exc}") from None
            names.append(str(path))
        else:
            raise ArchlabError(f"{path}: expected an image ({', '.join(sorted(IMAGE_EXTENSIONS))}) or an .npy file")
    return np.concatenate(arrays), names


class ImagesTask(ClassificationTask):
    """Labelled images (N, H, W, C), pixels 0..255."""

    inputs = "images (N, H, W, C)"
    sources = IMAGE_SOURCES
    sample_noun = "test images"
    uses_features = True
    drift_gate = True

    def describe(self, meta: dict) -> str:
        return (f"{meta['count']} {meta['source']} images {'x'.join(map(str, meta['image_shape']))}, "
                f"{meta['n_classes']} classes")

    def training_profile(self, data) -> dict | None:
        from archlab.data.profile import profile

        return profile(data.x_train, data.y_train, data.class_names)

    def read_inputs(self, paths: list[Path], info: dict) -> tuple[np.ndarray, list[str]]:
        return read_image_inputs(paths, info["input_shape"])
