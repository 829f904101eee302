"""The evaluate stage: every trained model on the same test split; leaderboard, plots, figures, MLflow."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from archlab import modelio, tracking
from archlab.data.store import read_dataset
from archlab.errors import DataError
from archlab.evaluation import latency, report
from archlab.evaluation.scoring import bootstrap_interval, classification_metrics, mcnemar_p_value
from archlab.figures import captioned_grid, confusion_chart, image_grid, line_chart, scatter_chart
from archlab.params import Params
from archlab.tasks import FORECASTING, IMAGE, TABULAR

log = logging.getLogger(__name__)
SCALARS = ("accuracy", "accuracy_ci_low", "accuracy_ci_high", "macro_f1", "log_loss", "p_value_vs_best",
           "param_count", "model_size_bytes", "train_seconds", "latency_ms_batch1", "throughput_batch256")


def test_split(dataset) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The test split, after checking that none of its samples (by id or content) is in train or val."""
    x_test, y_test, rows = dataset.split("test")
    seen = dataset.manifest[dataset.manifest["split"] != "test"]
    overlap = set(rows["id"]) & set(seen["id"]) or set(rows["content_hash"]) & set(seen["content_hash"])
    if overlap:
        raise DataError(f"test samples also in train/val: {sorted(overlap)[:5]}; re-run ingest and validate")
    if len(rows) == 0:
        raise DataError("the test split is empty; check ingest.split")
    return x_test, y_test, rows


def skipped_models(names: list[str], models_dir: Path) -> dict[str, str]:
    """Architectures whose train stage wrote a skip record (not built for this task), with the reason."""
    infos = {name: modelio.read_info(models_dir / name) for name in names}
    return {name: info["reason"] for name, info in infos.items() if info.get("skipped")}


def add_imputation_scores(results: dict, models_dir: Path, dataset) -> None:
    """Imputation RMSE on the test split's masked cells, for every model that imputes (the tabular rbm)."""
    from archlab.evaluation.imputation import imputation_scores

    truth = dataset.truth("test")
    if truth is None:
        return
    x_train = dataset.split("train")[0]
    x_test = dataset.split("test")[0]
    for name in results:
        scores = imputation_scores(modelio.load(models_dir / name), x_test, np.asarray(truth), x_train)
        if scores is not None:
            results[name]["imputation"] = scores
            log.info("%s: imputation RMSE %.4f vs mean imputation %.4f (standardised units, %d cells)", name,
                     scores["imputation_rmse"], scores["mean_imputation_rmse"], scores["imputed_cells"])


def score_model(name: str, folder: Path, x_test: np.ndarray, y_test: np.ndarray, class_names: list[str],
                params: Params) -> tuple[dict, np.ndarray]:
    """All test metrics of one model, and its probabilities."""
    info = modelio.read_info(folder)
    model = modelio.load(folder)
    proba = modelio.predict_proba(model, x_test)
    metrics = classification_metrics(y_test, proba, class_names)
    low, high = bootstrap_interval(proba.argmax(axis=1) == y_test, n_resamples=params.evaluate.bootstrap_resamples,
                                   confidence=params.evaluate.confidence, seed=params.project.seed)
    cost = latency.measure(model, x_test, single_calls=params.evaluate.latency_calls)
    result = {"architecture": name, "family": info["family"], **metrics, "accuracy_ci_low": low,
              "accuracy_ci_high": high, "param_count": info["param_count"], "train_seconds": info["train_seconds"],
              "model_size_bytes": modelio.model_file(folder).stat().st_size, "run_id": info["run_id"], **cost}
    return result, proba


