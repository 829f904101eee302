"""The leaderboard for `archlab leaderboard`: from the evaluate stage's metrics file, or from MLflow runs."""

from __future__ import annotations

import json
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.evaluation.report import rank_key

FIELDS = ("accuracy", "accuracy_ci_low", "accuracy_ci_high", "macro_f1", "p_value_vs_best", "latency_ms_batch1",
          "param_count")


def from_metrics_file(path: Path) -> list[dict]:
    """Rows from metrics/evaluate.json, best first."""
    if not path.is_file():
        raise ArchlabError(f"{path}: no evaluation yet; run `dvc repro` (or `make run`) first")
    metrics = json.loads(path.read_text())
    rows = [{"architecture": name, **{k: values[k] for k in FIELDS}} for name, values in metrics.items()
            if "accuracy" in values]  # classifiers (text-to-image generators are scored by caption match)
    return sorted(rows, key=rank_key)


def from_mlflow_runs(params) -> list[dict]:
    """Rows from the test metrics logged on the training runs of the latest evaluated pipeline run."""
    import mlflow

    from archlab import tracking

    tracking.configure(params)
    summaries = mlflow.search_runs(experiment_names=[tracking.experiment_name(params)],
                                   filter_string="tags.`archlab.stage` = 'evaluate'", order_by=["start_time DESC"],
                                   max_results=1, output_format="list")
    if not summaries:
        raise ArchlabError("no evaluation run in MLflow yet; run the pipeline first")
    pipeline = summaries[0].data.tags.get("archlab.pipeline_run_id", "")
    runs = mlflow.search_runs(experiment_names=[tracking.experiment_name(params)], output_format="list",
                              filter_string=f"tags.`archlab.pipeline_run_id` = '{pipeline}' and "
                                            "tags.`archlab.stage` = 'train'")
    names = {"accuracy": "test_accuracy", "accuracy_ci_low": "test_accuracy_ci_low",
             "accuracy_ci_high": "test_accuracy_ci_high", "macro_f1": "test_macro_f1",
             "p_value_vs_best": "test_p_value_vs_best"}
    rows = [{"architecture": run.info.run_name, **{k: run.data.metrics.get(names.get(k, k)) for k in FIELDS}}
            for run in runs if "test_accuracy" in run.data.metrics]
    return sorted(rows, key=rank_key)


def render(rows: list[dict]) -> str:
    """Plain-text table for the terminal."""
    header = f"{'#':>2}  {'architecture':<16} {'test acc':>8}  {'95% CI':<15} {'macro-F1':>8} {'p vs best':>9} " \
             f"{'ms/img':>7} {'params':>9}"
    lines = [header, "-" * len(header)]
    for i, r in enumerate(rows, 1):
        lines.append(f"{i:>2}  {r['architecture']:<16} {r['accuracy']:>8.4f}  "
                     f"[{r['accuracy_ci_low']:.3f}, {r['accuracy_ci_high']:.3f}] {r['macro_f1']:>8.4f} "
                     f"{r['p_value_vs_best']:>9.3f} {r['latency_ms_batch1']:>7.2f} {int(r['param_count']):>9,}")
    return "\n".join(lines)
