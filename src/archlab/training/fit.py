"""The one training loop every Keras architecture shares, and what every `fit` returns."""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archlab.architectures.common import KerasFitParams
from archlab.interrupts import deferred
from archlab.training.data import TrainingData

log = logging.getLogger(__name__)
HISTORY_FILE = "history.jsonl"
BACKUP_SHARE_INVERSE = 4  # wait at least this many times the last backup's write time before the next one


@dataclass
class FitContext:
    """What the stage hands to an architecture's `fit`.

    Attributes:
        seed: `project.seed`.
        checkpoint_dir: per-epoch backups (BackupAndRestore) and the epoch history; survives a killed stage so a
            re-run resumes, deleted after success. Keyed by params and data, so a changed config starts fresh.
        on_epoch: called with (phase, epoch, metrics) after each epoch (MLflow logging).
        artifact_dir: folder for figures the architecture produces (PNG grids).
        features_dir: cached backbone embeddings (data/features/<backbone>), for feature heads.
    """

    seed: int
    checkpoint_dir: Path
    on_epoch: Callable[[str, int, dict[str, float]], None] = lambda phase, epoch, metrics: None
    artifact_dir: Path | None = None
    features_dir: Path | None = None  # a featurize stage's output, for heads trained on cached embeddings
    season: int | None = None  # forecasting: steps per season of the series (ingest.season)
    class_weight: dict[int, float] | None = None  # class_balance: class_weight; phases fitting class labels use it


@dataclass
class Trained:
    """A trained model and its record: per-epoch history, extra final metrics, figures, companion models."""

    model: Any
    kind: str  # "keras" or "sklearn"
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    companions: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # extra MLflow tags (e.g. where pretrained weights came from)
    info: dict[str, Any] = field(default_factory=dict)  # extra entries of the model's info.json


def prepare_device(arch_params, seed: int) -> dict[str, str]:
    """Seed and set up the device for one architecture's training: Keras (precision policy) for a Keras
    architecture, only Python and NumPy for a classical one (which must not pay TensorFlow's import).

    Returns:
        `archlab.device`'s description (backend, device, precision).
    """
    from archlab import device

    if isinstance(arch_params, KerasFitParams):
        return device.prepare(seed, mixed_precision=arch_params.mixed_precision)
    return device.prepare_classical(seed)


def make_optimizer(params: KerasFitParams, learning_rate: float | None = None):
    import keras

    lr = learning_rate if learning_rate is not None else params.learning_rate
    return {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
            "sgd": lambda learning_rate: keras.optimizers.SGD(learning_rate, momentum=0.9)}[params.optimizer](
        learning_rate=lr)


def compile_classifier(model, params: KerasFitParams, learning_rate: float | None = None) -> None:
    """Sparse categorical cross-entropy on softmax outputs, accuracy, the optimizer and XLA choice from params."""
    model.compile(optimizer=make_optimizer(params, learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=params.jit_compile)


def _read_history(path: Path) -> list[dict[str, float]]:
    """Epoch rows in order; an epoch recorded twice (killed after recording, before its backup) keeps the last."""
    if not path.is_file():
        return []
    rows = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["epoch"]] = row
    return [rows[epoch] for epoch in sorted(rows)]