def _figures(results: dict, probas: dict, x_test, y_test, class_names, models_dir: Path, figures_dir: Path,
             params: Params) -> dict[str, dict[str, Path]]:
    """PNG figures: per model (confusion, misclassified), and shared ones under key '' (curves, cost, AE)."""
    out: dict[str, dict[str, Path]] = {"": {}}
    images = params.task == IMAGE
    for name, result in results.items():
        predicted = probas[name].argmax(axis=1)
        wrong = np.flatnonzero(predicted != y_test)[: params.evaluate.misclassified_per_model]
        out[name] = {"confusion": confusion_chart(result["confusion_matrix"], class_names,
                                                  figures_dir / f"confusion_{name}.png",
                                                  f"{name}: test confusion matrix")}
        if images:
            out[name]["misclassified"] = captioned_grid(
                x_test[wrong], [f"{class_names[y_test[i]]} -> {class_names[predicted[i]]}" for i in wrong],
                figures_dir / f"misclassified_{name}.png", f"{name}: misclassified")
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
    ae = models_dir / "autoencoder" / "autoencoder.keras"
    if images and "autoencoder" in results and ae.is_file():
        out[""].update(_autoencoder_figures(modelio.load(ae), results["autoencoder"], x_test, y_test, class_names,
                                            figures_dir, params))
    return out


def _autoencoder_figures(autoencoder, result: dict, x_test, y_test, class_names, figures_dir: Path,
                         params: Params) -> dict[str, Path]:
    """Reconstructions, denoising (PSNR into `result["denoising"]`) and the 2-D latent projection."""
    from archlab.evaluation.autoencoder_uses import denoise, latent_projection
    from archlab.figures import class_scatter

    reconstructed = autoencoder.predict(x_test[:12].astype(np.float32), verbose=0)
    scores, noisy, denoised = denoise(autoencoder, x_test, params.evaluate.denoising_noise_std, params.project.seed)
    points, kept = latent_projection(autoencoder, x_test)
    result["denoising"] = scores | {"latent_pca_variance_kept": kept}
    log.info("autoencoder: PSNR %.2f dB noisy -> %.2f dB denoised (noise std %.2f); 2-D PCA keeps %.0f%% of the "
             "latent variance", scores["psnr_noisy_db"], scores["psnr_denoised_db"], scores["noise_std"], 100 * kept)
    return {
        "autoencoder reconstructions": image_grid([x_test[:12], reconstructed], ["test input", "reconstruction"],
                                                  figures_dir / "reconstructions.png",
                                                  title="autoencoder on test images"),
        "autoencoder denoising": image_grid(
            [x_test[:12], noisy[:12], denoised[:12]], ["clean", "noisy", "denoised"], figures_dir / "denoising.png",
            title=f"denoising: PSNR {scores['psnr_noisy_db']:.1f} dB noisy, {scores['psnr_denoised_db']:.1f} dB "
                  f"denoised"),
        "autoencoder latent space": class_scatter(
            points, y_test, class_names, figures_dir / "autoencoder_latent.png", xlabel="PC 1", ylabel="PC 2",
            title=f"autoencoder latent codes of the test images (PCA, {100 * kept:.0f}% of variance)"),
    }


def _write_plots(plots_dir: Path, results: dict, probas: dict, y_test: np.ndarray, class_names: list[str]) -> None:
    """DVC plot data: per-sample (actual, predicted) for the confusion template; accuracy vs latency."""
    confusion_dir = plots_dir / "confusion"
    confusion_dir.mkdir(parents=True, exist_ok=True)
    for name in results:
        pd.DataFrame({"actual": [class_names[i] for i in y_test],
                      "predicted": [class_names[i] for i in probas[name].argmax(axis=1)]}).to_csv(
            confusion_dir / f"{name}.csv", index=False)
    pd.DataFrame([{"architecture": n, "latency_ms_batch1": r["latency_ms_batch1"], "accuracy": r["accuracy"]}
                  for n, r in results.items()]).to_csv(plots_dir / "accuracy_latency.csv", index=False)


TEST_KEYS = {"accuracy", "accuracy_ci_low", "accuracy_ci_high", "macro_f1", "log_loss", "p_value_vs_best", "rmse",
             "mae", "mase"}  # logged as test_<key>


