"""One architecture's study: `trials` configs from its search space, each trained for at most `max_epochs`, sampled
by Optuna's TPE through Ray Tune (`OptunaSearch`) and cut short by ASHA on val loss.

Ray is the engine: `ray.init()` uses this machine's CPUs, or the cluster `RAY_ADDRESS` names, and the trials read
their data from the driver through Ray's object store (`tune.with_parameters`), never from a local path, so a
worker node needs no copy of the project's data. Every architecture gets the same budget (trials, epochs, early
stopping); the first trial is the params block as the user wrote it when it lies inside the space, so the best
config found is never worse on val than the defaults. The test split is never seen: a trial gets `TrainingData`,
which holds train and val only.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archlab.architectures import search_space
from archlab.training.data import TrainingData

log = logging.getLogger(__name__)
METRIC, MODE = "val_loss", "min"
COMPLETED = "fit_completed"  # in a trial's last report: its fit ended by itself (early stopping or all epochs)
HISTORY_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy", "mae", "val_mae")
PHASE_EPOCH_KEYS = ("epochs", "pretrain_epochs", "head_epochs")  # each training phase gets max_epochs
FAILED = "trial_error"  # in a trial's last report: its own error (recorded FAILED, not retried; a lost node is)


@dataclass(frozen=True)
class Budget:
    """What every architecture's study gets: the same for all, so the comparison is fair."""

    trials: int
    max_epochs: int
    seed: int = 42
    grace_epochs: int = 3  # ASHA stops no trial before this many epochs
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0  # fractional: trials share a GPU
    max_failures: int = 2  # Ray retries a trial whose worker node died this often


@dataclass
class TrialRecord:
    """One trial: its config (params values), what it reached, how it ended and where it ran."""

    trial_id: str
    config: dict[str, Any]
    status: str  # FINISHED, PRUNED (stopped early by ASHA) or FAILED
    best_val_loss: float | None
    epochs: int
    node_id: str | None  # where it ended
    nodes: list[str] = field(default_factory=list)  # every node it reported from, in order
    history: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None


@dataclass
class StudyResult:
    architecture: str
    best_config: dict[str, Any]
    best_val_loss: float
    trials: list[TrialRecord]


def trial_params(architecture, block: Mapping[str, Any], config: Mapping[str, Any], budget: Budget):
    """The params a trial trains with: the user's block, the sampled values, and the shared epoch budget (every
    training phase's epochs set to `max_epochs`; early stopping's patience stays the user's)."""
    values = {**block, **search_space.decode(architecture.search, config)}
    values |= {key: budget.max_epochs for key in PHASE_EPOCH_KEYS if key in architecture.params.model_fields}
    return architecture.params.model_validate(values)


def epoch_budget(architecture, budget: Budget) -> int:
    """Epochs a trial may report in all: max_epochs per training phase (a pretrained head, then fine-tuning)."""
    return budget.max_epochs * max(1, sum(key in architecture.params.model_fields for key in PHASE_EPOCH_KEYS))


