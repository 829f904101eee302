"""Forecasting: a time series in, the next `ingest.horizon` values of every window out (statsmodels' co2 and
sunspots series, or a user's CSV of dates and values); lower error wins."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from archlab import modelio
from archlab.tasks import register
from archlab.tasks.base import Column, Metric, Task, numeric_samples

log = logging.getLogger(__name__)
SERIES = "series.csv"  # data/ingested/series.csv: the whole series, as ingest cleaned it


class Forecasting(Task):
    name = "forecasting"
    inputs = "windows (N, W, 1) of a time series with horizon-long targets"
    sources = ("co2", "sunspots", "csv")
    metrics = (Metric("rmse", higher_is_better=False, label="RMSE"), Metric("mae", higher_is_better=False, label="MAE"),
               Metric("mase", higher_is_better=False, label="MASE"))
    sample_noun = "test windows"
    val_metric = Metric("val_mae", higher_is_better=False, label="val MAE")
    # Series get rolling-origin folds (never shuffled): stratified k-fold would train on the future.
    cross_validation = None
    cv_folding = "rolling_origin"
    cv_design = ("rolling-origin folds (expanding window, one repeat; a gap of horizon - 1 windows before each "
                 "scored block)")

    def param_errors(self, params) -> list[str]:
        errors = super().param_errors(params)
        if params.ingest.season > params.ingest.window:
            errors.append(f"ingest.season ({params.ingest.season}) must not exceed ingest.window "
                          f"({params.ingest.window}): the seasonal-naive forecast reads last season from the window")
        if params.compare.folds and params.compare.repeats != 1:
            errors.append(f"compare.repeats is {params.compare.repeats}: a series' rolling-origin folds have one "
                          "order, so a repeat would score the same folds again; use compare.repeats: 1 (more "
                          "folds give more scores)")
        return errors

    def score_fold(self, model, x, y) -> dict:
        """RMSE (the verdicts' score: `metrics[0]`), MAE, and each window's forecast."""
        predicted = modelio.predict_values(model, x)
        error = np.asarray(predicted, dtype=np.float64) - np.asarray(y, dtype=np.float64)
        return {"score": float(np.sqrt(np.mean(error ** 2))), "mae": float(np.mean(np.abs(error))),
                "predicted": np.round(predicted.astype(np.float64), 6).tolist()}

    def describe(self, meta: dict) -> str:
        return (f"{meta['source']}: {meta['n_values']:,} values (frequency {meta.get('frequency', '?')}, "
                f"{meta['interpolated']} interpolated) -> {meta['count']} windows of {meta['window']} predicting "
                f"{meta['horizon']}")

    def model_info(self, data, fitted_for: str, seed: int) -> dict:
        return {"horizon": int(data.y_train.shape[1])}

    def pyfunc_example(self, data, info: dict):
        return np.asarray(data.x_val[:2], dtype=np.float32)

    def output_frame(self, model, samples, info: dict) -> pd.DataFrame:
        from archlab.output_frames import forecasts_frame

        windows = numeric_samples(samples)
        if windows.ndim == 2:  # windows given as (N, W)
            windows = windows[..., None]
        return forecasts_frame(modelio.predict_values(model, windows))

    def leaderboard_columns(self) -> list[Column]:
        return [Column("rmse", "RMSE"), Column("mae", "MAE"), Column("mase", "MASE", ".3f"),
                Column("latency_ms_batch1", "ms/window", ".2f"), Column("param_count", "params", ",.0f")]

    def read_inputs(self, paths: list[Path], info: dict):
        from archlab.tasks.forecasting.windows import read_windows

        return read_windows(paths, info["input_shape"])

    def render_predictions(self, frame: pd.DataFrame) -> list[str]:
        steps = [c for c in frame.columns if c.startswith("t+")]
        return [f"{row['input']}\t" + "\t".join(f"{c} {row[c]:.4f}" for c in steps) for row in frame.to_dict("records")]


register(Forecasting())
