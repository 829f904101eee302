"""Forecasting: a time series in, the next `ingest.horizon` values of every window out (statsmodels' co2 and
sunspots series, or a user's CSV of dates and values); lower error wins."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from archlab import modelio
from archlab.tasks import register
from archlab.tasks.base import Column, EvaluationPaths, Metric, Scorer, Task, numeric_samples

log = logging.getLogger(__name__)


class Forecasting(Task):
    name = "forecasting"
    inputs = "windows (N, W, 1) of a time series with horizon-long targets"
    sources = ("co2", "sunspots", "csv")
    metrics = (Metric("rmse", higher_is_better=False, label="RMSE"), Metric("mae", higher_is_better=False, label="MAE"),
               Metric("mase", higher_is_better=False, label="MASE"))
    sample_noun = "test windows"

    def param_errors(self, params) -> list[str]:
        errors = super().param_errors(params)
        if params.ingest.season > params.ingest.window:
            errors.append(f"ingest.season ({params.ingest.season}) must not exceed ingest.window "
                          f"({params.ingest.window}): the seasonal-naive forecast reads last season from the window")
        return errors

    def describe(self, meta: dict) -> str:
        return (f"{meta['source']}: {meta['n_values']:,} values (frequency {meta.get('frequency', '?')}, "
                f"{meta['interpolated']} interpolated) -> {meta['count']} windows of {meta['window']} predicting "
                f"{meta['horizon']}")

    def ingest(self, params, out_dir: Path, rejected_csv: Path) -> dict:
        from archlab.tasks.forecasting.ingest import ingest_series

        return ingest_series(params, out_dir, rejected_csv, self.name)

    def validate(self, dataset, params, docs_dir: Path) -> list:
        from archlab.tasks.forecasting.ingest import SERIES
        from archlab.tasks.forecasting.suite import run_series_suite

        return run_series_suite(pd.read_csv(dataset.folder / SERIES), dataset.manifest,
                                min_windows=params.validate_.min_per_class, docs_dir=docs_dir)

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

    def evaluate(self, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path,
                 paths: EvaluationPaths) -> dict[str, dict]:
        from archlab.evaluation import report
        from archlab.evaluation.run import log_to_mlflow, test_split
        from archlab.tasks.forecasting import evaluate as forecast
        from archlab.tasks.forecasting.ingest import SERIES

        x_test, y_test, rows = test_split(dataset)
        metric = self.metric(params.register_.metric)
        results, predictions = {}, {}
        for name in names:
            results[name], predictions[name] = forecast.score_forecaster(name, models_dir / name, x_test, y_test,
                                                                         dataset.meta["mase_scale"], params)
            log.info("%s: test RMSE %.4f, MAE %.4f, MASE %.3f", name, results[name]["rmse"], results[name]["mae"],
                     results[name]["mase"])
        best = min(results, key=lambda n: report.rank_key(results[n], metric))
        figures = forecast.write_outputs(results=results, predictions=predictions, y_test=y_test, rows=rows,
                                         meta=dataset.meta, metric=metric, skipped=skipped, paths=paths,
                                         series=pd.read_csv(dataset.folder / SERIES))
        log_to_mlflow(params, self, results, {"": figures}, [paths.leaderboard, paths.html], best, skipped,
                      scalars=forecast.SCALARS, test_keys=tuple(m.name for m in self.metrics), headline=metric.name)
        return results

    def scorer(self, dataset, models_dir: Path, evaluation: dict) -> Scorer:
        from archlab.errors import ArchlabError
        from archlab.evaluation.run import test_split
        from archlab.tasks.forecasting.evaluate import forecast_errors

        x_test, y_test, _ = test_split(dataset)
        scale = dataset.meta["mase_scale"]

        def score(output: pd.DataFrame, metric: Metric) -> float:
            predicted = output.to_numpy(dtype=np.float64)
            if predicted.shape != y_test.shape:
                raise ArchlabError(f"forecasts of shape {predicted.shape}, expected {y_test.shape}")
            return float(forecast_errors(y_test, predicted, scale)[metric.name])

        return Scorer(inputs=np.asarray(x_test, dtype=np.float32), score=score)

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
