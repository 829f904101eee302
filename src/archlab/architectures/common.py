"""What architectures share: the fit hyper-parameters of every Keras model, and pixel preprocessing."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from archlab.params import Strict


class KerasFitParams(Strict):
    """Hyper-parameters of the shared Keras training loop; same names in every architecture's block."""

    epochs: int = Field(100, ge=1, le=10_000)
    batch_size: int = Field(64, ge=1, le=65_536)
    learning_rate: float = Field(1e-3, gt=0.0, le=1.0)
    patience: int = Field(10, ge=0, description="early stopping: epochs without val_loss improvement")
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    mixed_precision: bool = Field(False, description="float16 compute; useful on GPUs, off on CPU")
    jit_compile: bool = Field(False, description="XLA compilation; off by default on CPU")
    checkpoint_every_s: float = Field(
        10.0, ge=0.0, le=86_400.0,
        description="resumable backup at most this often (seconds of training; 0 = every epoch): a kill loses at "
                    "most this much work, and short epochs do not pay a backup each")


def flatten_unit(images: np.ndarray) -> np.ndarray:
    """(N, H, W, C) pixels 0..255 to (N, H*W*C) floats in [0, 1]: the input of the classical models."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0
