"""Table sources for the tabular task: scikit-learn's breast cancer and wine tables, or a user's CSV file.

A table is read whole (these are small): features (N, F), one int label per row, the names of both. Cells a CSV
leaves empty stay NaN (the models impute them); rows without a label are rejected, not guessed. A CSV may have an
id column (`ingest.id_column`: the sample ids, never a feature) and text columns, which are categorical features:
their raw values are kept here and encoded at ingest from the train split's categories only. A date column becomes
calendar features (year, month, day of month, day of week, day of year: what a table model can use of a date, as
AutoGluon does) unless `ingest.date_features` is false; true/false and yes/no columns become 1/0.
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
DATE_YEARS = (1000, 2999)
DATE_PARTS = ("year", "month", "day", "dayofweek", "dayofyear")  # pandas' .dt accessors, one feature each
NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}"  # 31/01/2024, 01.31.24: which number is the day?
BOOLEAN_WORDS = {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}


class FreeTextColumn(DataError):
    """A column of mostly unique text: no table model reads it (`archlab init` moves it to ingest.drop_columns)."""


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
    date_columns: list[str] = field(default_factory=list)  # the CSV's date columns (as features or dropped)
    times: np.ndarray | None = None  # `ingest.date_column` as float seconds (NaN where empty), for split_by time
    derived: dict[int, dict] = field(default_factory=dict)  # column index -> its layout entry: a date part, a boolean


def column_kind(values, name: str, path: Path) -> str:
    """"numeric", "boolean", "date" or "categorical" for a CSV column; a free-text column is refused with what
    to do."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values):
        return "numeric"
    present = values[values.notna()].astype(str)
    if present.empty:
        return "numeric"  # an all-empty column: NaN everywhere, imputed (and flagged by the null expectation)
    if set(present.str.strip().str.lower()) <= set(BOOLEAN_WORDS):
        return "boolean"
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().mean() >= MOSTLY_NUMBERS:
        bad = present[numbers.isna()]
        raise DataError(f"{path}: column {name!r} must be numeric; row {bad.index[0] + 2} holds {bad.iloc[0]!r} "
                        "(fix the cell, or leave it empty to have it imputed)")
    dates = parse_dates(present)
    plausible = dates.notna() & dates.dt.year.between(*DATE_YEARS)  # "T-0001" reads as the year 1: an id, no date
    if plausible.mean() >= MOSTLY_DATES:
        return "date"
    distinct = present.nunique()
    if distinct >= MIN_FREE_TEXT and distinct > MOSTLY_UNIQUE * len(present):
        raise FreeTextColumn(f"{path}: column {name!r} is free text ({distinct} distinct values in {len(present)} "
                             f"rows, e.g. {present.iloc[0]!r}), not a category. List it in ingest.drop_columns, or "
                             "name it as ingest.id_column if it identifies the rows")
    return "categorical"


def _bunch(name: str) -> Table:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    return Table(name=name, x=np.asarray(bunch.data, dtype=np.float64), y=bunch.target.astype(np.int64),
                 class_names=[str(c) for c in bunch.target_names], feature_names=[str(f) for f in bunch.feature_names],
                 refs=[f"{name}[{i}]" for i in range(len(bunch.target))])


def _csv(params: IngestParams) -> Table:
    from archlab.data.csvfile import read_csv

    path = Path(params.path)
    frame = read_csv(path, what="ingest.path: csv file")
    for key, column in (("label_column", params.label_column), ("id_column", params.id_column)):
        if column is not None and column not in frame.columns:
            raise DataError(f"{path}: no {key.split('_')[0]} column {column!r} (ingest.{key}); "
                            f"columns are {list(frame.columns)}")
    unknown = [c for c in params.drop_columns if c not in frame.columns]
    if unknown:
        raise DataError(f"{path}: ingest.drop_columns names {unknown}, not columns of the file; columns are "
                        f"{list(frame.columns)}")
    features = frame.drop(columns=[c for c in (params.label_column, params.id_column, *params.drop_columns)
                                   if c is not None])
    kinds = {str(c): column_kind(features[c], str(c), path) for c in features.columns}
    if not any(kind != "date" or params.date_features for kind in kinds.values()):
        raise DataError(f"{path}: no feature columns besides the label column {params.label_column!r}")
    labels = frame[params.label_column]
    missing = labels.isna().to_numpy()
    rejected = [Rejected(f"{path}:{i + 2}", f"empty label column {params.label_column!r}")
                for i in np.flatnonzero(missing)]
    class_names = sorted({str(v) for v in labels[~missing]})
    index = {name: i for i, name in enumerate(class_names)}
    keep = np.flatnonzero(~missing)
    x, names, categorical, derived = _feature_columns(features.iloc[keep], kinds, params.date_features)
    return Table(name=path.name, x=x, y=np.array([index[str(v)] for v in labels[~missing]], dtype=np.int64),
                 class_names=class_names, feature_names=names, refs=[f"{path}:{i + 2}" for i in keep],
                 rejected=rejected, categorical=categorical, derived=derived,
                 ids=_ids(frame, params.id_column, keep, path),
                 date_columns=[c for c, kind in kinds.items() if kind == "date"],
                 times=_times(frame, params, keep, path) if params.split_by == "time" else None)