def _trainable(config: dict[str, Any], *, data: TrainingData, architecture_name: str, task_name: str,
               block: dict[str, Any], budget: Budget, features: dict[str, bytes] | None = None) -> None:
    """Runs in a Ray worker: train one config, reporting every epoch's val metrics to Tune (ASHA reads them).

    `features`: a feature head's cached embeddings (`archlab.features.training_files`), written to the trial's
    scratch folder: they come from the driver, like `data`.
    """
    import ray
    from ray import tune

    from archlab import tasks
    from archlab.architectures.registry import get
    from archlab.training.recipe import Recipe

    params = trial_params(get(architecture_name), block, config, budget)
    node_id = ray.get_runtime_context().get_node_id()
    # The same recipe as train@<arch> (class_balance included): every trial fits what the stage would fit.
    recipe = Recipe(architecture_name, params, tasks.get(task_name), budget.seed)
    recipe.prepare()

    def report(phase: str, epoch: int, metrics: dict[str, float]) -> None:
        tune.report({**{k: float(v) for k, v in metrics.items()}, "phase": phase, "node_id": node_id})

    # The outcome travels in the reports themselves: a trial's folder is on whichever node ran it.
    try:
        with tempfile.TemporaryDirectory(prefix="archlab-trial-") as scratch:
            features_dir = None
            if features is not None:
                from archlab.features import write_training_files

                features_dir = write_training_files(features, Path(scratch) / "features")
            trained = recipe.fit(data, checkpoint_dir=Path(scratch) / "checkpoints", on_epoch=report,
                                 artifact_dir=Path(scratch) / "figures", features_dir=features_dir).trained
    except Exception as exc:  # noqa: BLE001 - any error of the config itself (NaN loss, a shape it cannot build)
        if type(exc).__module__.startswith("ray."):
            raise  # Ray's own control flow (a stopped trial), not this config's failure
        # Retrying would fail the same way: record it and let the study go on. Ray's retries stay for lost nodes.
        log.warning("trial failed: %s: %s", type(exc).__name__, exc)
        tune.report({METRIC: float("inf"), FAILED: f"{type(exc).__name__}: {exc}"[:2000], "node_id": node_id})
        return
    # The last report says the fit ended by itself. A one-pass model's only row is that report; a network's is a
    # copy of its best epoch (early stopping restored those weights), marked phase "final", not counted an epoch.
    best = min((row for row in trained.history if _finite(row.get(METRIC))), key=lambda row: row[METRIC])
    tune.report({**{k: float(v) for k, v in best.items() if _finite(v)}, COMPLETED: 1.0, "node_id": node_id,
                 "phase": "final" if trained.kind == "keras" else best.get("phase", "train")})


def _defaults_in_space(space: Mapping[str, search_space.Dimension], block: Mapping[str, Any]) -> dict | None:
    """The user's own values as a first config to try, or None when one lies outside the space."""
    point = {}
    for name, dim in space.items():
        value = block.get(name)
        if isinstance(dim, search_space.Choice):
            if value not in search_space.edge_values(dim):
                return None
            point[name] = search_space.encode(value)
        elif value is None or not dim.low <= value <= dim.high:
            return None
        else:
            point[name] = value
    return point


def _records(result_grid, epoch_budget_: int) -> list[TrialRecord]:
    records = []
    for result in result_grid:
        frame = result.metrics_dataframe
        rows = [] if frame is None else frame.to_dict("records")
        epochs = [row for row in rows if row.get("phase") != "final" and not isinstance(row.get(FAILED), str)]
        losses = [row[METRIC] for row in epochs if _finite(row.get(METRIC))]
        error = next((row[FAILED] for row in rows if isinstance(row.get(FAILED), str)), None)
        if error is None and result.error is not None:
            error = f"{type(result.error).__name__}: {result.error}"
        # ASHA also stops a trial that reaches its epoch budget: that one ran it all, it was not pruned.
        finished = any(_flag(row, COMPLETED) for row in rows) or len(epochs) >= epoch_budget_
        records.append(TrialRecord(
            trial_id=str((result.metrics or {}).get("trial_id", Path(result.path or "").name)),
            config=dict(result.config or {}), status="FAILED" if error else ("FINISHED" if finished else "PRUNED"),
            best_val_loss=min(losses) if losses else None, epochs=len(epochs),
            node_id=rows[-1].get("node_id") if rows else None,
            nodes=list(dict.fromkeys(row["node_id"] for row in rows if isinstance(row.get("node_id"), str))),
            history=[{k: v for k, v in row.items() if k in HISTORY_KEYS and _finite(v)} for row in epochs],
            error=error))
    return records


def _flag(row: dict, key: str) -> bool:
    return _finite(row.get(key)) and row[key] == 1.0


