"""Time series for the forecasting task: statsmodels' weekly co2 and yearly sunspots, or a user's CSV; sliding
windows over them, and the chronological split.

Every window is W past values and the H values after them (its target). The split cuts the series' time axis at
the train/val/test fractions; a window belongs to a split only when its whole target lies inside that split's
stretch of time, so no training target lies at or after the first val or test target: no future data in training.
Windows whose target straddles a cut are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from archlab.errors import DataError
from archlab.params import IngestParams, SplitParams


@dataclass
class Series:
    name: str
    dates: list[str]
    values: np.ndarray  # float64, gaps filled
    filled: int  # missing values filled by linear interpolation


def _interpolated(name: str, dates: pd.Index, values: pd.Series) -> Series:
    missing = int(values.isna().sum())
    if missing == len(values):
        raise DataError(f"{name}: every value is missing")
    values = values.interpolate(method="linear", limit_direction="both")
    return Series(name=name, dates=[str(d)[:10] for d in dates], values=values.to_numpy(dtype=np.float64),
                  filled=missing)


def _csv(params: IngestParams) -> Series:
    path = Path(params.path)
    if not path.is_file():
        raise DataError(f"ingest.path: csv file not found: {path}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file: {exc}") from None
    missing = [c for c in (params.date_column, params.value_column) if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing} (ingest.date_column / ingest.value_column); "
                        f"columns are {list(frame.columns)}")
    dates = pd.to_datetime(frame[params.date_column], errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna())[0])
        raise DataError(f"{path}: row {row + 2} has {frame[params.date_column].iloc[row]!r} in "
                        f"{params.date_column!r}, not a date")
    values = pd.to_numeric(frame[params.value_column], errors="coerce")
    bad = values.isna() & frame[params.value_column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{path}: row {row + 2} has {frame[params.value_column].iloc[row]!r} in "
                        f"{params.value_column!r}, not a number")
    if dates.duplicated().any():
        raise DataError(f"{path}: date {dates[dates.duplicated()].iloc[0].date()} appears twice")
    order = np.argsort(dates.to_numpy(), kind="stable")
    return _interpolated(path.name, pd.Index(dates.to_numpy()[order]), values.iloc[order].reset_index(drop=True))


def open_series(params: IngestParams) -> Series:
    """The configured series (`ingest.source`: co2 | sunspots | csv), in time order, gaps interpolated."""
    if params.source == "csv":
        return _csv(params)
    from statsmodels import datasets

    if params.source == "co2":
        frame = datasets.co2.load_pandas().data
        return _interpolated("co2", frame.index, frame["co2"])
    frame = datasets.sunspots.load_pandas().data
    years = pd.to_datetime(frame["YEAR"].astype(int).astype(str) + "-01-01")
    return _interpolated("sunspots", pd.Index(years), frame["SUNACTIVITY"])


def windows(values: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sliding windows, one per start: inputs (N, window), targets (N, horizon), and each target's first index."""
    n = len(values) - window - horizon + 1
    if n < 1:
        raise DataError(f"the series has {len(values)} values; ingest.window ({window}) + ingest.horizon "
                        f"({horizon}) need at least {window + horizon}")
    starts = np.arange(n)
    inputs = np.stack([values[s:s + window] for s in starts])
    targets = np.stack([values[s + window:s + window + horizon] for s in starts])
    return inputs, targets, starts + window


def chronological_split(target_start: np.ndarray, horizon: int, n_values: int,
                        fractions: SplitParams) -> np.ndarray:
    """"train"/"val"/"test" per window by where its target lies in time; "" for windows straddling a cut."""
    cut_val = round(n_values * fractions.train)
    cut_test = round(n_values * (fractions.train + fractions.val))
    target_end = target_start + horizon - 1
    split = np.full(len(target_start), "", dtype=object)
    split[target_end < cut_val] = "train"
    split[(target_start >= cut_val) & (target_end < cut_test)] = "val"
    split[target_start >= cut_test] = "test"
    return split.astype(str)


def seasonal_scale(train_values: np.ndarray, season: int) -> float:
    """MASE's denominator: the mean absolute error of the seasonal-naive forecast inside the training stretch."""
    if len(train_values) <= season:
        raise DataError(f"the training stretch has {len(train_values)} values; ingest.season ({season}) needs more")
    scale = float(np.mean(np.abs(train_values[season:] - train_values[:-season])))
    return scale if scale > 0 else 1.0
