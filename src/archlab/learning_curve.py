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


def fit_subset(params: Params, name: str, data, rows: np.ndarray, *, tuned_path: Path | None,
               features_dir: Path | None, scratch: Path):
    """Train `name` as train@<name> would (its params, tune@<name>'s choices, class_balance), on `rows` only."""
    from archlab import tasks
    from archlab.training.recipe import Recipe
    from archlab.tuning.tuned import tuned_arch_params

    recipe = Recipe(name, tuned_arch_params(params, name, tuned_path), tasks.get(params.task), params.project.seed)
    head_features = None if features_dir is None else subset_features(features_dir, rows, scratch / "features")
    return recipe.fit(subset_data(data, rows), checkpoint_dir=scratch / "checkpoints", artifact_dir=scratch / "figures",
                      features_dir=head_features).trained.model


def learning_curve(params: Params, *, data_dir: Path, models_dir: Path, tuned_dir: Path, features_root: Path,
                   out_path: Path) -> dict:
    """Train and score every listed architecture at every fraction; write `out_path` (JSON) and return it."""
    from archlab import modelio
    from archlab.data.store import read_dataset
    from archlab.evaluation.split import test_split
    from archlab.files import write_atomically
    from archlab.training.data import load_training_data

    fractions = sorted(params.evaluate.learning_curve)
    names = architectures(params) if fractions else []
    result: dict = {"fractions": fractions, "architectures": names, "points": []}
    if names:
        data = load_training_data(data_dir)
        x_test, y_test, _ = test_split(read_dataset(data_dir))
        subsets = nested_subsets(data.y_train, fractions, params.project.seed)
        result["n_train"] = {str(f): int(len(rows)) for f, rows in subsets.items()}
        result["n_test"] = int(len(y_test))  # every point is scored on the whole test split
        for name in names:
            folder = models_dir / name
            info = modelio.read_info(folder)
            features = None
            if name in params.train.feature_heads:
                features = features_root / params.train.arch_params(name).backbone
            weights = json.loads((features / "meta.json").read_text())["weights_source"] if features else \
                getattr(params.train.arch_params(name), "weights", None)
            if weights is not None:  # what "pretrained" means here (the claims name it)
                result.setdefault("weights", {})[name] = weights
            for fraction, rows in subsets.items():
                started = time.perf_counter()
                if fraction == 1.0:
                    model, seconds = modelio.load(folder), float(info["train_seconds"])
                else:
                    with tempfile.TemporaryDirectory(prefix=f"archlab-curve-{name}-") as scratch:
                        model = fit_subset(params, name, data, rows, tuned_path=tuned_dir / f"{name}.yaml",
                                           features_dir=features, scratch=Path(scratch))
                    seconds = time.perf_counter() - started
                point = {"architecture": name, "fraction": fraction, "n_train": int(len(rows)),
                         "train_seconds": round(seconds, 3), "reused_pipeline_model": fraction == 1.0,
                         **score(model, x_test, y_test, params)}
                result["points"].append(point)
                log.info("learning curve %s at %g (%d samples): test accuracy %.4f [%.3f, %.3f]", name, fraction,
                         point["n_train"], point["test_accuracy"], point["ci_low"], point["ci_high"])
    else:
        log.info("learning curve off (evaluate.learning_curve is empty or lists no trained architecture)")
    write_atomically(out_path, lambda fh: fh.write(json.dumps(result, indent=2) + "\n"))
    return result
