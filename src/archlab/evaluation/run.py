"""The evaluate stage: every trained model on the same test split; the task writes its leaderboard, plots and
figures, and this module the checks and MLflow records every task shares."""

from __future__ import annotations

import logging
from pathlib import Path

from archlab import modelio, tasks, tracking
from archlab.data.store import read_dataset
from archlab.errors import DataError
from archlab.evaluation.split import test_split
from archlab.params import Params
from archlab.tasks.base import EvaluationPaths

log = logging.getLogger(__name__)


def skipped_models(names: list[str], models_dir: Path) -> dict[str, str]:
    """Architectures whose train stage wrote a skip record (not built for this task), with the reason."""
    infos = {name: modelio.read_info(models_dir / name) for name in names}
    return {name: info["reason"] for name, info in infos.items() if info.get("skipped")}


def log_to_mlflow(params: Params, task, results: dict, figures: dict, report_files: list[Path], best: str,
                  skipped: dict[str, str], *, scalars: tuple[str, ...], test_keys: tuple[str, ...],
                  headline: str | None = None) -> None:
    """Test metrics and figures onto each architecture's training run; the leaderboard onto a summary run.

    Args:
        scalars: the keys of each result logged as metrics; those in `test_keys` get the prefix `test_`.
        headline: the metric logged per architecture on the summary run (default: the task's first metric).
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric, RunTag

    headline = headline or task.metrics[0].name
    tracking.configure(params)
    client = MlflowClient()
    now = tracking.now_ms()
    for name, result in results.items():
        metrics = {f"test_{k}" if k in test_keys else k: float(result[k]) for k in scalars}
        metrics |= {f"test_{k}": float(v) for k, v in result.get("imputation", {}).items()}
        metrics |= {f"test_{k}": float(v) for k, v in result.get("denoising", {}).items()}
        metrics |= {k: float(result[k]) for k in ("test_accuracy_mean", "test_accuracy_std") if k in result}
        metrics |= {"test_minority_recall": float(result["minority_recall"])} if "minority_recall" in result else {}
        metrics |= {k: float(result[k]) for k in ("cv_mean", "cv_std", "cv_p_worse", "cv_p_equivalent", "cv_p_better")
                    if k in result}
        client.log_batch(result["run_id"], metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])
        for seed, run_id in result.get("seed_runs", {}).items():  # train.seeds: each seed's own score on its run
            client.log_batch(run_id, metrics=[Metric("seed_test_accuracy", result["seed_accuracy"][seed], now, 0)],
                             tags=[RunTag("archlab.median_seed", str(result["median_seed"]))])
        for path in figures.get(name, {}).values():
            client.log_artifact(result["run_id"], str(path), artifact_path="evaluation")
    pipeline = {client.get_run(r["run_id"]).data.tags.get("archlab.pipeline_run_id") for r in results.values()}
    tags = {"archlab.stage": "evaluate", "archlab.best_architecture": best, "archlab.task": task.name}
    if skipped:
        tags["archlab.skipped_architectures"] = ", ".join(sorted(skipped))
    cv_best = {r["cv_best"] for r in results.values() if "cv_best" in r}
    if cv_best:
        tags["archlab.cv_best_architecture"] = cv_best.pop()
    references = sorted(name for name, result in results.items() if result.get("reference"))
    if references:
        tags["archlab.references"] = ", ".join(references)
    if len(pipeline) == 1:
        tags["archlab.pipeline_run_id"] = pipeline.pop()
    with tracking.run(params, run_name="evaluation", tags=tags) as active:
        import mlflow

        mlflow.log_metrics({f"{n}_test_{headline}": r[headline] for n, r in results.items() if headline in r})
        mlflow.log_param("best_architecture", best)
        for path in report_files + list(figures.get("", {}).values()):
            mlflow.log_artifact(str(path), artifact_path="report")
        log.info("evaluation summary logged as MLflow run %s", active.info.run_id)


def evaluate(params: Params, *, data_dir: Path, models_dir: Path, metrics_path: Path, plots_dir: Path,
             leaderboard_path: Path, html_path: Path, figures_dir: Path, claims_path: Path | None = None,
             learning_curve_path: Path | None = None, cv_dir: Path | None = None,
             tuned_dir: Path | None = None) -> dict[str, dict]:
    """Score every model of `params.model_names` on the test split and write all evaluation outputs.

    Args:
        claims_path: reports/claims.md, the course's claims checked on this run (`archlab.evaluation.claims`).
        learning_curve_path: the learning curve's points (absent: that claim is not measured). The benchmark's
            claims cite archlab.evaluation.benchmark_evidence, not a file of this project.
        cv_dir: metrics/cv/, the cv@ stages' fold scores (absent or empty: compare is off).
        tuned_dir: tuned/, the tune@ stages' trials (the tuning budget curve, when tuning ran).
    """
    dataset = read_dataset(data_dir)
    task = tasks.get(params.task)
    test_split(dataset)  # refuses a leaking or empty test split before anything is scored
    skipped = skipped_models(params.model_names, models_dir)
    scored = [name for name in params.model_names if name not in skipped]
    if not scored:
        raise DataError(f"no architecture of train.architectures applies to task {params.task}: "
                        + "; ".join(skipped.values()))
    paths = EvaluationPaths(metrics=metrics_path, plots=plots_dir, leaderboard=leaderboard_path, html=html_path,
                            figures=figures_dir, claims=claims_path, learning_curve=learning_curve_path,
                            cv=cv_dir, tuned=tuned_dir)
    if claims_path is not None:
        claims_path.unlink(missing_ok=True)
    results = tasks.part(params.task, "evaluate").evaluate(task, params, dataset, scored, skipped,
                                                            models_dir=models_dir, paths=paths)
    if claims_path is not None and not claims_path.is_file():  # a task whose evaluation checks no claim
        from archlab.evaluation import claims, report

        report.write(claims_path, claims.markdown(claims.unmeasured(task.name), dataset.meta["source"]))
    return results
