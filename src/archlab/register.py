"""The register stage: every model into the registry, the best into the project model under the promotion rule."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from archlab import model_registry as reg
from archlab import modelio, tasks, tracking
from archlab.data.store import read_dataset
from archlab.evaluation.report import rank_key
from archlab.evaluation.split import test_split
from archlab.params import Params
from archlab.promotion import decide_and_apply
from archlab.promotion_lock import promotion_lock

log = logging.getLogger(__name__)

def _version_tags(info: dict, run_tags: dict, evaluation: dict, task) -> dict[str, str]:
    scores = [m.name for m in task.metrics]  # tagged test_<name> where evaluated
    return {"archlab.architecture": info["architecture"], "archlab.family": info["family"],
            **{f"test_{k}": f"{evaluation[k]:.4f}" for k in scores if k in evaluation},
            "archlab.task": task.name, **({"archlab.seed": str(info["seed"])} if "seed" in info else {}),
            "data_hash": info["data_hash"], "git_commit": run_tags.get("archlab.git_commit", "unknown"),
            "archlab.pipeline_run_id": run_tags.get("archlab.pipeline_run_id", "")}


def _register_and_decide(params: Params, infos: dict, run_tags: dict, evaluation: dict, meta: dict, scorer):
    """Every model as a version of `<project>-<arch>`, the best as a version of `<project>`, then the rule."""
    task = tasks.get(params.task)
    project, metric = params.project.name, params.task_metric
    scores = [m.name for m in task.metrics]
    for name, info in infos.items():
        tags = _version_tags(info, run_tags[name], evaluation[name], task)
        version = reg.register_version(
            f"{project}-{name}", info["model_uri"], info["run_id"], tags=tags,
            description=f"{name} ({info['family']}) trained by archlab on {meta['source']} "
                        f"(data {info['data_hash']}); test " + ", ".join(
                            f"{k} {evaluation[name][k]:.4f}" for k in scores if k in evaluation[name]))
        log.info("registered %s-%s version %s", project, name, version.version)
    candidates = [n for n in infos if metric.name in evaluation[n]]  # text-to-image: generators, not judges
    best, tie = challenger(candidates, evaluation, metric, params.register_.tie_break)
    info = infos[best]
    candidate = reg.register_version(
        project, info["model_uri"], info["run_id"], tags=_version_tags(info, run_tags[best], evaluation[best], task),
        description=f"best of one archlab pipeline run: {best}, test {metric.name} {evaluation[best][metric.name]:.4f}")
    decision = decide_and_apply(project, candidate, scorer, metric=metric, min_delta=params.register_.min_delta)
    return decision, tie


TIE_BREAKS = {"score": None, "latency": "latency_ms_batch1", "size": "model_size_bytes"}


def challenger(candidates: list[str], evaluation: dict, metric, tie_break: str) -> tuple[str, dict | None]:
    """The model put to the promotion rule: the best test score, unless cross-validation found several tied with
    its best within the rope (`cv_verdict` "best" or "tied within rope"; a McNemar "no sig. diff." on the holdout
    is not a tie): then the one `tie_break` prefers among them. Returns it and the tie's record (None: no tie)."""
    by_score = sorted(candidates, key=lambda n: rank_key(evaluation[n], metric))
    tied = [n for n in by_score if evaluation[n].get("cv_verdict") in ("best", "tied within rope")]
    if len(tied) < 2:
        return by_score[0], None
    key = TIE_BREAKS[tie_break]
    chosen = tied[0] if key is None else min(tied, key=lambda n: (evaluation[n][key], by_score.index(n)))
    cv_best = next(n for n in tied if evaluation[n]["cv_verdict"] == "best")
    reason = (f"{', '.join(tied)} are tied within the rope on cross-validation (best CV mean: {cv_best}); "
              + ("the best test score among them" if key is None else f"the lowest {key} among them")
              + f" (register.tie_break: {tie_break}) is {chosen}")
    log.info("tie: %s", reason)
    return chosen, {"tied": tied, "tie_break": tie_break, "chosen": chosen, "reason": reason}


def register(params: Params, *, data_dir: Path, models_dir: Path, evaluation_path: Path, decision_path: Path) -> dict:
    """Register all trained models, then apply the promotion rule to the best one; writes the decision JSON."""
    tracking.configure(params)
    project = params.project.name
    evaluation = json.loads(evaluation_path.read_text())
    dataset = read_dataset(data_dir)
    _, y_test, _ = test_split(dataset)
    scorer = tasks.part(params.task, "register").scorer(tasks.get(params.task), dataset, models_dir, evaluation)
    infos = {name: modelio.read_info(models_dir / name) for name in params.model_names}
    # not built for this task: passed over; trained once per seed (train.seeds): the median-seed model evaluate chose
    infos = {name: modelio.read_info(modelio.seed_folder(models_dir / name, evaluation[name].get("median_seed")))
             for name, info in infos.items() if not info.get("skipped")}
    run_tags = {name: reg.client().get_run(info["run_id"]).data.tags for name, info in infos.items()}
    # Parallel `dvc exp` runs, and with ARCHLAB_LOCK_URI jobs on other machines, each reach this point: one
    # registration and compare-and-move of the aliases at a time, so two challengers are never judged against the
    # same old champion with the worse one landing last.
    with promotion_lock(project, tracking.store_root()) as lock:
        decision, tie = _register_and_decide(params, infos, run_tags, evaluation, dataset.meta, scorer)
    decision.lock = lock
    log.info("%s: %s", decision.decision, decision.reason)
    decision_path.parent.mkdir(parents=True, exist_ok=True)
    record = {**decision.as_dict(), "registered_model": project, "data_hash": dataset.meta["dataset_hash"],
              "n_test": len(y_test), **({"tie": tie} if tie else {})}
    decision_path.write_text(json.dumps(record, indent=2) + "\n")
    return record
