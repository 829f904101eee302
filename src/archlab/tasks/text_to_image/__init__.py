"""Text to image: captions in, images out, judged by the run's best image classifier.

Captions come from the class labels through templates ("a handwritten seven", "the digit 7", ...). The task's own
architectures (`fits` key `text_to_image`) are generators; every image classifier trains too (the task borrows
`image_classification`'s fits), and the best of them is the judge that labels the generated images.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from archlab import modelio
from archlab.data import store
from archlab.errors import ArchlabError, DataError
from archlab.tasks import register
from archlab.tasks.base import Column, Metric, Scorer, numeric_samples
from archlab.tasks.images import ImagesTask, read_image_inputs

log = logging.getLogger(__name__)
CAPTION_TOKENS = 8  # longer than any template's caption
GENERATION_KEYS = ("caption_match", "caption_match_ci_low", "caption_match_ci_high")


class TextToImage(ImagesTask):
    name = "text_to_image"
    inputs = "captions to generate images from (and the labelled images the judge classifier learns)"
    metrics = (Metric("caption_match", higher_is_better=True, label="caption match"),)
    seed_repeats = False  # the generators' caption match is scored for one model each
    sample_noun = "test images"
    borrows = "image_classification"
    drift_gate = False

    def is_generator(self, info: dict) -> bool:
        """A model trained by this task's own fit (a generator), not a borrowed image classifier (a judge)."""
        return info.get("fitted_for", "generative" if info.get("family") == "generative" else None) in (
            self.name, "generative")

    def extend_dataset(self, folder: Path, manifest: pd.DataFrame, class_names: list[str], params) -> dict:
        """A caption per sample (manifest column `caption`), its tokens in tokens.npy; the vocabulary in meta."""
        from archlab.tasks.text_to_image.captions import build_vocabulary, captions_for, encode

        texts = captions_for(manifest["id"].tolist(), class_names, manifest["label"].to_numpy(), params.project.seed)
        manifest["caption"] = texts
        train = [t for t, s in zip(texts, manifest["split"], strict=True) if s == "train"]
        vocabulary = build_vocabulary(train)
        np.save(folder / store.TOKENS, encode(texts, vocabulary, CAPTION_TOKENS))
        return {"vocabulary": vocabulary, "caption_tokens": CAPTION_TOKENS}

    def validate(self, dataset, params, docs_dir: Path) -> list:
        from archlab.tasks.text_to_image.suite import run_caption_suite

        checks = super().validate(dataset, params, docs_dir)
        return checks + run_caption_suite(dataset.manifest, dataset.meta["class_names"], docs_dir=docs_dir)

    def training_profile(self, data) -> dict | None:
        return None  # `archlab retrain` has no drift gate for captions

    def model_info(self, data, fitted_for: str, seed: int) -> dict:
        if fitted_for != self.name:
            return {}
        return {"generation_seed": seed, "vocabulary": data.meta["vocabulary"],
                "caption_tokens": data.meta["caption_tokens"]}

    def pyfunc_example(self, data, info: dict):
        return np.asarray(data.text_val[:2], dtype=np.int32) if self.is_generator(info) else \
            super().pyfunc_example(data, info)

    def output_frame(self, model, samples, info: dict) -> pd.DataFrame:
        if not self.is_generator(info):
            return super().output_frame(model, samples, info)
        from archlab.architectures.zoo.cross_attention import generate
        from archlab.output_frames import images_frame

        tokens = numeric_samples(samples).astype(np.int32)
        seed = int(info.get("generation_seed", 0))  # the evaluate stage draws with the same noise
        return images_frame(generate(model, tokens, tuple(info["input_shape"]), seed=seed))

    def evaluate(self, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path, paths):
        generators = [n for n in names if self.is_generator(modelio.read_info(models_dir / n))]
        judges = [n for n in names if n not in generators]
        if not judges:
            raise DataError(f"task {self.name}: train.architectures has no image classifier; one is needed to judge "
                            "the generated images")
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
        from archlab.evaluation.report import rank_key
        from archlab.tasks.classification import CLASSIFICATION_METRICS

        return rank_key(result, CLASSIFICATION_METRICS[0])

    def extra_figures(self, *args, **kwargs) -> None:
        """No misclassified grids here: the judges' own report is the image classification task's."""

    def evaluate_generators(self, params, dataset, generators: list[str], judge: str, judge_accuracy: float, *,
                            models_dir: Path, figures_dir: Path) -> tuple[dict, Path, list[str]]:
        """Each generator draws the test captions; the best classifier (`judge`) labels the drawings."""
        from mlflow import MlflowClient
        from mlflow.entities import Metric as MlflowMetric

        from archlab import tracking
        from archlab.figures import captioned_grid, image_grid
        from archlab.tasks.text_to_image.evaluate import markdown_section, one_per_caption, score_generator

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

    def scorer(self, dataset, models_dir: Path, evaluation: dict) -> Scorer:
        """Generators draw the test captions; the run's judge classifier labels each drawing."""
        from archlab.tasks.text_to_image.evaluate import judged_match

        judge_name = next(entry["judge"] for entry in evaluation.values() if "judge" in entry)
        judge, shape = modelio.load(models_dir / judge_name), tuple(dataset.meta["image_shape"])
        _, labels, _ = dataset.split("test")

        def score(output: pd.DataFrame, metric: Metric) -> float:
            pixels = output.to_numpy(dtype=np.float64)
            if pixels.shape[1:] != (int(np.prod(shape)),):
                raise ArchlabError(f"draws {pixels.shape[1]} pixels per image, expected {shape}")
            return float(judged_match(judge, pixels.reshape(len(pixels), *shape), labels).mean())

        return Scorer(inputs=np.asarray(dataset.tokens("test"), dtype=np.int32), score=score)

    def leaderboard_columns(self) -> list[Column]:
        return [Column("caption_match", "caption match"), Column("caption_match_ci_low", "CI low", ".3f"),
                Column("caption_match_ci_high", "CI high", ".3f"), Column("ms_per_image", "ms/img", ".2f"),
                Column("param_count", "params", ",.0f")]

    def read_inputs(self, paths: list[Path], info: dict):
        """Generators: text files of captions, one a line (or .npy token arrays); judges: images."""
        if not self.is_generator(info):
            return read_image_inputs(paths, info["input_shape"])
        from archlab.tasks.text_to_image.captions import encode

        arrays, names = [], []
        for path in paths:
            if not path.is_file():
                raise ArchlabError(f"{path}: input file not found")
            if path.suffix.lower() == ".npy":
                tokens = np.asarray(np.load(path, allow_pickle=False), dtype=np.int32)
                names.extend(f"{path}[{i}]" for i in range(len(tokens)))
            else:
                texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
                if not texts:
                    raise ArchlabError(f"{path}: no caption in it; write one caption a line")
                tokens = encode(texts, info["vocabulary"], info["caption_tokens"])
                names.extend(texts)
            arrays.append(tokens)
        return np.concatenate(arrays), names

    def render_predictions(self, frame: pd.DataFrame) -> list[str]:
        """Generated images as text shading, one block per caption (judged images are in the HTML report)."""
        if "class_name" in frame:
            return super().render_predictions(frame)
        pixels = frame[[c for c in frame.columns if c.startswith("px_")]].to_numpy(dtype=np.float64)
        side = int(round(np.sqrt(pixels.shape[1])))
        shades = " .:-=+*#%@"
        lines = []
        for name, image in zip(frame["input"], pixels, strict=True):
            lines.append(f"{name}:")
            if side * side == pixels.shape[1]:
                for row in image.reshape(side, side):
                    lines.append("  " + "".join(shades[min(9, int(v * 10))] * 2 for v in row))
        return lines


register(TextToImage())