def _log_to_mlflow(params: Params, results: dict, figures: dict, report_files: list[Path], best: str,
                   skipped: dict[str, str], scalars: tuple[str, ...] = SCALARS, headline: str = "accuracy") -> None:
    """Test metrics and figures onto each architecture's training run; the leaderboard onto a summary run."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    tracking.configure(params)
    client = MlflowClient()
    now = tracking.now_ms()
    for name, result in results.items():
        metrics = {f"test_{k}" if k in TEST_KEYS else k: float(result[k]) for k in scalars}
        metrics |= {f"test_{k}": float(v) for k, v in result.get("imputation", {}).items()}
        metrics |= {f"test_{k}": float(v) for k, v in result.get("denoising", {}).items()}
        client.log_batch(result["run_id"], metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])
        for path in figures.get(name, {}).values():
            client.log_artifact(result["run_id"], str(path), artifact_path="evaluation")
    pipeline = {client.get_run(r["run_id"]).data.tags.get("archlab.pipeline_run_id") for r in results.values()}
    tags = {"archlab.stage": "evaluate", "archlab.best_architecture": best, "archlab.task": params.task}
    if skipped:
        tags["archlab.skipped_architectures"] = ", ".join(sorted(skipped))
    if len(pipeline) == 1:
        tags["archlab.pipeline_run_id"] = pipeline.pop()
    with tracking.run(params, run_name="evaluation", tags=tags) as active:
        import mlflow

        mlflow.log_metrics({f"{n}_test_{headline}": r[headline] for n, r in results.items()})
        mlflow.log_param("best_architecture", best)
        for path in report_files + list(figures[""].values()):
            mlflow.log_artifact(str(path), artifact_path="report")
        log.info("evaluation summary logged as MLflow run %s", active.info.run_id)


def _evaluate_generators(params: Params, dataset, generators: list[str], judge: str, judge_accuracy: float, *,
                         models_dir: Path, figures_dir: Path) -> tuple[dict, Path, list[str]]:
    """Text-to-image: each generator draws the test captions; the best classifier (`judge`) labels the drawings."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    from archlab.evaluation.generation import markdown_section, one_per_caption, score_generator

    tokens, (_, labels, rows) = dataset.tokens("test"), dataset.split("test")
    judge_model = modelio.load(models_dir / judge)
    results, images = {}, {}
    for name in generators:
        results[name], images[name] = score_generator(
            name, models_dir / name, tokens, labels, judge_model, dataset.meta["image_shape"],
            seed=params.project.seed, n_classes=len(dataset.meta["class_names"]), params=params)
        results[name]["judge"] = judge
        log.info("%s: caption match %.4f (judge %s)", name, results[name]["caption_match"], judge)
    captions = rows["caption"].tolist()
    shown = one_per_caption(captions)
    grid = image_grid([images[n][shown] for n in generators], generators, figures_dir / "generated.png",
                      title="one generated image per test caption: " + "; ".join(captions[i] for i in shown[:4])
                            + " ...")
    caption_grid = figures_dir / "generated_captions.png"
    captioned_grid(images[generators[0]][shown] * 255.0, [captions[i] for i in shown], caption_grid,
                   f"{generators[0]}: one image per test caption", columns=8)
    tracking.configure(params)
    client = MlflowClient()
    for r in results.values():
        client.log_batch(r["run_id"], metrics=[Metric(f"test_{k}", float(r[k]), tracking.now_ms(), 0) for k in
                                               ("caption_match", "caption_match_ci_low", "caption_match_ci_high")])
        client.log_artifact(r["run_id"], str(grid), artifact_path="evaluation")
    client.log_artifact(results[generators[0]]["run_id"], str(caption_grid), artifact_path="evaluation")
    return results, grid, markdown_section(results, judge, judge_accuracy)


