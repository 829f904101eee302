"""The leaderboard for `archlab leaderboard`: from the evaluate stage's metrics file, or from MLflow runs.

The task decides which entries rank (those holding its first metric), the order (its metric's direction) and the
columns; nothing here knows a task by name.
"""

from __future__ import annotations

import json
from pathlib import Path

from archlab import tasks
from archlab.errors import ArchlabError
from archlab.evaluation.report import rank_key


def _ranked(rows: list[dict], task) -> list[dict]:
    return sorted(rows, key=lambda r: rank_key(r, task.metrics[0]))


def from_metrics_file(path: Path, task_name: str | None = None) -> list[dict]:
    """Rows from metrics/evaluate.json, best first."""
    if not path.is_file():
        raise ArchlabError(f"{path}: no evaluation yet; run `dvc repro` (or `make run`) first")
    task = tasks.get(task_name)
    entries = task.leaderboard_entries(json.loads(path.read_text()))
    if not entries:
        raise ArchlabError(f"{path}: no entry with {task.metrics[0].name!r}: is it the evaluation of a "
                           f"{task.name} pipeline? (`task:` in the params file)")
    keys = [c.key for c in task.leaderboard_columns()]
    return _ranked([{"architecture": name, **{k: values.get(k) for k in keys}} for name, values in entries.items()],
                   task)


def from_mlflow_runs(params) -> list[dict]:
    """Rows from the test metrics logged on the training runs of the latest evaluated pipeline run."""
    import mlflow

    from archlab import tracking

    task = tasks.get(params.task)
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
    headline = f"test_{task.metrics[0].name}"

    def value(run, key: str):
        return run.data.metrics.get(f"test_{key}", run.data.metrics.get(key))

    rows = [{"architecture": run.info.run_name, **{c.key: value(run, c.key) for c in task.leaderboard_columns()}}
            for run in runs if headline in run.data.metrics]
    return _ranked(rows, task)


def render(rows: list[dict], task_name: str | None = None) -> str:
    """Plain-text table for the terminal: rank, architecture, then the task's columns (a column no row has a value
    for, such as the spread over seeds of a one-seed run, is left out)."""
    columns = [c for c in tasks.get(task_name).leaderboard_columns() if any(row.get(c.key) is not None
                                                                            for row in rows)]
    widths = [max(len(c.header), 9) for c in columns]
    header = f"{'#':>2}  {'architecture':<16} " + " ".join(f"{c.header:>{w}}" for c, w in zip(columns, widths,
                                                                                              strict=True))
    lines = [header, "-" * len(header)]
    for i, row in enumerate(rows, 1):
        cells = [("-" if row.get(c.key) is None else format(row[c.key], c.fmt)) for c in columns]
        lines.append(f"{i:>2}  {row['architecture']:<16} " + " ".join(f"{cell:>{w}}" for cell, w in zip(cells, widths,
                                                                                                         strict=True)))
    return "\n".join(lines)