def _feature_columns(features, kinds: dict[str, str], date_features: bool):
    """The float matrix, its column names, the raw text of categorical columns and the layout entries of derived
    ones: one column per numeric, boolean or categorical column, DATE_PARTS columns (`<name>.<part>`) per date
    column, none for a date column when `date_features` is false."""
    import pandas as pd

    columns, names, categorical, derived = [], [], {}, {}
    for column in features.columns:
        values, kind = features[column], kinds[str(column)]
        if kind == "date":
            if date_features:
                first = day_first(values)  # kept in the layout: predict reads new rows the same way
                for part in DATE_PARTS:
                    derived[len(columns)] = {"kind": "date_part", "source": str(column), "part": part,
                                             "dayfirst": first}
                    columns.append(date_part(values, part, first))
                    names.append(f"{column}.{part}")
            continue
        if kind == "categorical":
            categorical[len(columns)] = np.array([None if pd.isna(v) else str(v) for v in values], dtype=object)
            columns.append(np.full(len(values), np.nan))
        elif kind == "boolean":
            derived[len(columns)] = {"kind": "boolean"}
            columns.append(boolean_values(values))
        else:
            columns.append(values.to_numpy(dtype=np.float64))
        names.append(str(column))
    x = np.column_stack(columns) if columns else np.empty((len(features), 0))
    return x, names, categorical, derived


def boolean_values(values) -> np.ndarray:
    """true/false, yes/no (any case), booleans or 1/0 as 1.0/0.0; empty cells NaN."""
    import pandas as pd

    def number(v):
        if pd.isna(v):
            return np.nan
        return BOOLEAN_WORDS.get(v.strip().lower(), np.nan) if isinstance(v, str) else float(v)

    return np.array([number(v) for v in values], dtype=np.float64)


def date_part(values, part: str, dayfirst: bool) -> np.ndarray:
    """One calendar feature (a DATE_PARTS name) of a column of dates; NaN where a cell is empty or no date."""
    return getattr(parse_dates(values, dayfirst).dt, part).to_numpy(dtype=np.float64, na_value=np.nan)


def day_first(values) -> bool:
    """Whether a column's dates are written day first (31/01/2024): pandas reads an ambiguous 05/01/2024 month
    first, cell by cell, so a day-first column would mix both readings. Day first when some cell's first number
    can only be a day (over 12) and no cell's second number is over 12."""
    numbers = values[values.notna()].astype(str).str.extract(NUMERIC_DATE).dropna().astype(int)
    return bool(len(numbers) and (numbers[0] > 12).any() and not (numbers[1] > 12).any())


def parse_dates(values, dayfirst: bool = False):
    """A column as timestamps, each cell read on its own (NaT where it is no date)."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns that it parses each value on its own ("mixed")
        return pd.to_datetime(values, errors="coerce", format="mixed", dayfirst=dayfirst)


def _ids(frame, id_column: str | None, keep: np.ndarray, path: Path) -> list[str] | None:
    import pandas as pd

    if id_column is None:
        return None
    ids = [str(v) for v in frame[id_column].iloc[keep]]
    seen = pd.Series(ids)
    if seen.duplicated().any() or frame[id_column].iloc[keep].isna().any():
        bad = seen[seen.duplicated()].iloc[0] if seen.duplicated().any() else "an empty id"
        raise DataError(f"{path}: id column {id_column!r} must name each row once; {bad!r} repeats or is missing")
    return ids


def _times(frame, params: IngestParams, keep: np.ndarray, path: Path) -> np.ndarray:
    """`ingest.date_column` as float seconds, for `ingest.split_by: time` (it may also be in drop_columns: the
    split then uses the date the features leave out)."""
    column = params.date_column
    if column not in frame.columns or column_kind(frame[column], column, path) != "date":
        raise DataError(f"{path}: ingest.split_by: time orders rows by ingest.date_column={column!r}, "
                        + ("which holds no dates" if column in frame.columns else
                           f"not a column; columns are {list(frame.columns)}"))
    dates = parse_dates(frame[column].iloc[keep], day_first(frame[column]))
    return np.array([np.nan if d is None or d != d else d.timestamp() for d in dates], dtype=np.float64)


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
        (features float64 (N, F), columns: [{"name", "kind", "categories"?, "source"?, "part"?}] in feature order;
        kind numeric, categorical, boolean or date_part).
    """
    x = np.array(table.x, dtype=np.float64, copy=True)
    columns = []
    for j, name in enumerate(table.feature_names):
        if j not in table.categorical:
            columns.append({"name": name, **table.derived.get(j, {"kind": "numeric"})})
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
