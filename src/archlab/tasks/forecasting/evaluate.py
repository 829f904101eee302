"""The evaluate stage for forecasting: every forecaster on the same test windows (the last stretch of the series).

Metrics per model: MAE, RMSE and MASE (MAE divided by the seasonal-naive forecast's MAE inside the training
stretch: under 1 beats it), each over every step of the horizon, plus MAE per horizon step. Figures: the test
stretch with each model's one-step-ahead forecasts, and MAE by horizon step. With `compare.folds`, the cv@ stages'
rolling-origin RMSE (mean ± std) and each model's verdict against the best come first, as for classifiers.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from archlab import modelio
from archlab.evaluation import latency, report
from archlab.evaluation.cross_validation import CV_KEYS, add_verdicts, critical_difference, method_note, verdict_cell
from archlab.evaluation.run import log_to_mlflow
from archlab.evaluation.split import test_split
from archlab.figures import line_chart
from archlab.params import Params
from archlab.tasks.forecasting.errors import forecast_errors

log = logging.getLogger(__name__)
SCALARS = ("rmse", "mae", "mase", "param_count", "model_size_bytes", "train_seconds", "latency_ms_batch1",
           "throughput_batch256")


def score_forecaster(name: str, folder: Path, x_test, y_test, mase_scale: float,
                     params: Params) -> tuple[dict, np.ndarray]:
    info = modelio.read_info(folder)
    model = modelio.load(folder)
    predicted = modelio.predict_values(model, x_test)
    cost = latency.measure(model, x_test, single_calls=params.evaluate.latency_calls, predict=modelio.predict_values)
    result = {"architecture": name, "family": info["family"], "reference": bool(info.get("reference")),
              **forecast_errors(y_test, predicted, mase_scale),
              "param_count": info["param_count"], "train_seconds": info["train_seconds"],
              "model_size_bytes": modelio.model_file(folder).stat().st_size, "run_id": info["run_id"], **cost}
    return result, predicted


def markdown(results: dict, *, metric, meta: dict, n_test: int, skipped: dict[str, str]) -> str:
    """The forecasting leaderboard; `metric` is the `archlab.tasks.Metric` it ranks by."""
    ranked = sorted(results.values(), key=lambda r: report.rank_key(r, metric))
    naive = results.get("seasonal_naive")
    cv = any("cv_mean" in r for r in results.values())
    cv_headers = "CV RMSE (mean ± std) | CV verdict vs best (P worse / tied / better) | " if cv else ""
    lines = [f"# Leaderboard: {meta['source']} forecasting, {n_test} test windows", "", "Task: forecasting.", "",
             f"Each window: {meta['window']} past values -> the next {meta['horizon']}; test windows are the last "
             f"stretch of the series (targets after every train and val target). Errors over every step of the "
             f"horizon; MASE = MAE / seasonal-naive MAE in the training stretch (season {meta['season']}), under 1 "
             f"beats it. Ranked by {metric.name}.", "",
             f"| rank | architecture | {cv_headers}RMSE | MAE | MASE | RMSE vs seasonal-naive | MAE by step | params | "
             "train s | latency ms (b=1) |", "|" + "---|" * (12 if cv else 10)]
    for i, r in enumerate(ranked, start=1):
        versus = f"{r['rmse'] / naive['rmse']:.3f}x" if naive else "-"
        steps = " / ".join(f"{v:.3f}" for v in r["mae_by_step"])
        cv_cells = ((f"{r['cv_mean']:.4f} ± {r['cv_std']:.4f} | " if "cv_mean" in r else "- | ")
                    + f"{verdict_cell(r)} | ") if cv else ""
        lines.append(f"| {i} | {report.model_label(r)} | {cv_cells}{r['rmse']:.4f} | {r['mae']:.4f} | "
                     f"{r['mase']:.3f} | {versus} | {steps} | {r['param_count']:,} | {r['train_seconds']:.1f} | "
                     f"{r['latency_ms_batch1']:.2f} |")
    note = method_note(results)
    lines += ["", note] if note else []
    lines += report.extra_sections(results, skipped)
    return "\n".join(lines) + "\n"


def _figures(results: dict, predictions: dict, y_test, rows: pd.DataFrame, series: pd.DataFrame,
             figures_dir: Path, horizon: int) -> dict[str, Path]:
    dates = pd.to_datetime(rows["target_start"]).tolist()
    history = series[series["split"] != "train"]
    lines = {"actual": (pd.to_datetime(history["date"]).tolist(), history["value"].tolist())}
    lines |= {name: (dates, predictions[name][:, 0].tolist()) for name in results}
    return {
        "forecasts": line_chart(lines, figures_dir / "forecast.png", xlabel="date", ylabel="value",
                                title="Val + test stretch and each model's one-step-ahead forecast"),
        "error by step": line_chart({n: (list(range(1, horizon + 1)), r["mae_by_step"]) for n, r in results.items()},
                                    figures_dir / "mae_by_step.png", xlabel="steps ahead", ylabel="test MAE",
                                    title="Forecast error by horizon step"),
    }


def write_outputs(*, results, predictions, y_test, rows, meta, metric, skipped, series, paths) -> dict:
    """metrics JSON, DVC plot data, leaderboard Markdown + HTML and figures; returns the figures."""
    figures = _figures(results, predictions, y_test, rows, series, paths.figures, meta["horizon"])
    drawn = critical_difference(results, paths.figures / "critical_difference.png")
    if drawn is not None:
        figures["critical difference"] = drawn
    metrics = {n: {k: r[k] for k in SCALARS} | {"mae_by_step": r["mae_by_step"]}
               | {k: r[k] for k in CV_KEYS if k in r} for n, r in results.items()}
    paths.metrics.parent.mkdir(parents=True, exist_ok=True)
    paths.metrics.write_text(json.dumps(metrics, indent=2) + "\n")
    plots = paths.plots
    (plots / "confusion").mkdir(parents=True, exist_ok=True)  # declared for classification; forecasts go here
    for name in results:
        pd.DataFrame({"actual": y_test[:, 0], "predicted": predictions[name][:, 0]}).to_csv(
            plots / "confusion" / f"{name}.csv", index=False)
    pd.DataFrame([{"architecture": n, "latency_ms_batch1": r["latency_ms_batch1"], "rmse": r["rmse"]}
                  for n, r in results.items()]).to_csv(plots / "accuracy_latency.csv", index=False)
    text = markdown(results, metric=metric, meta=meta, n_test=len(y_test), skipped=skipped)
    report.write(paths.leaderboard, text)
    import html as escape

    shown = "".join(f"<figure><img src='{escape.escape(str(p.relative_to(paths.html.parent)))}'>"
                    f"<figcaption>{escape.escape(k)}</figcaption></figure>" for k, p in figures.items())
    report.write(paths.html, f"<!doctype html><html><head><meta charset='utf-8'><title>archlab forecasting"
                                f"</title><style>{report.PAGE_STYLE}</style></head><body>{report.markdown_html(text)}"
                                f"<h2>Figures</h2>{shown}</body></html>")
    return figures


def evaluate(task, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path,
             paths) -> dict[str, dict]:
    """The evaluate part of the task: every forecaster scored on the test windows, the reports and MLflow records."""
    from archlab.tasks.forecasting import SERIES

    x_test, y_test, rows = test_split(dataset)
    metric = task.metric(params.register_.metric)
    results, predictions = {}, {}
    for name in names:
        results[name], predictions[name] = score_forecaster(name, models_dir / name, x_test, y_test,
                                                                     dataset.meta["mase_scale"], params)
        log.info("%s: test RMSE %.4f, MAE %.4f, MASE %.3f", name, results[name]["rmse"], results[name]["mae"],
                 results[name]["mase"])
    best = min(results, key=lambda n: report.rank_key(results[n], metric))
    add_verdicts(results, paths.cv, params.compare.rope)
    figures = write_outputs(results=results, predictions=predictions, y_test=y_test, rows=rows,
                                     meta=dataset.meta, metric=metric, skipped=skipped, paths=paths,
                                     series=pd.read_csv(dataset.folder / SERIES))
    log_to_mlflow(params, task, results, {"": figures}, [paths.leaderboard, paths.html], best, skipped,
                  scalars=SCALARS, test_keys=tuple(m.name for m in task.metrics), headline=metric.name)
    return results
