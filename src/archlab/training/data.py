"""What every architecture trains on: the train and val splits of the ingested dataset, never test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archlab.data.store import read_dataset

if TYPE_CHECKING:  # only an annotation here; the zoo imports this module whenever params are read
    import pandas as pd


@dataclass(frozen=True)
class TrainingData:
    """Train/val arrays (uint8 NHWC images, int labels) plus what tracking needs to describe them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: list[str]
    dataset_hash: str
    manifest: pd.DataFrame
    source: str
    meta: dict = field(default_factory=dict)  # the dataset's meta.json (task, forecasting's season...)
    text_train: np.ndarray | None = None  # text-to-image: caption tokens of each train / val sample
    text_val: np.ndarray | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def load_training_data(folder: str | Path) -> TrainingData:
    """Read the train and val splits (the test split stays unseen until evaluation)."""
    dataset = read_dataset(folder)
    x_train, y_train, _ = dataset.split("train")
    x_val, y_val, _ = dataset.split("val")
    return TrainingData(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                        class_names=list(dataset.meta["class_names"]), dataset_hash=dataset.meta["dataset_hash"],
                        manifest=dataset.manifest, source=str(Path(folder)), meta=dataset.meta,
                        text_train=dataset.tokens("train"), text_val=dataset.tokens("val"))


def subset(data: TrainingData, n_train: int, n_val: int) -> TrainingData:
    """A smaller copy (first rows of each split), for tests and quick looks."""
    return TrainingData(x_train=data.x_train[:n_train], y_train=data.y_train[:n_train], x_val=data.x_val[:n_val],
                        y_val=data.y_val[:n_val], class_names=data.class_names, dataset_hash=data.dataset_hash,
                        manifest=data.manifest, source=data.source, meta=data.meta,
                        text_train=None if data.text_train is None else data.text_train[:n_train],
                        text_val=None if data.text_val is None else data.text_val[:n_val])