def _epoch_recorder(path: Path, phase: str, offset: int, on_epoch):
    """A callback that appends each epoch to history.jsonl (so a resumed run keeps earlier epochs) and reports it.

    On a resume, the epochs recorded before the kill are reported again once Keras has restored its backup (the
    first `on_epoch_begin`), and only those the backup covers: an epoch recorded after its backup was lost is
    dropped and will be re-run, so no epoch is reported twice.
    """
    import keras

    def report(row):
        on_epoch(phase, row["epoch"], {k: v for k, v in row.items() if k not in ("phase", "epoch")})

    class EpochRecorder(keras.callbacks.Callback):
        replayed = False

        def _replay(self, completed: int | None) -> None:
            rows = [row for row in _read_history(path) if completed is None or row["epoch"] <= offset + completed]
            path.write_text("".join(json.dumps(row) + "\n" for row in rows))
            for row in rows:
                report(row)
            self.replayed = True

        def on_epoch_begin(self, epoch, logs=None):
            if not self.replayed:
                self._replay(completed=epoch)

        def on_epoch_end(self, epoch, logs=None):
            row = {"phase": phase, "epoch": offset + epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
            with path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            report(row)

        def on_train_end(self, logs=None):
            if not self.replayed:  # the backup already covered every epoch
                self._replay(completed=None)

    return EpochRecorder()


def _stop_when_asked_callback():
    import keras

    from archlab.interrupts import raise_if_stopped

    class StopWhenAsked(keras.callbacks.Callback):
        """Raise a SIGTERM/Ctrl-C recorded during `fit` at the next batch (see archlab.interrupts)."""

        def on_train_batch_end(self, batch, logs=None):
            raise_if_stopped()

        def on_test_batch_end(self, batch, logs=None):
            raise_if_stopped()

        def on_epoch_end(self, epoch, logs=None):
            raise_if_stopped()

    return StopWhenAsked()


def _throttled_backup(backup_dir: Path, every_s: float):
    """Keras' BackupAndRestore, written at most every `every_s` seconds and once more when the phase ends.

    A backup of a small model costs about as much as one of its epochs on digits (bench: the cnn's training span
    was 1.26x a bare script's, nearly all of it per-epoch backups), so short epochs are backed up by time, not
    every epoch. A big model's backup is slow in itself (finetune's VGG16: ~60 MB, seconds a write), so the wait
    also grows to BACKUP_SHARE_INVERSE times the last write: backups take at most about a fifth of the training
    time. `every_s` 0 means every epoch, exactly. The backup at the end of the phase lets a multi-phase fit killed
    in a later phase skip this one. double_checkpoint keeps the previous backup: a kill while writing leaves one
    readable copy.
    """
    import keras

    class ThrottledBackup(keras.callbacks.BackupAndRestore):
        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            self._saved_at, self._unsaved, self._cost = time.monotonic(), False, 0.0

        def _timed_save(self, save):
            started = time.monotonic()
            save()
            self._saved_at, self._unsaved = time.monotonic(), False
            self._cost = self._saved_at - started

        def on_epoch_end(self, epoch, logs=None):
            wait = every_s and max(every_s, BACKUP_SHARE_INVERSE * self._cost)
            if time.monotonic() - self._saved_at >= wait:
                self._timed_save(lambda: super(ThrottledBackup, self).on_epoch_end(epoch, logs))
            else:
                self._current_epoch, self._last_batch_seen, self._unsaved = epoch + 1, 0, True

        def on_train_end(self, logs=None):
            if self._unsaved:
                self._save_model()
            super().on_train_end(logs)

    return ThrottledBackup(backup_dir=str(backup_dir), delete_checkpoint=False, double_checkpoint=True)


def fit_keras(model, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
              params: KerasFitParams, ctx: FitContext, *, phase: str = "train", epoch_offset: int = 0,
              monitor: str = "val_loss") -> list[dict[str, float]]:
    """Fit a compiled model with early stopping (best weights restored), NaN guard and resumable checkpoints.

    Returns:
        The history of this phase, one dict per epoch, including epochs run before a resume.
    """
    import keras

    phase_dir = ctx.checkpoint_dir / phase
    phase_dir.mkdir(parents=True, exist_ok=True)
    history_path = phase_dir / HISTORY_FILE
    resumed = _read_history(history_path)
    if resumed:
        log.info("resuming %s from epoch %d (checkpoint %s)", phase, len(resumed), phase_dir)
    backup_dir = phase_dir / "backup"

    def callbacks():
        return [
            # The recorder runs before the backup: a kill between the two re-runs one epoch, it loses no row.
            _epoch_recorder(history_path, phase, epoch_offset, ctx.on_epoch),
            _throttled_backup(backup_dir, params.checkpoint_every_s),
            keras.callbacks.EarlyStopping(monitor=monitor, patience=params.patience, restore_best_weights=True),
            keras.callbacks.TerminateOnNaN(),
            _stop_when_asked_callback(),
        ]

    # Class weights belong to phases whose targets are class labels, not to an autoencoder's reconstruction.
    labels = isinstance(y_train, np.ndarray) and y_train.ndim == 1 and np.issubdtype(y_train.dtype, np.integer)
    class_weight = ctx.class_weight if labels else None

    def run_fit():
        with deferred():  # a stop is raised at a batch boundary, never inside TensorFlow (archlab.interrupts)
            model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=params.epochs,
                      batch_size=params.batch_size, callbacks=callbacks(), shuffle=True, class_weight=class_weight,
                      verbose=1 if sys.stderr.isatty() else 2)

    try:
        run_fit()
    except (OSError, json.JSONDecodeError) as exc:
        if not backup_dir.exists():
            raise
        # Killed while writing the very first backup (weights or their epoch record half written): nothing
        # readable to resume from, so start the phase over.
        log.warning("%s: checkpoint in %s is unreadable (%s); starting this phase from scratch", phase, backup_dir, exc)
        shutil.rmtree(phase_dir)
        phase_dir.mkdir(parents=True)
        run_fit()
    history = _read_history(history_path)
    if any(not np.isfinite(row.get("loss", 0.0)) for row in history):
        from archlab.errors import ArchlabError

        raise ArchlabError(f"{phase}: loss became NaN/inf; lower learning_rate (was {params.learning_rate})")
    return history


def fit_classifier(model, data: TrainingData, params: KerasFitParams, ctx: FitContext) -> Trained:
    """The standard path: compile as a classifier and fit on train, early-stopping on val."""
    compile_classifier(model, params)
    history = fit_keras(model, data.x_train, data.y_train, data.x_val, data.y_val, params, ctx)
    return Trained(model=model, kind="keras", history=history)


def classifier_fit(build: Callable[..., Any]) -> Callable[..., Trained]:
    """The `fit` of an architecture that is just a builder `build(input_shape, n_classes, params) -> keras.Model`."""

    def fit(data: TrainingData, params: KerasFitParams, ctx: FitContext) -> Trained:
        return fit_classifier(build(data.input_shape, data.n_classes, params), data, params, ctx)

    return fit
