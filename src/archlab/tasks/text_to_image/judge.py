"""The judge: the run's best image classifier labels each generated image (what evaluate and the registry score a
generator by)."""

from __future__ import annotations

import numpy as np

from archlab import modelio


def judged_match(judge, images01: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image: does the judge label the generated image (pixels in [0, 1]) as the caption's class?"""
    return modelio.predict_proba(judge, np.asarray(images01, dtype=np.float32) * 255.0).argmax(axis=1) == labels