def _evaluate_forecasts(params: Params, dataset, scored: list[str], skipped: dict[str, str], *, models_dir: Path,
                        paths: dict[str, Path]) -> dict[str, dict]:
    """The forecasting branch of `evaluate` (see archlab.evaluation.forecast)."""
    from archlab.evaluation import forecast
    from archlab.ingest_series import SERIES

    x_test, y_test, rows = test_split(dataset)
    metric = params.register_.metric
    results, predictions = {}, {}
    for name in scored:
        results[name], predictions[name] = forecast.score_forecaster(name, models_dir / name, x_test, y_test,
                                                                     dataset.meta["mase_scale"], params)
        log.info("%s: test RMSE %.4f, MAE %.4f, MASE %.3f", name, results[name]["rmse"], results[name]["mae"],
                 results[name]["mase"])
    best = min(results, key=lambda n: report.rank_key(results[n], metric))
    figures = forecast.write_outputs(results=results, predictions=predictions, y_test=y_test, rows=rows,
                                     meta=dataset.meta, metric=metric, skipped=skipped, paths=paths,
                                     series=pd.read_csv(dataset.folder / SERIES))
    _log_to_mlflow(params, results, {"": figures}, [paths["leaderboard"], paths["html"]], best, skipped,
                   scalars=forecast.SCALARS, headline=metric)
    return results


def evaluate(params: Params, *, data_dir: Path, models_dir: Path, metrics_path: Path, plots_dir: Path,
             leaderboard_path: Path, html_path: Path, figures_dir: Path) -> dict[str, dict]:
    """Score every model of `params.model_names` on the test split and write all evaluation outputs."""
    dataset = read_dataset(data_dir)
    class_names = dataset.meta["class_names"]
    x_test, y_test, _ = test_split(dataset)
    skipped = skipped_models(params.model_names, models_dir)
    scored = [name for name in params.model_names if name not in skipped]
    if not scored:
        raise DataError(f"no architecture of train.architectures applies to task {params.task}: "
                        + "; ".join(skipped.values()))
    if dataset.task == FORECASTING:
        return _evaluate_forecasts(params, dataset, scored, skipped, models_dir=models_dir,
                                   paths={"metrics": metrics_path, "plots": plots_dir, "leaderboard": leaderboard_path,
                                          "html": html_path, "figures": figures_dir})
    generators = [n for n in scored if modelio.read_info(models_dir / n)["family"] == "generative"]
    scored = [n for n in scored if n not in generators]
    if not scored:
        raise DataError(f"task {params.task}: train.architectures has no image classifier; one is needed "
                        "(text-to-image: to judge the generated images)")
    results, probas = {}, {}
    for name in scored:
        results[name], probas[name] = score_model(name, models_dir / name, x_test, y_test, class_names, params)
        log.info("%s: test accuracy %.4f", name, results[name]["accuracy"])
    if dataset.task == TABULAR:
        add_imputation_scores(results, models_dir, dataset)
    best = min(results, key=lambda n: report.rank_key(results[n]))
    correct = {name: proba.argmax(axis=1) == y_test for name, proba in probas.items()}
    for name in results:
        results[name]["p_value_vs_best"] = 1.0 if name == best else mcnemar_p_value(correct[name], correct[best])
    figures = _figures(results, probas, x_test, y_test, class_names, models_dir, figures_dir, params)
    _write_plots(plots_dir, results, probas, y_test, class_names)
    metrics = {name: {k: r[k] for k in SCALARS} | {"per_class": r["per_class"]}
               | {key: r[key] for key in ("imputation", "denoising") if key in r} for name, r in results.items()}
    extra: list[str] = []
    if generators:
        generated, figures[""]["generated"], extra = _evaluate_generators(
            params, dataset, generators, best, results[best]["accuracy"], models_dir=models_dir,
            figures_dir=figures_dir)
        metrics |= {name: {k: v for k, v in r.items() if k != "run_id"} for name, r in generated.items()}
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    meta = {"alpha": params.evaluate.alpha, "n_test": len(y_test), "dataset": dataset.meta["source"],
            "task": params.task, "skipped": skipped, "extra": extra}
    report.write(leaderboard_path, report.markdown(results, **meta))
    shown = {f"{n}: {kind}": str(p.relative_to(html_path.parent)) for n, f in figures.items() for kind, p in f.items()}
    report.write(html_path, report.html_report(results, figures=shown, **meta))
    _log_to_mlflow(params, results, figures, [leaderboard_path, html_path], best, skipped)
    return results
