"""Table sources for the tabular task: scikit-learn's breast cancer and wine tables, or a user's CSV file.

A table is read whole (these are small): features (N, F), one int label per row, the names of both. Cells a CSV
leaves empty stay NaN (the models impute them); rows without a label are rejected, not guessed. A CSV may have an
id column (`ingest.id_column`: the sample ids, never a feature) and text columns, which are categorical features:
their raw values are kept here and encoded at ingest from the train split's categories only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archlab.data.source import Rejected
from archlab.errors import DataError
from archlab.params import IngestParams

MOSTLY_NUMBERS = 0.5  # a text column whose values are at least this share numbers is a numeric column with typos
MOSTLY_UNIQUE = 0.5  # a text column with more distinct values than this share of its rows is free text, not a category
MIN_FREE_TEXT = 20  # ... once it has this many distinct values (a 6-row table's 4 colours are still a category)
MOSTLY_DATES = 0.9


@dataclass
class Table:
    name: str
    x: np.ndarray  # float64 (N, F), NaN where a cell is missing; categorical columns NaN until encoded
    y: np.ndarray  # int64 (N,)
    class_names: list[str]
    feature_names: list[str]
    refs: list[str]
    rejected: list[Rejected] = field(default_factory=list)
    categorical: dict[int, np.ndarray] = field(default_factory=dict)  # column index -> raw text (None if empty)
    ids: list[str] | None = None  # from `ingest.id_column`


def column_kind(values, name: str, path: Path) -> str:
    """"numeric" or "categorical" for a CSV column; a date or free-text column is refused with what to do."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values):
        return "numeric"
    present = values[values.notna()].astype(str)
    if present.empty:
        return "numeric"  # an all-empty column: NaN everywhere, imputed (and flagged by the null expectation)
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().mean() >= MOSTLY_NUMBERS:
        bad = present[numbers.isna()]
        raise DataError(f"{path}: column {name!r} must be numeric; row {bad.index[0] + 2} holds {bad.iloc[0]!r} "
                        "(fix the cell, or leave it empty to have it imputed)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns that it parses each value on its own ("mixed")
        dates = pd.to_datetime(present, errors="coerce", format="mixed")
    if dates.notna().mean() >= MOSTLY_DATES:
        raise DataError(f"{path}: column {name!r} holds dates (e.g. {present.iloc[0]!r}); a table model cannot use "
                        "a date as it is. Derive numeric columns from it (day of week, month, days since a start) "
                        "and drop it, or use the forecasting task for a time series")
    distinct = present.nunique()
    if distinct >= MIN_FREE_TEXT and distinct > MOSTLY_UNIQUE * len(present):
        raise DataError(f"{path}: column {name!r} is free text ({distinct} distinct values in {len(present)} rows, "
                        f"e.g. {present.iloc[0]!r}), not a category. Drop it, or name it as ingest.id_column if it "
                        "identifies the rows")
    return "categorical"


def _bunch(name: str) -> Table:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    return Table(name=name, x=np.asarray(bunch.data, dtype=np.float64), y=bunch.target.astype(np.int64),
                 class_names=[str(c) for c in bunch.target_names], feature_names=[str(f) for f in bunch.feature_names],
                 refs=[f"{name}[{i}]" for i in range(len(bunch.target))])


def _csv(params: IngestParams) -> Table:
    import pandas as pd

    from archlab.data.csvfile import read_csv

    path = Path(params.path)
    frame = read_csv(path, what="ingest.path: csv file")
    for key, column in (("label_column", params.label_column), ("id_column", params.id_column)):
        if column is not None and column not in frame.columns:
            raise DataError(f"{path}: no {key.split('_')[0]} column {column!r} (ingest.{key}); "
                            f"columns are {list(frame.columns)}")
    features = frame.drop(columns=[c for c in (params.label_column, params.id_column) if c is not None])
    if features.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides the label column {params.label_column!r}")
    kinds = [column_kind(features[c], str(c), path) for c in features.columns]
    labels = frame[params.label_column]
    missing = labels.isna().to_numpy()
    rejected = [Rejected(f"{path}:{i + 2}", f"empty label column {params.label_column!r}")
                for i in np.flatnonzero(missing)]
    class_names = sorted({str(v) for v in labels[~missing]})
    index = {name: i for i, name in enumerate(class_names)}
    keep = np.flatnonzero(~missing)
    x = np.full((len(keep), features.shape[1]), np.nan)
    categorical = {}
    for j, (column, kind) in enumerate(zip(features.columns, kinds, strict=True)):
        values = features[column].iloc[keep]
        if kind == "numeric":
            x[:, j] = values.to_numpy(dtype=np.float64)
        else:
            categorical[j] = np.array([None if pd.isna(v) else str(v) for v in values], dtype=object)
    ids = None
    if params.id_column is not None:
        ids = [str(v) for v in frame[params.id_column].iloc[keep]]
        seen = pd.Series(ids)
        if seen.duplicated().any() or frame[params.id_column].iloc[keep].isna().any():
            bad = seen[seen.duplicated()].iloc[0] if seen.duplicated().any() else "an empty id"
            raise DataError(f"{path}: id column {params.id_column!r} must name each row once; {bad!r} repeats or "
                            "is missing")
    return Table(name=path.name, x=x, y=np.array([index[str(v)] for v in labels[~missing]], dtype=np.int64),
                 class_names=class_names, feature_names=[str(c) for c in features.columns],
                 refs=[f"{path}:{i + 2}" for i in keep], rejected=rejected, categorical=categorical, ids=ids)


def open_table(params: IngestParams) -> Table:
    """The configured table (`ingest.source`: breast_cancer | wine | csv)."""
    return _csv(params) if params.source == "csv" else _bunch(params.source)


def mask_cells(x: np.ndarray, fraction: float, seed: int, numeric: np.ndarray | None = None) -> np.ndarray:
    """A copy of `x` with a random `fraction` of its cells set to NaN (missing completely at random, seeded).

    Args:
        numeric: which columns may be masked (default all); a categorical column's missing value is its unknown
            slot, not NaN, and its imputation is not what the masking measures.
    """
    masked = np.array(x, dtype=np.float64, copy=True)
    if fraction > 0:
        cells = np.random.default_rng(seed).random(x.shape) < fraction
        if numeric is not None:
            cells &= np.asarray(numeric, dtype=bool)[None, :]
        masked[cells] = np.nan
    return masked


def encode_categories(table: Table, train: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """The features with each categorical column as codes from the train rows' categories, and the column layout.

    Code 0 is the "unknown" slot (an empty cell, or a category no train row has: seen only in val, test or at
    predict time); categories 1..K are the train split's distinct values in sorted order.

    Returns:
        (features float64 (N, F), columns: [{"name", "kind", "categories"}] in feature order).
    """
    x = np.array(table.x, dtype=np.float64, copy=True)
    columns = []
    for j, name in enumerate(table.feature_names):
        if j not in table.categorical:
            columns.append({"name": name, "kind": "numeric"})
            continue
        raw = table.categorical[j]
        categories = sorted({v for v in raw[train] if v is not None})
        x[:, j] = encode_column(raw, categories)
        columns.append({"name": name, "kind": "categorical", "categories": categories})
    return x, columns


def encode_column(raw, categories: list[str]) -> np.ndarray:
    """Raw values to codes: a category's position + 1, or 0 for an empty cell or an unseen category."""
    index = {value: i + 1 for i, value in enumerate(categories)}
    return np.array([index.get(None if v is None else str(v), 0) if v == v else 0 for v in raw], dtype=np.float64)
