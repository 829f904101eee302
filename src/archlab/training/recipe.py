"""The one training recipe: how archlab fits an architecture, whoever asks (train@, a tune trial, a learning-curve
point, a cross-validation fold).

Seed and set up the device, apply the architecture's `class_balance` to the training split, build the fit
context, and call the zoo file's `fit` for the task (its own, or the one it borrows). Written once, so that a tune
trial fits exactly what train@<arch> would fit and a learning-curve point exactly what it would fit on fewer rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archlab.training.balance import Rebalanced, rebalance
from archlab.training.data import TrainingData
from archlab.training.fit import FitContext, Trained, prepare_device


@dataclass
class Fitted:
    """A recipe's result: the trained model and the class balance it was trained with."""

    trained: Trained
    balanced: Rebalanced


@dataclass
class Recipe:
    """One architecture with its params, for one task and seed."""

    arch_name: str
    arch_params: object
    task: object
    seed: int
    device: dict[str, str] | None = field(default=None, init=False)

    def prepare(self) -> dict[str, str]:
        """Seed and set up the device once (Keras only for a Keras architecture); its description.

        train@ calls it before its MLflow records, so the training time it measures leaves out the import of
        TensorFlow; `fit` calls it when nobody has.
        """
        if self.device is None:
            self.device = prepare_device(self.arch_params, self.seed)
        return self.device

    def fit(self, data: TrainingData, *, checkpoint_dir: Path, artifact_dir: Path | None = None,
            features_dir: Path | None = None, on_epoch: Callable[[str, int, dict[str, float]], None] | None = None
            ) -> Fitted:
        """Train on `data`'s training split (rebalanced; val untouched) with early stopping on its val split.

        Args:
            checkpoint_dir: per-epoch backups and history; a re-run with the same folder resumes.
            artifact_dir: where the architecture writes its figures.
            features_dir: cached backbone embeddings, for a feature head.
            on_epoch: called with (phase, epoch, metrics) after each epoch.
        """
        from archlab.architectures.registry import get

        self.prepare()
        arch = get(self.arch_name)
        balanced = rebalance(data, self.arch_params, arch_name=self.arch_name, task=self.task, seed=self.seed,
                             uses_features=features_dir is not None)
        ctx = FitContext(seed=self.seed, checkpoint_dir=checkpoint_dir, artifact_dir=artifact_dir,
                         features_dir=features_dir, season=data.meta.get("season"),
                         class_weight=balanced.class_weight)
        if on_epoch is not None:
            ctx.on_epoch = on_epoch
        trained = arch.fits[self.task.fitted_for(arch)](balanced.data, self.arch_params, ctx)
        return Fitted(trained=trained, balanced=balanced)
