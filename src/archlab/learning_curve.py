"""Learning curves (`evaluate.learning_curve`): how each listed architecture's test score grows with the share of
the training split it may use. The claim it checks: pretrained models do well with little data.

Subsets are stratified and nested (the 10% subset is inside the 25% one): each class's training samples are put
in one seeded order, and a fraction takes the first `round(f x n)` of every class (at least one). Each model
early-stops on the full val split, like train@<arch>, and is scored on the full test split with the same bootstrap
interval as the leaderboard. At fraction 1.0 the pipeline's own model (models/<arch>) is scored instead of training
it again: it was trained on exactly that data, with the same params and seed.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from archlab.params import Params

log = logging.getLogger(__name__)


def nested_subsets(y: np.ndarray, fractions: list[float], seed: int) -> dict[float, np.ndarray]:
    """Per fraction the sorted training-row indices it keeps (stratified; a smaller fraction's rows are a subset)."""
    rng = np.random.default_rng(seed)
    orders = {c: rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)}
    return {f: np.sort(np.concatenate([order[:max(1, round(f * len(order)))] for order in orders.values()]))
            for f in fractions}


def subset_data(data, rows: np.ndarray):
    """The TrainingData with its train split cut to `rows` (val untouched)."""
    import dataclasses

    return dataclasses.replace(data, x_train=np.asarray(data.x_train)[rows], y_train=data.y_train[rows],
                               text_train=None if data.text_train is None else data.text_train[rows])


def subset_features(features_dir: Path, rows: np.ndarray, out: Path) -> Path:
    """A copy of a featurize folder whose train split holds only `rows` (a feature head's subset)."""
    import pandas as pd

    from archlab.features import META

    out.mkdir(parents=True, exist_ok=True)
    (out / META).write_bytes((features_dir / META).read_bytes())
    np.save(out / "train.npy", np.load(features_dir / "train.npy", mmap_mode="r")[rows])
    pd.read_csv(features_dir / "train_ids.csv").iloc[rows].to_csv(out / "train_ids.csv", index=False)
    for name in ("val.npy", "val_ids.csv"):
        (out / name).write_bytes((features_dir / name).read_bytes())
    return out


def architectures(params: Params) -> list[str]:
    """The listed architectures this run trains (a learning curve needs the full-data model to end on)."""
    trained = set(params.model_names)
    return [name for name in params.evaluate.learning_curve_architectures if name in trained]


def score(model, x_test, y_test, params: Params) -> dict:
    """Test accuracy with its bootstrap interval, and balanced accuracy."""
    from archlab import modelio
    from archlab.evaluation.scoring import bootstrap_interval

    predicted = modelio.predict_proba(model, x_test).argmax(axis=1)
    correct = predicted == y_test
    low, high = bootstrap_interval(correct, n_resamples=params.evaluate.bootstrap_resamples,
                                   confidence=params.evaluate.confidence, seed=params.project.seed)
    recalls = [float(np.mean(correct[y_test == c])) for c in np.unique(y_test)]
    return {"test_accuracy": float(correct.mean()), "ci_low": low, "ci_high": high,
            "balanced_accuracy": float(np.mean(recalls))}


def fit_point(shared: dict, item: dict) -> dict:
    """One learning-curve point as an executor job (`archlab.compare.executor`: side by side on Ray): train
    `item["name"]` as train@<name> would (its params, tune@<name>'s choices, class balance) on `item["rows"]` of the
    training split only, and score it on the full test split."""
    from archlab import tasks
    from archlab.features import write_training_files
    from archlab.training.recipe import Recipe

    params, name, rows = shared["params"], item["name"], np.asarray(item["rows"], dtype=np.int64)
    recipe = Recipe(name, shared["arch_params"][name], tasks.get(params.task), params.project.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"archlab-curve-{name}-") as scratch:
        head_features = None
        if name in shared["features"]:  # a feature head: its embeddings came with the job, cut to `rows`
            full = write_training_files(shared["features"][name], Path(scratch) / "features-all")
            head_features = subset_features(full, rows, Path(scratch) / "features")
        model = recipe.fit(subset_data(shared["data"], rows), checkpoint_dir=Path(scratch) / "checkpoints",
                           artifact_dir=Path(scratch) / "figures", features_dir=head_features).trained.model
        seconds = time.perf_counter() - started
        return {"train_seconds": round(seconds, 3), **score(model, shared["x_test"], shared["y_test"], params)}


