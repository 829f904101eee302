"""The expectation suite of the forecasting task: the series (dates in order, no gaps left, values in a sane range)
and the windows (the split is chronological: every train target ends before the first val target, every val
target before the first test target)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from archlab.validation.suite import Check, _context, _run_table

IQR_WIDTHS = 10.0  # a value this many interquartile ranges beyond the quartiles is an error (see table_suite)


def window_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Manifest plus, per window, whether it lies wholly after every window of the splits before its own."""
    table = manifest.copy()
    start = pd.to_datetime(table["target_start"])
    end = pd.to_datetime(table["target_end"])
    last_end = {s: end[table["split"] == s].max() for s in ("train", "val")}
    after = {"train": pd.Series(True, index=table.index),
             "val": start > last_end["train"],
             "test": (start > last_end["train"]) & (start > last_end["val"])}
    table["after_earlier_splits"] = [bool(after[s][i]) if s in after else False
                                     for i, s in zip(table.index, table["split"], strict=True)]
    return table


def series_table(series: pd.DataFrame) -> pd.DataFrame:
    table = series.copy()
    dates = pd.to_datetime(table["date"])
    table["after_previous_date"] = np.r_[True, (dates.diff().dt.total_seconds().to_numpy()[1:] > 0)]
    return table


def _series_expectations(gx, table: pd.DataFrame) -> list:
    e = gx.expectations
    crit = {"critical": True}
    train = table.loc[table["split"] == "train", "value"]
    q1, q3 = (float(q) for q in np.percentile(train, [25, 75]))
    span = IQR_WIDTHS * max(q3 - q1, 1e-9 + 1e-3 * abs(q3))
    return [
        e.ExpectColumnValuesToNotBeNull(column="value", meta=crit),
        e.ExpectColumnValuesToBeOfType(column="value", type_="float64", meta=crit),
        e.ExpectColumnValuesToBeBetween(column="value", min_value=q1 - span, max_value=q3 + span, meta=crit),
        e.ExpectColumnValuesToBeUnique(column="date", meta=crit),
        e.ExpectColumnValuesToBeInSet(column="after_previous_date", value_set=[True], meta=crit),
    ]


def _window_expectations(gx) -> list:
    e = gx.expectations
    crit = {"critical": True}
    return [
        e.ExpectColumnValuesToBeUnique(column="id", meta=crit),
        e.ExpectColumnValuesToBeInSet(column="split", value_set=["train", "val", "test"], meta=crit),
        e.ExpectColumnValuesToBeInSet(column="after_earlier_splits", value_set=[True], meta=crit),
    ]


def run_series_suite(series: pd.DataFrame, manifest: pd.DataFrame, *, min_windows: int, docs_dir) -> list[Check]:
    """Evaluate the series' and the windows' expectations; Data Docs HTML goes into `docs_dir`."""
    gx, context = _context(docs_dir)
    table = series_table(series)
    checks = _run_table(gx, context, "series", table, _series_expectations(gx, table), ["date"])
    windows = window_table(manifest)
    counts = windows.groupby("split").size().reindex(["train", "val", "test"], fill_value=0).rename("count")
    checks += _run_table(gx, context, "windows", windows, _window_expectations(gx), ["id"])
    checks += _run_table(gx, context, "window_counts", counts.reset_index(),
                         [gx.expectations.ExpectColumnValuesToBeBetween(column="count", min_value=min_windows,
                                                                        meta={"critical": True})], ["split"])
    return checks
