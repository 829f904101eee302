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

from archlab.errors import ArchlabError
from archlab.tasks import register
from archlab.tasks.base import Column, Metric, numeric_samples
from archlab.tasks.images import ImagesTask, read_image_inputs

log = logging.getLogger(__name__)
CAPTION_TOKENS = 8  # longer than any template's caption


class TextToImage(ImagesTask):
    name = "text_to_image"
    inputs = "captions to generate images from (and the labelled images the judge classifier learns)"
    metrics = (Metric("caption_match", higher_is_better=True, label="caption match"),)
    val_metric = Metric("val_mae", higher_is_better=False, label="val MAE of the generated pixels")  # generators
    seed_repeats = False  # the generators' caption match is scored for one model each
    sample_noun = "test images"
    borrows = "image_classification"
    drift_gate = False
    cross_validation = "its generators are scored by a judge on generated images, not on held-out labels"

    def is_generator(self, info: dict) -> bool:
        """A model trained by this task's own fit (a generator), not a borrowed image classifier (a judge)."""
        return info.get("fitted_for", "generative" if info.get("family") == "generative" else None) in (
            self.name, "generative")

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
