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
    values: np.ndarray  # float64 on a regular grid, gaps filled
    filled: int  # steps filled by linear interpolation: missing values and dates absent from the file
    frequency: str = ""  # the grid's pandas offset alias ("D", "W-SAT", "MS", ...)
    missing_dates: int = 0  # of `filled`: steps whose date the file did not have at all


UNITS = {"D": "days", "B": "business days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years", "h": "hours",
         "min": "minutes", "s": "seconds"}


def step_unit(frequency: str) -> str:
    """What one step of a grid is called in messages ("20 of 1,095 days interpolated")."""
    import re

    base = re.sub(r"^\d+", "", frequency).split("-")[0]
    for prefix, unit in UNITS.items():
        if base.startswith(prefix) and (prefix != "M" or not base.startswith("min")):
            return unit
    return "steps"


def _offset(alias: str, where: str):
    try:
        return pd.tseries.frequencies.to_offset(alias)
    except ValueError:
        raise DataError(f"{where}: {alias!r} is not a pandas offset alias (D, W-MON, MS, h, 15min, ...)") from None


def _off_grid(dates: pd.DatetimeIndex, frequency: str) -> pd.DatetimeIndex:
    grid = pd.date_range(dates[0], dates[-1], freq=frequency)
    return dates.difference(grid)


def infer_frequency(dates: pd.DatetimeIndex, name: str) -> str:
    """The one step that puts every date on a regular grid, gaps allowed.

    Without gaps pandas names it; with gaps the smallest step between dates is the candidate (a calendar month or
    year when it is 28-31 or 365-366 days), and every date must fall on its grid.

    Raises:
        DataError: no single step fits; the message names the first date off the candidate grid.
    """
    import warnings

    if len(dates) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' notice that infer_freq will return an offset object
            inferred = pd.infer_freq(dates)
        if inferred:
            return getattr(inferred, "freqstr", inferred)
    if len(dates) < 2:
        raise DataError(f"{name}: {len(dates)} dated value(s); a series needs at least 2")
    step = (dates[1:] - dates[:-1]).min()
    days = step / pd.Timedelta(days=1)
    if 28 <= days <= 31:
        candidates = ["MS", "ME", "MS" if dates[0].day == 1 else "ME"]
    elif 365 <= days <= 366:
        candidates = ["YS", "YE"]
    elif days == 7:
        candidates = [f"W-{dates[0].day_name()[:3].upper()}"]
    elif days == int(days):
        candidates = ["D" if days == 1 else f"{int(days)}D"]
    else:
        candidates = [pd.tseries.frequencies.to_offset(step).freqstr]
    for candidate in candidates:
        off = _off_grid(dates, candidate)
        if off.empty:
            return candidate
    first = off[0]
    before = dates[dates < first]
    after = f" (after {before[-1]})" if len(before) else ""
    raise DataError(f"{name}: irregular dates: no single step fits them all; the smallest step is {step}, and "
                    f"{first}{after} is not a whole number of such steps from {dates[0]}. Set ingest.frequency "
                    "(a pandas offset alias such as D, W-MON, MS) if the series has one, or fix the dates")


def _longest_gap(missing: np.ndarray) -> tuple[int, int]:
    """(length, first index) of the longest run of True."""
    best, start, run = 0, 0, 0
    for i, value in enumerate(missing):
        run = run + 1 if value else 0
        if run > best:
            best, start = run, i - run + 1
    return best, start


def regular(name: str, dates: pd.DatetimeIndex, values: pd.Series, *, frequency: str | None,
            max_gap: int) -> Series:
    """The series on its regular grid: absent dates inserted, every missing step filled by linear interpolation.

    Raises:
        DataError: irregular dates, dates off the given `frequency`, a gap longer than `max_gap` steps (named), or
            no value at all.
    """
    values = pd.Series(np.asarray(values, dtype=np.float64), index=dates)
    if frequency is None:
        frequency = infer_frequency(dates, name)
    else:
        _offset(frequency, "ingest.frequency")
        off = _off_grid(dates, frequency)
        if not off.empty:
            raise DataError(f"{name}: date {off[0]} is not on the ingest.frequency={frequency!r} grid starting at "
                            f"{dates[0]}")
    grid = pd.date_range(dates[0], dates[-1], freq=frequency)
    on_grid = values.reindex(grid)
    missing = on_grid.isna().to_numpy()
    if missing.all():
        raise DataError(f"{name}: every value is missing")
    gap, start = _longest_gap(missing)
    unit = step_unit(frequency)
    if gap > max_gap:
        raise DataError(f"{name}: {gap} {unit} missing in a row, from {grid[start]} to {grid[start + gap - 1]}; "
                        f"ingest.max_gap allows {max_gap} (default: one season). Interpolating that long a gap would "
                        "invent a season of data: fill it from a source, start the series after it, or raise "
                        "ingest.max_gap")
    midnight = (grid.normalize() == grid).all()
    return Series(name=name, dates=[str(d)[:10] if midnight else d.isoformat() for d in grid],
                  values=on_grid.interpolate(method="linear", limit_direction="both").to_numpy(dtype=np.float64),
                  filled=int(missing.sum()), frequency=frequency, missing_dates=len(grid) - len(dates))


def _csv(params: IngestParams, max_gap: int) -> Series:
    from archlab.data.csvfile import read_csv

    path = Path(params.path)
    frame = read_csv(path, what="ingest.path: csv file")
    missing = [c for c in (params.date_column, params.value_column) if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing} (ingest.date_column / ingest.value_column); "
                        f"columns are {list(frame.columns)}")
    dates = pd.to_datetime(frame[params.date_column], errors="coerce")
    if dates.isna().any():  # pandas reads every date in the first one's format: retry each on its own
        dates = pd.to_datetime(frame[params.date_column], errors="coerce", format="mixed")
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
    return regular(path.name, pd.DatetimeIndex(dates.to_numpy()[order]), values.iloc[order].to_numpy(),
                   frequency=params.frequency, max_gap=max_gap)


def open_series(params: IngestParams) -> Series:
    """The configured series (`ingest.source`: co2 | sunspots | csv), in time order, on a regular grid, gaps
    interpolated (at most `ingest.max_gap` steps in a row; default one season)."""
    max_gap = params.max_gap if params.max_gap is not None else params.season
    if params.source == "csv":
        return _csv(params, max_gap)
    from statsmodels import datasets

    if params.source == "co2":
        frame = datasets.co2.load_pandas().data
        return regular("co2", pd.DatetimeIndex(frame.index), frame["co2"].to_numpy(), frequency=params.frequency,
                       max_gap=max_gap)
    frame = datasets.sunspots.load_pandas().data
    years = pd.to_datetime(frame["YEAR"].astype(int).astype(str) + "-01-01")
    return regular("sunspots", pd.DatetimeIndex(years), frame["SUNACTIVITY"].to_numpy(), frequency=params.frequency,
                   max_gap=max_gap)


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
