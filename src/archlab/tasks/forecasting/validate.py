"""Validate for forecasting: the series expectation suite (Great Expectations) on the cleaned series and its
windows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from archlab.tasks.forecasting import SERIES
from archlab.tasks.forecasting.suite import run_series_suite


def validate(task, dataset, params, docs_dir: Path) -> list:
    return run_series_suite(pd.read_csv(dataset.folder / SERIES), dataset.manifest,
                            min_windows=params.validate_.min_per_class, docs_dir=docs_dir)
