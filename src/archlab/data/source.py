"""What every data source yields (`archlab.data.adapters` opens the configured one)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Chunk:
    """A batch of accepted samples, already normalised to uint8 (n, H, W, C)."""

    images: np.ndarray
    labels: np.ndarray
    ids: list[str]
    refs: list[str]


@dataclass
class Rejected:
    """A sample that could not be used, kept for reports/ingest_rejected.csv."""

    ref: str
    reason: str


@dataclass
class SourceData:
    """A source opened for streaming: `chunks` is consumed once; `rejected` fills up while it is consumed."""

    name: str
    class_names: list[str]
    candidates: int
    chunks: Iterator[Chunk]
    rejected: list[Rejected] = field(default_factory=list)