def learning_curve(params: Params, *, data_dir: Path, models_dir: Path, tuned_dir: Path, features_root: Path,
                   out_path: Path, resume_root: Path = Path(".archlab/learning_curve")) -> dict:
    """Train and score every listed architecture at every fraction; write `out_path` (JSON) and return it.

    The trainings below 1.0 run side by side on every core (`archlab.compare.executor`), each saved under
    `resume_root` as it finishes: a killed stage re-run trains only the points it had not finished.
    """
    from archlab.files import write_atomically

    fractions = sorted(params.evaluate.learning_curve)
    names = architectures(params) if fractions else []
    result: dict = {"fractions": fractions, "architectures": names, "points": []}
    done_dir = None
    if names:
        points, done_dir = _points(params, names, fractions, data_dir=data_dir, models_dir=models_dir,
                                   tuned_dir=tuned_dir, features_root=features_root, resume_root=resume_root)
        result |= points
    else:
        log.info("learning curve off (evaluate.learning_curve is empty or lists no trained architecture)")
    write_atomically(out_path, lambda fh: fh.write(json.dumps(result, indent=2) + "\n"))
    if done_dir is not None:
        import shutil

        shutil.rmtree(done_dir, ignore_errors=True)  # kept until the output is written: a kill loses nothing
    return result


def _points(params: Params, names: list[str], fractions: list[float], *, data_dir: Path, models_dir: Path,
            tuned_dir: Path, features_root: Path, resume_root: Path) -> tuple[dict, Path]:
    """Every point: the pipeline's own model at 1.0, a training on the nested subset below (one executor job each);
    returns them and the folder that holds the finished trainings until the stage's output is written."""
    from archlab import modelio
    from archlab.compare.executor import run_jobs
    from archlab.data.store import read_dataset
    from archlab.evaluation.split import test_split
    from archlab.features import training_files
    from archlab.training.data import load_training_data
    from archlab.training.run import keyed_name
    from archlab.tuning.tuned import tuned_arch_params

    data = load_training_data(data_dir)
    x_test, y_test, _ = test_split(read_dataset(data_dir))
    subsets = nested_subsets(data.y_train, fractions, params.project.seed)
    out: dict = {"n_train": {str(f): int(len(rows)) for f, rows in subsets.items()}, "n_test": int(len(y_test)),
                 "points": []}
    heads = {name: features_root / params.train.arch_params(name).backbone for name in names
             if name in params.train.feature_heads}
    for name in names:
        weights = (json.loads((heads[name] / "meta.json").read_text())["weights_source"] if name in heads
                   else getattr(params.train.arch_params(name), "weights", None))
        if weights is not None:  # what "pretrained" means here (the claims name it)
            out.setdefault("weights", {})[name] = weights
    arch_params = {name: tuned_arch_params(params, name, tuned_dir / f"{name}.yaml") for name in names}
    items = [{"key": f"{name}@{fraction:g}", "name": name, "rows": rows.tolist()}
             for name in names for fraction, rows in subsets.items() if fraction < 1.0]
    shared = {"params": params, "data": data, "x_test": x_test, "y_test": y_test, "arch_params": arch_params,
              "features": {name: training_files(folder) for name, folder in heads.items()}}
    done_dir = resume_root / keyed_name("curve", {n: p.model_dump(mode="json") for n, p in arch_params.items()},
                                        fractions, data.dataset_hash, params.project.seed)
    trained = dict(zip([item["key"] for item in items],
                       run_jobs(fit_point, shared, items, done_dir=done_dir, cpus=1.0, gpus=0.0,
                                label="learning_curve"), strict=True))
    for name in names:
        for fraction, rows in subsets.items():
            if fraction == 1.0:  # the pipeline's own model, trained on exactly these rows with the same params
                folder = models_dir / name
                scores = {"train_seconds": float(modelio.read_info(folder)["train_seconds"]),
                          **score(modelio.load(folder), x_test, y_test, params)}
            else:
                scores = trained[f"{name}@{fraction:g}"]
            point = {"architecture": name, "fraction": fraction, "n_train": int(len(rows)),
                     "train_seconds": scores["train_seconds"], "reused_pipeline_model": fraction == 1.0,
                     **{k: v for k, v in scores.items() if k != "train_seconds"}}
            out["points"].append(point)
            log.info("learning curve %s at %g (%d samples): test accuracy %.4f [%.3f, %.3f]", name, fraction,
                     point["n_train"], point["test_accuracy"], point["ci_low"], point["ci_high"])
    return out, done_dir