def _finite(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def run_study(architecture_name: str, task_name: str, data: TrainingData, block: Mapping[str, Any],
              budget: Budget, storage_dir: Path, features: dict[str, bytes] | None = None) -> StudyResult:
    """Tune one architecture under `budget`; a study interrupted earlier in `storage_dir` is resumed, not restarted.

    Args:
        block: the user's `train.<arch>` values (the first config tried when inside the search space).
        storage_dir: Ray Tune's experiment folder for this architecture (under `.archlab/`).
        features: a feature head's embeddings (`archlab.features.training_files`), sent to the trials with `data`.
    """
    from ray import tune

    from archlab.architectures.registry import get
    from archlab.errors import ArchlabError
    from archlab.ray_start import ensure_ray

    architecture = get(architecture_name)
    ensure_ray()  # RAY_ADDRESS's cluster, else a Ray of our own on this machine's CPUs (and GPUs)
    space = search_space.to_ray(architecture.search)
    trainable = tune.with_resources(
        tune.with_parameters(_trainable, data=data, architecture_name=architecture_name, task_name=task_name,
                             block=dict(block), budget=budget, features=features),
        {"cpu": budget.cpus_per_trial, "gpu": budget.gpus_per_trial})
    storage_dir = storage_dir.resolve()
    tuner = _tuner(architecture, trainable, space, block, budget, storage_dir)
    # Ctrl-C or SIGTERM: archlab's own handler unwinds the stage (MLflow run KILLED, no tuned/ file) and the study
    # saved so far resumes on the next run. Ray's handler would instead end fit() early as if the study were done.
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"
    grid = tuner.fit()
    unfinished = len(grid) - grid.num_terminated - grid.num_errors
    if unfinished:
        raise ArchlabError(f"tune@{architecture_name}: the study ended with {unfinished} of {len(grid)} trials "
                           f"unfinished; run the stage again to resume it from {storage_dir}")
    records = _records(grid, epoch_budget(architecture, budget))
    scored = [r for r in records if r.status != "FAILED" and r.best_val_loss is not None]  # a failed fit never wins
    if not scored:
        raise ArchlabError(f"tune@{architecture_name}: all {len(records)} trials failed; first error: "
                           f"{next((r.error for r in records if r.error), 'none recorded')}")
    best = min(scored, key=lambda r: r.best_val_loss)
    return StudyResult(architecture=architecture_name,
                       best_config=search_space.decode(architecture.search, best.config) if space else {},
                       best_val_loss=best.best_val_loss, trials=records)


def _tuner(architecture, trainable, space: dict, block: Mapping[str, Any], budget: Budget, storage_dir: Path):
    """The study's Tuner: the one saved in `storage_dir` when an earlier run was interrupted, else a new one
    (Optuna's TPE, starting from the user's own values when they lie inside the space; ASHA on val loss)."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    if tune.Tuner.can_restore(str(storage_dir)):
        tuner = tune.Tuner.restore(str(storage_dir), trainable=trainable, resume_errored=False,
                                   restart_errored=False, param_space=space)
        saved = tuner.get_results()
        ended = saved.num_terminated + saved.num_errors
        log.info("%s: resuming the study in %s: %d trials had ended, %d were under way (budget %d trials)",
                 architecture.name, storage_dir, ended, len(saved) - ended, budget.trials)
        return tuner
    first = _defaults_in_space(architecture.search, architecture.params.model_validate(block).model_dump())
    searcher = OptunaSearch(metric=METRIC, mode=MODE, seed=budget.seed,
                            points_to_evaluate=[first] if first and space else None)
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=epoch_budget(architecture, budget),
                              grace_period=min(budget.grace_epochs, budget.max_epochs), reduction_factor=3)
    return tune.Tuner(
        trainable, param_space=space,
        tune_config=tune.TuneConfig(metric=METRIC, mode=MODE, search_alg=searcher if space else None,
                                    scheduler=scheduler, num_samples=budget.trials),
        run_config=tune.RunConfig(name=storage_dir.name, storage_path=str(storage_dir.parent), verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=budget.max_failures)))
