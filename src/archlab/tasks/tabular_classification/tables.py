"""Table sources for the tabular task: scikit-learn's breast cancer and wine tables, or a user's CSV file.

A table is read whole (these are small): float features (N, F), one int label per row, the names of both. Cells a
CSV leaves empty stay NaN (the models impute them); rows without a label are rejected, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archlab.data.source import Rejected
from archlab.errors import DataError
from archlab.params import IngestParams


@dataclass
class Table:
    name: str
    x: np.ndarray  # float64 (N, F), NaN where a cell is missing
    y: np.ndarray  # int64 (N,)
    class_names: list[str]
    feature_names: list[str]
    refs: list[str]
    rejected: list[Rejected] = field(default_factory=list)


def _bunch(name: str) -> Table:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    return Table(name=name, x=np.asarray(bunch.data, dtype=np.float64), y=bunch.target.astype(np.int64),
                 class_names=[str(c) for c in bunch.target_names], feature_names=[str(f) for f in bunch.feature_names],
                 refs=[f"{name}[{i}]" for i in range(len(bunch.target))])


def _csv(params: IngestParams) -> Table:
    import pandas as pd

    path = Path(params.path)
    if not path.is_file():
        raise DataError(f"ingest.path: csv file not found: {path}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file: {exc}") from None
    if params.label_column not in frame.columns:
        raise DataError(f"{path}: no label column {params.label_column!r} (ingest.label_column); "
                        f"columns are {list(frame.columns)}")
    features = frame.drop(columns=[params.label_column])
    for column in features.columns:
        if not pd.api.types.is_numeric_dtype(features[column]):
            bad = features[column][pd.to_numeric(features[column], errors="coerce").isna()
                                   & features[column].notna()]
            raise DataError(f"{path}: column {column!r} must be numeric; row {bad.index[0] + 2} holds "
                            f"{bad.iloc[0]!r} (encode categories as numbers first)")
    if features.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides the label column {params.label_column!r}")
    labels = frame[params.label_column]
    missing = labels.isna().to_numpy()
    rejected = [Rejected(f"{path}:{i + 2}", f"empty label column {params.label_column!r}")
                for i in np.flatnonzero(missing)]
    class_names = sorted({str(v) for v in labels[~missing]})
    index = {name: i for i, name in enumerate(class_names)}
    keep = np.flatnonzero(~missing)
    return Table(name=path.name, x=features.to_numpy(dtype=np.float64)[keep],
                 y=np.array([index[str(v)] for v in labels[~missing]], dtype=np.int64), class_names=class_names,
                 feature_names=[str(c) for c in features.columns], refs=[f"{path}:{i + 2}" for i in keep],
                 rejected=rejected)


def open_table(params: IngestParams) -> Table:
    """The configured table (`ingest.source`: breast_cancer | wine | csv)."""
    return _csv(params) if params.source == "csv" else _bunch(params.source)


def mask_cells(x: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A copy of `x` with a random `fraction` of its cells set to NaN (missing completely at random, seeded)."""
    masked = np.array(x, dtype=np.float64, copy=True)
    if fraction > 0:
        masked[np.random.default_rng(seed).random(x.shape) < fraction] = np.nan
    return masked
