"""The register stage's scoring for text to image: a generator version draws the test captions and the run's judge
classifier labels each drawing (the share that shows its caption's class)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from archlab import modelio
from archlab.errors import ArchlabError
from archlab.tasks.base import Metric, Scorer
from archlab.tasks.text_to_image.judge import judged_match


def scorer(task, dataset, models_dir: Path, evaluation: dict) -> Scorer:
    """Generators draw the test captions; the run's judge classifier labels each drawing."""
    judge_name = next(entry["judge"] for entry in evaluation.values() if "judge" in entry)
    judge, shape = modelio.load(models_dir / judge_name), tuple(dataset.meta["image_shape"])
    _, labels, _ = dataset.split("test")

    def score(output: pd.DataFrame, metric: Metric) -> float:
        pixels = output.to_numpy(dtype=np.float64)
        if pixels.shape[1:] != (int(np.prod(shape)),):
            raise ArchlabError(f"draws {pixels.shape[1]} pixels per image, expected {shape}")
        return float(judged_match(judge, pixels.reshape(len(pixels), *shape), labels).mean())

    return Scorer(inputs=np.asarray(dataset.tokens("test"), dtype=np.int32), score=score)
