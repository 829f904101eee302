"""Text-to-image, judged honestly: the best digit classifier of the run labels the images each generator draws for
the test captions; a generator's caption match is the share labelled as the caption's class. The caption-blind
control, trained the same way with every caption blanked, shows what a generator scores without reading the text
(about one class in n_classes). Generated pixels never touch training: the judge saw only real images.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from archlab import modelio
from archlab.errors import DataError
from archlab.evaluation.report import rank_key
from archlab.evaluation.scoring import bootstrap_interval
from archlab.tasks.classification import CLASSIFICATION_METRICS
from archlab.tasks.classification_evaluate import ClassificationEvaluation
from archlab.tasks.text_to_image.judge import judged_match

log = logging.getLogger(__name__)
GENERATION_KEYS = ("caption_match", "caption_match_ci_low", "caption_match_ci_high")


def score_generator(name: str, folder, tokens: np.ndarray, labels: np.ndarray, judge, image_shape, *, seed: int,
                    n_classes: int, params) -> tuple[dict, np.ndarray]:
    """Caption match of one generator on the test captions, with a bootstrap interval, and its images."""
    from archlab.architectures.zoo.cross_attention import generate

    info = modelio.read_info(folder)
    model = modelio.load(folder)
    blind = not info.get("reads_caption", True)
    started = time.perf_counter()
    images = generate(model, np.zeros_like(tokens) if blind else tokens, tuple(image_shape), seed)
    seconds = time.perf_counter() - started
    match = judged_match(judge, images, labels)
    low, high = bootstrap_interval(match, n_resamples=params.evaluate.bootstrap_resamples,
                                   confidence=params.evaluate.confidence, seed=seed)
    per_class = {str(k): float(match[labels == k].mean()) for k in range(n_classes) if (labels == k).any()}
    return {"architecture": name, "family": info["family"], "caption_match": float(match.mean()),
            "caption_match_ci_low": low, "caption_match_ci_high": high, "reads_caption": not blind,
            "caption_match_per_class": per_class, "param_count": info["param_count"],
            "train_seconds": info["train_seconds"], "model_size_bytes": modelio.model_file(folder).stat().st_size,
            "ms_per_image": 1000.0 * seconds / max(len(tokens), 1), "run_id": info["run_id"]}, images


def one_per_caption(captions: list[str], limit: int = 40) -> list[int]:
    """Index of the first sample of each distinct caption, in caption order (the grid's columns)."""
    first: dict[str, int] = {}
    for i, text in enumerate(captions):
        first.setdefault(text, i)
    return [first[text] for text in sorted(first, key=lambda t: (t.split()[-1], t))][:limit]


def markdown_section(results: dict, judge: str, judge_accuracy: float) -> list[str]:
    control = [r for r in results.values() if not r["reads_caption"]]
    lines = ["", "## Text-to-image: caption match (test captions)", "",
             f"Judge: `{judge}`, the best classifier of this run (test accuracy {judge_accuracy:.4f} on real images), "
             "labels each generated image; caption match = share labelled as the caption's class. "
             "`caption_blind` is the control: the same generator trained with every caption blanked.", "",
             "| generator | reads the caption | caption match [95% CI] | vs control | params | ms/image |",
             "|---|---|---|---|---:|---:|"]
    for r in sorted(results.values(), key=lambda r: -r["caption_match"]):
        versus = f"{r['caption_match'] - control[0]['caption_match']:+.4f}" if control and r["reads_caption"] else "-"
        lines.append(f"| {r['architecture']} | {'yes' if r['reads_caption'] else 'no'} | {r['caption_match']:.4f} "
                     f"[{r['caption_match_ci_low']:.3f}, {r['caption_match_ci_high']:.3f}] | {versus} | "
                     f"{r['param_count']:,} | {r['ms_per_image']:.2f} |")
    return lines


class TextToImageEvaluation(ClassificationEvaluation):
    """The image classifiers scored as judges (no misclassified grids: their own report is image
    classification's), then each generator judged by the best of them."""

    def evaluate(self, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path, paths):
        generators = [n for n in names if self.task.is_generator(modelio.read_info(models_dir / n))]
        judges = [n for n in names if n not in generators]
        if not judges:
            raise DataError(f"task {self.task.name}: train.architectures has no image classifier; one is needed to "
                            "judge the generated images")
        results, figures = self.evaluate_classifiers(params, dataset, judges, skipped, models_dir, paths)
        metrics, extra = {}, []
        if generators:
            best = min(results, key=lambda n: self.rank(results[n]))
            generated, figures[""]["generated"], extra = self.evaluate_generators(
                params, dataset, generators, best, results[best]["accuracy"], models_dir=models_dir,
                figures_dir=paths.figures)
            metrics = {name: {k: v for k, v in r.items() if k != "run_id"} for name, r in generated.items()}
        self.write_reports(params, dataset, results, skipped, figures, paths, metrics=metrics, extra=extra)
        return results

    def rank(self, result: dict):
        return rank_key(result, CLASSIFICATION_METRICS[0])

    def evaluate_generators(self, params, dataset, generators: list[str], judge: str, judge_accuracy: float, *,
                            models_dir: Path, figures_dir: Path) -> tuple[dict, Path, list[str]]:
        """Each generator draws the test captions; the best classifier (`judge`) labels the drawings."""
        from mlflow import MlflowClient
        from mlflow.entities import Metric as MlflowMetric

        from archlab import tracking
        from archlab.figures import captioned_grid, image_grid

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
            client.log_batch(r["run_id"], metrics=[MlflowMetric(f"test_{k}", float(r[k]), tracking.now_ms(), 0)
                                                   for k in GENERATION_KEYS])
            client.log_artifact(r["run_id"], str(grid), artifact_path="evaluation")
        client.log_artifact(results[generators[0]]["run_id"], str(caption_grid), artifact_path="evaluation")
        return results, grid, markdown_section(results, judge, judge_accuracy)


def evaluate(task, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path,
             paths) -> dict[str, dict]:
    return TextToImageEvaluation(task).evaluate(params, dataset, names, skipped, models_dir=models_dir, paths=paths)
