"""The cv@<arch> stage: one architecture trained and scored on every fold of `compare` (the task's folds over
train + val: repeated stratified k-fold for labelled samples, rolling origin for series), each fold with the
training recipe train@ uses (its tuned config, class balance, early stopping on rows carved from the fold's
training part). Writes metrics/cv/<arch>.json: the score of every fold (the task's `cv_metric`), their mean and
spread, and the out-of-fold predictions. The test split is not read.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from archlab.params import Params

log = logging.getLogger(__name__)
FOLD_FORMAT = 2  # the shape of a saved fold result (2: `score` by the task's cv_metric, `predicted` per row)


def cross_validate(params: Params, name: str, *, data_dir: Path, validation_report: Path, tuned_path: Path | None,
                   out_path: Path, resume_root: Path) -> dict:
    """Score `name` on every fold; write `out_path` (also when the architecture is skipped, with the reason)."""
    from archlab import tasks
    from archlab.architectures.classical import size_skip_reason
    from archlab.architectures.registry import get
    from archlab.compare.executor import run_jobs
    from archlab.compare.folds import task_folds
    from archlab.files import write_atomically
    from archlab.training.data import load_training_data
    from archlab.training.run import require_validation_passed
    from archlab.tuning.tuned import read_tuned, tuned_arch_params

    require_validation_passed(validation_report)
    settings, task, arch = params.compare, tasks.get(params.task), get(name)
    arch_params = tuned_arch_params(params, name, tuned_path)
    data = load_training_data(data_dir)
    x, y = cv_rows(data)
    skip = task.skip_reason(arch) or size_skip_reason(name, arch_params, len(y))
    done_dir = None
    if skip is not None:
        result = {"architecture": name, "skipped": True, "reason": skip}
    else:
        folds = task_folds(task.cv_folding, y, settings.folds, settings.repeats, params.project.seed)
        items = [f.job() for f in folds]
        shared = {"x": x, "y": y, "data": dataclasses.replace(data, x_train=x[:0], y_train=y[:0], x_val=x[:0],
                                                               y_val=y[:0], text_train=None, text_val=None),
                  "name": name, "arch_params": arch_params, "task": params.task, "seed": params.project.seed}
        done_dir = resume_dir(resume_root, params, name, arch_params, data.dataset_hash)
        started = time.perf_counter()
        scored = run_jobs(fit_fold, shared, items, done_dir=done_dir, cpus=settings.cpus_per_fold,
                          gpus=settings.gpus_per_fold, label=f"cv@{name}")
        result = summary(name, task, settings, scored, n_rows=len(y), seconds=time.perf_counter() - started,
                         tuned=bool(read_tuned(tuned_path)))
    write_atomically(out_path, lambda fh: fh.write(json.dumps(result, indent=1) + "\n"))
    if done_dir is not None:
        shutil.rmtree(done_dir, ignore_errors=True)  # kept until the stage's output is written: a kill loses nothing
    return result


def resume_dir(resume_root: Path, params: Params, name: str, arch_params, dataset_hash: str) -> Path:
    """Where a cv@ stage keeps each finished fold until its output is written: one folder per architecture config,
    compare settings, data and seed, so a killed stage re-run with the same inputs resumes and a changed one
    starts fresh (FOLD_FORMAT too: folds saved by code that wrote another result shape are not read back)."""
    from archlab.training.run import keyed_name

    return resume_root / keyed_name(name, arch_params.model_dump(mode="json"), params.compare.model_dump(),
                                    dataset_hash, params.project.seed, FOLD_FORMAT)


def cv_rows(data) -> tuple[np.ndarray, np.ndarray]:
    """Train and val together, train first: the rows the folds index."""
    return np.concatenate([data.x_train, data.x_val]), np.concatenate([data.y_train, data.y_val])


def fit_fold(shared: dict, item: dict) -> dict:
    """Train on one fold's rows (early stopping on its held-back rows) and score its held-out rows by the task's
    `score_fold`: a Ray task."""
    from archlab import tasks
    from archlab.compare.executor import ray_node_id
    from archlab.training.recipe import Recipe

    x, y = shared["x"], shared["y"]
    fit, stop, score = (np.asarray(item[k], dtype=np.int64) for k in ("fit_rows", "stop_rows", "score_rows"))
    data = dataclasses.replace(shared["data"], x_train=x[fit], y_train=y[fit], x_val=x[stop], y_val=y[stop])
    task = tasks.get(shared["task"])
    recipe = Recipe(shared["name"], shared["arch_params"], task, shared["seed"])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"archlab-cv-{shared['name']}-") as scratch:
        model = recipe.fit(data, checkpoint_dir=Path(scratch) / "checkpoints",
                           artifact_dir=Path(scratch) / "figures").trained.model
        scores = task.score_fold(model, x[score], y[score])
    return {"key": item["key"], "repeat": item["repeat"], "fold": item["fold"], "n_fit": int(len(fit)),
            "n_score": int(len(score)), **scores, "rows": score.tolist(),
            "seconds": round(time.perf_counter() - started, 3), "node_id": ray_node_id()}


def summary(name: str, task, settings, scored: list[dict], *, n_rows: int, seconds: float, tuned: bool) -> dict:
    """metrics/cv/<arch>.json: per fold its score (paired by key across architectures), mean, spread, and per
    repeat the out-of-fold prediction of every row (null for a row no fold scored: a series' first block)."""
    values = [s["score"] for s in scored]
    oof: list[list] = [[None] * n_rows for _ in range(settings.repeats)]
    for s in scored:
        for row, predicted in zip(s["rows"], s["predicted"], strict=True):
            oof[s["repeat"]][row] = predicted
    extra = {key: {s["key"]: s[key] for s in scored} for key in scored[0]
             if key not in FOLD_KEYS}  # the task's other scores per fold (log_loss, mae)
    metric = task.cv_metric
    return {"architecture": name, "metric": metric.name, "higher_is_better": metric.higher_is_better,
            "design": task.cv_design, "folds": settings.folds, "repeats": settings.repeats,
            "n_rows": n_rows, "n_fit": int(np.median([s["n_fit"] for s in scored])),
            "n_score": int(np.median([s["n_score"] for s in scored])),
            "scores": {s["key"]: s["score"] for s in scored}, **extra,
            "mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "fold_seconds": round(sum(s["seconds"] for s in scored), 3), "wall_seconds": round(seconds, 3),
            "nodes": {s["key"]: s.get("node_id") for s in scored},
            "tuned_config": tuned, "out_of_fold": oof}


# what every fold result holds besides the task's own scores
FOLD_KEYS = ("key", "repeat", "fold", "n_fit", "n_score", "score", "rows", "predicted", "seconds", "node_id")
