"""What a task is: the one protocol every task module under `archlab/tasks/` implements.

A task is everything that differs between "classify images", "classify table rows", "forecast a series" and
"draw an image from a caption": its sources, its metrics (each with its direction), its ingest adapter and
validation suite, its evaluation, how the registry re-scores a version, its pyfunc signature, and how `predict`
and `serve` read inputs and write outputs. Stages, the CLI and the registry ask the task object; no code outside
`archlab/tasks/` compares a task's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from archlab.params import Params
    from archlab.training.data import TrainingData


@dataclass(frozen=True)
class Metric:
    """A test metric and its direction: the only place a direction is written.

    The leaderboard order, evaluate's best model, register's challenger and the promotion rule all read
    `higher_is_better` from here.
    """

    name: str
    higher_is_better: bool
    label: str = ""

    def sort_key(self, value: float) -> float:
        """Ascending sort key: the best value sorts first."""
        return -value if self.higher_is_better else value

    def improvement(self, challenger: float, champion: float) -> float:
        """How much better the challenger is: positive when better."""
        return challenger - champion if self.higher_is_better else champion - challenger


@dataclass(frozen=True)
class Column:
    """One column of `archlab leaderboard`: the metrics-file key, its header, and a format spec."""

    key: str
    header: str
    fmt: str = ".4f"


@dataclass(frozen=True)
class Scorer:
    """How the registry re-scores a version: the inputs its pyfunc gets and a function of its output frame."""

    inputs: Any
    score: Callable[[pd.DataFrame, Metric], float]


@dataclass(frozen=True)
class EvaluationPaths:
    """Every output the evaluate stage writes, as dvc.yaml declares them."""

    metrics: Path
    plots: Path
    leaderboard: Path
    html: Path
    figures: Path
    claims: Path | None = None  # reports/claims.md
    learning_curve: Path | None = None  # the learning_curve stage's metrics/learning_curve.json (an input)
    cv: Path | None = None  # metrics/cv/, the cv@ stages' fold scores (an input; empty while compare is off)
    tuned: Path | None = None  # tuned/, the tune@ stages' choices and trials (an input: the tuning budget curve)


class Task:
    """Base of every task. Subclasses set the class attributes and implement the methods that raise here.

    What only one stage does lives in the task's parts, not here (`archlab.tasks.part`): `ingest.ingest`,
    `validate.validate`, `evaluate.evaluate` and `register.scorer`, each called with the task as first argument.

    Attributes:
        name: the value of `task:` in params.yaml and the key of `fits` in the zoo files.
        inputs: what a sample is, in words (skip reasons and errors quote it).
        sources: the `ingest.source` values this task reads.
        metrics: its test metrics; the first is the default `register.metric`.
        val_metric: the validation score its own fits report each epoch (`val_accuracy`, `val_mae`), with its
            direction: train@ records the best one as `best_<name>`.
        sample_noun: what a test sample is called in reports ("test images").
        borrows: another task whose architectures also train in this one (text-to-image trains image
            classifiers as the judges of its generated images).
        uses_features: whether featurize and the feature heads apply (image inputs).
        drift_gate: whether `archlab retrain` can measure drift of its data.
        seed_repeats: whether its evaluation scores every seed of `train.seeds` (mean, spread, median model).
        class_balance: whether `train.<arch>.class_balance` applies (classifiers trained on labelled samples).
        cross_validation: why `compare.folds` is refused for this task, or None where its `cv_folding` and
            `score_fold` apply (repeated stratified k-fold for labelled samples, rolling origin for series).
        cv_folding: which folds `archlab.compare.folds.task_folds` cuts for it: "stratified" (repeated stratified
            k-fold) or "rolling_origin" (a series' windows in time order). A name, not a function, so that the
            module every stage imports does not pull the folding code into every stage's deps.
        cv_design: how its folds are cut, in words (the leaderboard's method note).
    """

    name: ClassVar[str]
    inputs: ClassVar[str]
    sources: ClassVar[tuple[str, ...]]
    metrics: ClassVar[tuple[Metric, ...]]
    val_metric: ClassVar[Metric]
    sample_noun: ClassVar[str] = "test samples"
    borrows: ClassVar[str | None] = None
    uses_features: ClassVar[bool] = False
    drift_gate: ClassVar[bool] = False
    seed_repeats: ClassVar[bool] = False
    class_balance: ClassVar[bool] = False
    cross_validation: ClassVar[str | None] = "it has no labelled samples to fold"
    cv_folding: ClassVar[str] = ""
    cv_design: ClassVar[str] = ""

    def _not_implemented(self, method: str) -> NotImplementedError:
        """What a task that skipped a required method raises: which task, which method (a programming error)."""
        return NotImplementedError(f"task {self.name!r} ({type(self).__name__}) does not implement Task.{method}; "
                                   "every task must (see archlab/tasks/base.py)")

    # -- params -------------------------------------------------------------------------------------------------
    def metric(self, name: str | None) -> Metric:
        """The metric called `name` (None: the task's default), or a ValueError naming the allowed ones."""
        if name is None:
            return self.metrics[0]
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise ValueError(f"metric {name!r} does not fit task {self.name!r}; allowed: {[m.name for m in self.metrics]}")

    def param_errors(self, params: Params) -> list[str]:
        """Task-specific problems of a params file, one message each (beyond its source and metric)."""
        errors = []
        if not self.uses_features and (params.featurize.backbones or params.train.feature_heads):
            errors.append(f"featurize.backbones and train.feature_heads are for images; task {self.name} needs "
                          "featurize: {backbones: []} and train: {feature_heads: []}")
        if len(params.train.seeds) > 1 and not self.seed_repeats:
            errors.append(f"train.seeds: task {self.name} scores one model per architecture, so seed repeats "
                          f"({params.train.seeds}) would train models nobody evaluates; use train.seeds: [] "
                          "(seed project.seed) or one seed")
        return errors

    # -- cross-validation (cv@<arch>) -----------------------------------------------------------------------------
    @property
    def cv_metric(self) -> Metric:
        """What each fold is scored by, and the verdicts decided on: the task's first metric."""
        return self.metrics[0]

    def score_fold(self, model, x: np.ndarray, y: np.ndarray) -> dict:
        """A fold's held-out rows scored: `score` (by `cv_metric`), any other scores, and `predicted` (one
        JSON value per row: the out-of-fold predictions)."""
        raise self._not_implemented("score_fold")

    # -- architectures ------------------------------------------------------------------------------------------
    def fitted_for(self, architecture) -> str | None:
        """Which of the architecture's `fits` keys trains it in this task (its own, else the borrowed task's)."""
        for key in (self.name, self.borrows):
            if key is not None and key in architecture.fits:
                return key
        return None

    def skip_reason(self, architecture) -> str | None:
        """Why `architecture` cannot train on this task, or None when it can."""
        if self.fitted_for(architecture) is not None:
            return None
        supported = ", ".join(architecture.fits) or "no task"
        return (f"{architecture.name} is built for {supported}; task {self.name} gives {self.inputs}, "
                "which it has no builder for")

    # -- what train, serve and predict read ----------------------------------------------------------------------
    def training_profile(self, data: TrainingData) -> dict | None:
        """What a later retrain's drift gate compares new data with (None: the task has no drift gate)."""
        return None

    def model_info(self, data: TrainingData, fitted_for: str, seed: int) -> dict:
        """Task entries of a model's info.json, beyond the shared ones (`fitted_for`: the `fits` key it trained by)."""
        return {}

    def pyfunc_example(self, data: TrainingData, info: dict):
        """The input example logged with the pyfunc model (two validation samples, as serving receives them)."""
        raise self._not_implemented("pyfunc_example")

    def output_frame(self, model, samples, info: dict) -> pd.DataFrame:
        """What `predict` and `serve` answer for `samples` (the pyfunc's own predict calls this)."""
        raise self._not_implemented("output_frame")

    # -- the command line ---------------------------------------------------------------------------------------
    def describe(self, meta: dict) -> str:
        """The ingested dataset in a few words, for `archlab summary`."""
        return f"{meta['count']} {meta['source']} samples"

    def leaderboard_columns(self) -> list[Column]:
        """Columns of `archlab leaderboard` (after rank and architecture)."""
        return [Column(m.name, m.label or m.name) for m in self.metrics]

    def leaderboard_entries(self, evaluation: dict) -> dict[str, dict]:
        """The entries of metrics/evaluate.json that rank on the leaderboard (each holds the default metric)."""
        key = self.metrics[0].name
        return {name: entry for name, entry in evaluation.items() if isinstance(entry, dict) and key in entry}

    def read_inputs(self, paths: list[Path], info: dict) -> tuple[Any, list[str]]:
        """`archlab predict`'s input files, read as the model takes them; returns samples and one name each."""
        raise self._not_implemented("read_inputs")

    def render_predictions(self, frame: pd.DataFrame) -> list[str]:
        """Plain-text lines of `archlab predict` (one per input)."""
        return [f"{row['input']}\t" + "\t".join(f"{k} {v}" for k, v in row.items() if k != "input")
                for row in frame.to_dict("records")]


def numeric_samples(samples) -> np.ndarray:
    """A pyfunc input (frame or array) as a float array."""
    import numpy as np
    import pandas as pd

    return np.asarray(samples.to_numpy() if isinstance(samples, pd.DataFrame) else samples)
