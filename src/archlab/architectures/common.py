"""What architectures share: the fit hyper-parameters of every Keras model, and pixel preprocessing."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from archlab.params import Strict


class BalanceParams(Strict):
    """How a classifier treats imbalanced classes (`archlab.training.balance`); the training split only."""

    class_balance: Literal["none", "class_weight", "rbm_oversample", "smote"] = Field(
        "none", description="none | class_weight (balanced loss weights) | rbm_oversample (an RBM per minority "
                            "class generates samples by Gibbs sampling) | smote (imbalanced-learn)")
    balance_ratio: float = Field(1.0, gt=0.0, le=1.0, description="oversamplers: every class grows to this share "
                                                                  "of the largest class's training count")
    # On digits with 18 samples a class, 128 units x 500 passes (0.5 s a class) gave the most varied samples of the
    # settings tried; longer chains drift to one prototype per class (tests/test_class_balance.py measures spread).
    rbm_components: int = Field(128, ge=1, description="rbm_oversample: hidden units of each class's RBM")
    rbm_epochs: int = Field(500, ge=1, description="rbm_oversample: passes over the class's samples")
    rbm_gibbs_steps: int = Field(10, ge=1, description="rbm_oversample: Gibbs steps from a real sample to a new one")


class KerasFitParams(BalanceParams):
    """Hyper-parameters of the shared Keras training loop; same names in every architecture's block."""

    epochs: int = Field(100, ge=1, le=10_000, description="most epochs (early stopping may end it sooner)")
    batch_size: int = Field(64, ge=1, le=65_536, description="samples per gradient step")
    learning_rate: float = Field(1e-3, gt=0.0, le=1.0, description="the optimizer's step size")
    patience: int = Field(10, ge=0, description="early stopping: epochs without val_loss improvement")
    optimizer: Literal["adam", "adamw", "sgd"] = Field("adam", description="the Keras optimizer")
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
