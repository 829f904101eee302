"""The `tune@<arch>` stage: one architecture's equal-budget study, its trials in MLflow, its best config on disk.

`tuned/<arch>.yaml` holds only the values the study chose (a DVC out, committed like metrics); `train@<arch>`
trains with its params block merged with them, so `params.yaml` stays the user's file. With `tune.trials: 0` the
stage writes an empty mapping without importing Ray or TensorFlow, and training is exactly what params.yaml says.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

from archlab import tasks
from archlab.architectures.registry import get
from archlab.params import Params
from archlab.tuning.tuned import write_trials, write_tuned

log = logging.getLogger(__name__)
TRIAL_STATUS = {"FINISHED": "FINISHED", "PRUNED": "KILLED", "FAILED": "FAILED"}  # archlab's -> MLflow's


def tune(params: Params, name: str, *, data_dir: Path, validation_report: Path, out_path: Path,
         storage_root: Path, project_root: Path = Path("."), features_dir: Path | None = None) -> dict:
    """Run `name`'s study (or nothing when `tune.trials` is 0) and write `out_path`.

    Args:
        features_dir: a feature head's cached embeddings (data/features/<backbone>); its trials get their train
            and val parts through Ray's object store.

    Returns:
        the chosen values (empty without tuning).
    """
    settings = params.tune
    architecture = get(name)
    # With no trials the task module (and pandas under it) is not even imported: ~0.7 s of each of the eleven
    # tune stages a default `dvc repro` runs, for an output that is `{}` whatever the task says.
    task = None if settings.trials == 0 else tasks.get(params.task)
    skip = "tune.trials is 0" if task is None else task.skip_reason(architecture)
    if skip is not None:
        write_trials(out_path, name, [])
        write_tuned(out_path, {}, f"tune@{name}: nothing tuned ({skip}); train@{name} uses params.yaml as written")
        return {}
    from archlab import tracking
    from archlab.architectures.classical import size_skip_reason
    from archlab.features import META, training_files
    from archlab.training.data import load_training_data
    from archlab.training.run import keyed_name, require_validation_passed
    from archlab.tuning.study import Budget, run_study

    require_validation_passed(validation_report)
    data = load_training_data(data_dir)
    arch_params = params.train.arch_params(name)
    too_big = size_skip_reason(name, arch_params, len(data.y_train))
    if too_big is not None:  # train@<name> skips it too, for the same reason
        write_trials(out_path, name, [])
        write_tuned(out_path, {}, f"tune@{name}: nothing tuned ({too_big})")
        return {}
    budget = Budget(trials=settings.trials, max_epochs=settings.max_epochs, seed=params.project.seed,
                    grace_epochs=settings.grace_epochs, cpus_per_trial=settings.cpus_per_trial,
                    gpus_per_trial=settings.gpus_per_trial, max_failures=settings.max_failures)
    tags = {"archlab.stage": "tune", "archlab.architecture": name, "archlab.family": architecture.family,
            "archlab.reference": str(architecture.reference).lower(),
            "archlab.task": params.task, "archlab.data_hash": data.dataset_hash}
    with tracking.run(params, run_name=f"tune-{name}", tags=tags, project_root=project_root) as parent:
        block = arch_params.model_dump()
        # the study's folder: a killed study re-run resumes; a changed block, budget or data starts anew
        features = None if features_dir is None else training_files(features_dir)
        study_dir = storage_root / keyed_name(name, arch_params.model_dump(mode="json"), dataclasses.asdict(budget),
                                              data.dataset_hash, features and features[META].decode())
        result = run_study(name, task.fitted_for(architecture), data, block, budget, study_dir, features=features)
        counts = record_study(parent.info.run_id, name, result, tags, settings)
    shutil.rmtree(study_dir, ignore_errors=True)  # kept only until the study is recorded, like checkpoints
    write_trials(out_path, name, [{"status": t.status, "best_val_loss": t.best_val_loss, "epochs": t.epochs}
                                  for t in result.trials])
    write_tuned(out_path, result.best_config,
                f"tune@{name}: best of {len(result.trials)} trials (val_loss {result.best_val_loss:.4g}; "
                f"{counts['FINISHED']} finished, {counts['PRUNED']} pruned, {counts['FAILED']} failed),\n"
                f"at most {settings.max_epochs} epochs each; merged into train.{name} by train@{name}")
    log.info("tune@%s: best val_loss %.4g with %s", name, result.best_val_loss, result.best_config)
    return result.best_config


def record_study(parent_run_id: str, name: str, result, tags: dict[str, str], settings) -> dict[str, int]:
    """Each trial as a child run of the tune run (its config, epochs and status), the best config and the trial
    counts on the parent; returns the counts by archlab's status."""
    from archlab import tracking

    for number, trial in enumerate(result.trials, 1):
        tracking.log_child_run(
            parent_run_id, run_name=f"{name}-trial-{number}", params=trial.config, history=trial.history,
            status=TRIAL_STATUS[trial.status],
            tags={**tags, "archlab.trial_status": trial.status, "archlab.trial_id": trial.trial_id,
                  "archlab.ray_node_id": trial.node_id or "", **({"archlab.error": trial.error[:5000]}
                                                                 if trial.error else {})})
    counts = {status: sum(t.status == status for t in result.trials) for status in TRIAL_STATUS}
    tracking.log_params({"trials": settings.trials, "max_epochs": settings.max_epochs,
                         **{f"best.{k}": v for k, v in result.best_config.items()}})
    tracking.log_metrics({"best_val_loss": result.best_val_loss,
                          **{f"trials_{status.lower()}": float(n) for status, n in counts.items()}})
    return counts
