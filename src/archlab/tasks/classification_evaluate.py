"""Evaluate for the classification tasks (images, table rows, and text-to-image's judges): every model scored on
the same test split, accuracy and macro-F1 with bootstrap intervals and paired tests against the best, the
confusion matrix, the claims, the leaderboards and the MLflow records. A task adds its own scores and figures by
subclassing `ClassificationEvaluation` in its `evaluate` part (hooks `extra_scores` and `extra_figures`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archlab import modelio
from archlab.evaluation import tuning_budget
from archlab.evaluation.cross_validation import CV_KEYS, add_verdicts, critical_difference
from archlab.evaluation.report import rank_key
from archlab.tasks.base import EvaluationPaths
from archlab.tasks.classification import CLASSIFICATION_METRICS

if TYPE_CHECKING:
    from archlab.tasks.base import Task

log = logging.getLogger(__name__)
SCALARS = ("accuracy", "accuracy_ci_low", "accuracy_ci_high", "macro_f1", "balanced_accuracy", "log_loss",
           "p_value_vs_best", "param_count", "model_size_bytes", "train_seconds", "latency_ms_batch1",
           "throughput_batch256")
TEST_KEYS = ("accuracy", "accuracy_ci_low", "accuracy_ci_high", "macro_f1", "balanced_accuracy", "log_loss",
             "p_value_vs_best")
SEED_KEYS = ("seeds", "median_seed", "test_accuracy_mean", "test_accuracy_std", "seed_accuracy")  # train.seeds


def score_model(name: str, folder: Path, model, proba: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                class_names: list[str], params) -> dict:
    """All test metrics of one classifier (loaded from `folder`), given its test probabilities."""
    from archlab.evaluation import latency
    from archlab.evaluation.scoring import bootstrap_interval, classification_metrics

    info = modelio.read_info(folder)
    metrics = classification_metrics(y_test, proba, class_names)
    low, high = bootstrap_interval(proba.argmax(axis=1) == y_test, n_resamples=params.evaluate.bootstrap_resamples,
                                   confidence=params.evaluate.confidence, seed=params.project.seed)
    cost = latency.measure(model, x_test, single_calls=params.evaluate.latency_calls)
    result = {"architecture": name, "family": info["family"], "reference": bool(info.get("reference")),
              **metrics, "accuracy_ci_low": low,
              "accuracy_ci_high": high, "param_count": info["param_count"], "train_seconds": info["train_seconds"],
              "model_size_bytes": modelio.model_file(folder).stat().st_size, "run_id": info["run_id"], **cost}
    return result


def score_seeds(name: str, folder: Path, x_test: np.ndarray, y_test: np.ndarray, class_names: list[str],
                params) -> tuple[dict, np.ndarray, list[np.ndarray]]:
    """One architecture's test scores over every seed it was trained with (`train.seeds`).

    Returns:
        The full scores and probabilities of its median-seed model (one seed: its only model) with the spread over
        seeds added, and every seed's per-sample correctness for the paired test.
    """
    from archlab.evaluation.scoring import seed_summary

    folders = modelio.seed_folders(folder)
    models = {seed: modelio.load(f) for seed, f in folders.items()}
    probas = {seed: modelio.predict_proba(model, x_test) for seed, model in models.items()}
    correct = {seed: proba.argmax(axis=1) == y_test for seed, proba in probas.items()}
    if len(folders) == 1:
        (seed,) = folders
        return score_model(name, folder, models[seed], probas[seed], x_test, y_test, class_names, params), \
            probas[seed], [correct[seed]]
    spread = seed_summary({seed: float(c.mean()) for seed, c in correct.items()})
    median = spread["median_seed"]
    result = score_model(name, folders[median], models[median], probas[median], x_test, y_test, class_names, params)
    runs = {str(seed): modelio.read_info(f)["run_id"] for seed, f in folders.items()}
    return result | spread | {"seed_runs": runs}, probas[median], list(correct.values())


def common_figures(results: dict, probas: dict, y_test, class_names, models_dir: Path,
                   figures_dir: Path) -> dict[str, dict[str, Path]]:
    """Per model a confusion matrix; shared (key '') the validation curves and accuracy against latency."""
    import pandas as pd

    from archlab.figures import confusion_chart, line_chart, scatter_chart

    out: dict[str, dict[str, Path]] = {"": {}}
    for name, result in results.items():
        out[name] = {"confusion": confusion_chart(result["confusion_matrix"], class_names,
                                                  figures_dir / f"confusion_{name}.png",
                                                  f"{name}: test confusion matrix")}
    curves = {}
    for name in results:
        csv = models_dir / name / "history.csv"
        if csv.is_file():
            frame = pd.read_csv(csv).dropna(subset=["val_accuracy"])
            curves[name] = (frame["epoch"].tolist(), frame["val_accuracy"].tolist())
    if curves:
        out[""]["training curves"] = line_chart(curves, figures_dir / "training_curves.png", xlabel="epoch",
                                                ylabel="val accuracy", title="Validation accuracy per epoch")
    out[""]["accuracy vs latency"] = scatter_chart(
        {n: (r["latency_ms_batch1"], r["accuracy"]) for n, r in results.items()}, figures_dir / "accuracy_latency.png",
        xlabel="latency per image at batch 1 (ms, log scale)", ylabel="test accuracy", title="Accuracy vs latency")
    return out


def write_plots(plots_dir: Path, results: dict, probas: dict, y_test: np.ndarray, class_names: list[str]) -> None:
    """DVC plot data: per-sample (actual, predicted) for the confusion template; accuracy vs latency."""
    import pandas as pd

    confusion_dir = plots_dir / "confusion"
    confusion_dir.mkdir(parents=True, exist_ok=True)
    for name in results:
        pd.DataFrame({"actual": [class_names[i] for i in y_test],
                      "predicted": [class_names[i] for i in probas[name].argmax(axis=1)]}).to_csv(
            confusion_dir / f"{name}.csv", index=False)
    pd.DataFrame([{"architecture": n, "latency_ms_batch1": r["latency_ms_batch1"], "accuracy": r["accuracy"]}
                  for n, r in results.items()]).to_csv(plots_dir / "accuracy_latency.csv", index=False)


def read_json(path: Path | None) -> dict | None:
    """An optional JSON input of the evaluate stage (None when not given or not there)."""
    import json

    return json.loads(path.read_text()) if path is not None and path.is_file() else None


class ClassificationEvaluation:
    """The evaluate stage of a classification task (`task`)."""

    def __init__(self, task: Task):
        self.task = task
        self.advice: str | None = None  # the holdout's resolution for the top pair (`archlab.evaluation.advisor`)

    def extra_scores(self, results: dict, dataset, models_dir: Path, params) -> None:
        """Hook: add task-specific scores to `results` (the tables' imputation quality)."""

    def extra_figures(self, figures: dict, results: dict, probas: dict, x_test, y_test, class_names,
                      models_dir: Path, figures_dir: Path, params) -> None:
        """Hook: add task-specific figures (the images' misclassified grids, the autoencoder's uses)."""

    def evaluate(self, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path,
                 paths: EvaluationPaths) -> dict[str, dict]:
        results, figures = self.evaluate_classifiers(params, dataset, names, skipped, models_dir, paths)
        self.write_reports(params, dataset, results, skipped, figures, paths, metrics={}, extra=[])
        return results

    def evaluate_classifiers(self, params, dataset, names, skipped, models_dir: Path, paths: EvaluationPaths):
        """Score the classifiers; returns results and figures."""
        from archlab.evaluation.scoring import paired_p_value
        from archlab.evaluation.split import test_split

        x_test, y_test, _ = test_split(dataset)
        class_names = dataset.meta["class_names"]
        results, probas, correct = {}, {}, {}
        for name in names:
            results[name], probas[name], correct[name] = score_seeds(name, models_dir / name, x_test, y_test,
                                                                     class_names, params)
            spread = (f" (median of {len(correct[name])} seeds; mean {results[name]['test_accuracy_mean']:.4f} "
                      f"+- {results[name]['test_accuracy_std']:.4f})") if len(correct[name]) > 1 else ""
            log.info("%s: test accuracy %.4f%s", name, results[name]["accuracy"], spread)
        cut = (dataset.meta.get("imbalance") or {}).get("classes")
        if cut:  # ingest.imbalance: how the classes cut down in training fare on the full test split
            for result in results.values():
                result["minority_recall"] = float(np.mean([result["per_class"][c]["recall"] for c in cut]))
        self.extra_scores(results, dataset, models_dir, params)
        metric = CLASSIFICATION_METRICS[0]
        best = min(results, key=lambda n: rank_key(results[n], metric))
        for name in results:
            results[name]["p_value_vs_best"], results[name]["paired_test"] = (
                (1.0, "-") if name == best else paired_p_value(correct[name], correct[best]))
            results[name]["seed_correct"] = correct[name]  # per seed, per test sample: the claims' paired tests
        add_verdicts(results, paths.cv, params.compare.rope)
        ranked = sorted(results, key=lambda n: rank_key(results[n], metric))
        if len(ranked) > 1:
            from archlab.evaluation.advisor import advice

            top = [probas[name].argmax(axis=1) == y_test for name in ranked[:2]]
            self.advice = advice(ranked[0], ranked[1], *top, alpha=params.evaluate.alpha)
        figures = common_figures(results, probas, y_test, class_names, models_dir, paths.figures)
        drawn = {"critical difference": critical_difference(results, paths.figures / "critical_difference.png"),
                 "tuning budget": tuning_budget.figure(paths.tuned, paths.figures / "tuning_budget.png")}
        figures[""] |= {name: path for name, path in drawn.items() if path is not None}
        curve = read_json(paths.learning_curve)
        if curve and curve.get("points"):
            from archlab.evaluation.claims import curve_figure

            figures[""]["learning curve"] = curve_figure(curve, paths.figures / "learning_curve.png")
        self.extra_figures(figures, results, probas, x_test, y_test, class_names, models_dir, paths.figures, params)
        write_plots(paths.plots, results, probas, y_test, class_names)
        return results, figures

    def write_claims(self, params, dataset, results: dict, paths: EvaluationPaths) -> str:
        """reports/claims.md from this run's scores, the learning curve and the benchmark; returns the HTML
        section (empty when no claims file is asked for)."""
        if paths.claims is None:
            return ""
        from archlab.evaluation import benchmark_evidence, claims, report

        correct = {name: r["seed_correct"] for name, r in results.items()}
        bench = {"results": benchmark_evidence.MEASURED}  # measured by `make bench`, shipped with the code
        checked = claims.build(results, correct, read_json(paths.learning_curve), bench,
                               params.evaluate.alpha, dataset.meta["source"])
        report.write(paths.claims, claims.markdown(checked, dataset.meta["source"]))
        for claim in checked:
            log.info("claim %s: %s", claim.verdict, claim.claim)
        return claims.html_section(checked)

    def write_reports(self, params, dataset, results: dict, skipped: dict, figures: dict, paths: EvaluationPaths, *,
                      metrics: dict, extra: list[str]) -> None:
        """metrics/evaluate.json, the Markdown and HTML leaderboards, and the MLflow records."""
        import json

        from archlab.evaluation import report
        from archlab.evaluation.run import log_to_mlflow
        from archlab.tasks import classification_leaderboard as leaderboard

        metrics = {name: {k: r[k] for k in SCALARS} | {"per_class": r["per_class"]}
                   | {key: r[key] for key in ("imputation", "denoising", "paired_test", "minority_recall", *SEED_KEYS,
                                            *CV_KEYS) if key in r}
                   for name, r in results.items()} | metrics
        paths.metrics.parent.mkdir(parents=True, exist_ok=True)
        paths.metrics.write_text(json.dumps(metrics, indent=2) + "\n")
        n_test = int((dataset.manifest["split"] == "test").sum())
        meta = {"alpha": params.evaluate.alpha, "n_test": n_test, "dataset": dataset.meta["source"],
                "task": self.task, "skipped": skipped, "extra": extra, "advice": self.advice}
        report.write(paths.leaderboard, leaderboard.markdown(results, **meta))
        shown = {f"{n}: {kind}" if n else kind: str(p.relative_to(paths.html.parent)) for n, f in figures.items()
                 for kind, p in f.items()}  # "" holds the figures of the whole run: captioned by their kind
        claims_html = self.write_claims(params, dataset, results, paths)
        report.write(paths.html, leaderboard.html_report(results, figures=shown, claims_html=claims_html, **meta))
        best = min(results, key=lambda n: rank_key(results[n], CLASSIFICATION_METRICS[0]))
        reports = [paths.leaderboard, paths.html] + ([paths.claims] if paths.claims is not None else [])
        log_to_mlflow(params, self.task, results, figures, reports, best, skipped, scalars=SCALARS, test_keys=TEST_KEYS)


def evaluate(task: Task, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path,
             paths: EvaluationPaths) -> dict[str, dict]:
    """A classification task's evaluate part with no extras of its own."""
    return ClassificationEvaluation(task).evaluate(params, dataset, names, skipped, models_dir=models_dir, paths=paths)
