"""Imbalanced classes: `train.<arch>.class_balance` rebalances the training split, and only it.

- `class_weight`: no new samples; each class's loss is weighted by n_samples / (n_classes x its count), the
  "balanced" rule of scikit-learn (Keras `class_weight`, scikit-learn `sample_weight`).
- `smote`: imbalanced-learn's SMOTE, the well-known anchor: new samples on the segments between a minority sample
  and one of its nearest neighbours of the same class.
- `rbm_oversample`: the course's claim that RBMs handle imbalanced classes, as a generator. A BernoulliRBM is fitted
  to each minority class's training samples (scaled to [0, 1]); each synthetic sample starts from one of the class's
  real samples and runs `rbm_gibbs_steps` steps of block Gibbs sampling (hidden units drawn, then visible units),
  ending with the visible units' probabilities (mean field) rather than a last binary draw, so pixels keep grey
  levels.

Both oversamplers grow every class below `balance_ratio` x the largest class's count up to that count. Validation
and test samples are never touched: the caller hands over the training split only, and early stopping and every
score stay on the natural data.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import numpy as np

from archlab.errors import DataError, ParamsError

log = logging.getLogger(__name__)
OVERSAMPLERS = ("rbm_oversample", "smote")


@dataclass
class Rebalanced:
    """The training data an architecture fits on, and what was done to it.

    Attributes:
        data: the TrainingData with its train split replaced (the same object when nothing was resampled).
        class_weight: per class index its loss weight (`class_weight` only).
        synthetic: per class index the number of samples the oversampler added.
        samples: the synthetic samples themselves (for the figure), in class order.
    """

    data: object
    method: str
    class_weight: dict[int, float] | None = None
    synthetic: dict[int, int] = dataclasses.field(default_factory=dict)
    samples: np.ndarray | None = None
    sample_labels: np.ndarray | None = None

    def record(self, class_names: list[str]) -> dict:
        """What info.json and MLflow keep: the method, and the synthetic count per class name."""
        out = {"method": self.method, "n_train": int(len(self.data.y_train))}
        if self.synthetic:
            out["synthetic_per_class"] = {class_names[c]: n for c, n in self.synthetic.items()}
        if self.class_weight:
            out["class_weight"] = {class_names[c]: round(w, 6) for c, w in self.class_weight.items()}
        return out


def balanced_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """n_samples / (n_classes_present x count) per class present in `y`."""
    counts = np.bincount(y, minlength=n_classes)
    present = np.flatnonzero(counts)
    return {int(c): float(len(y) / (len(present) * counts[c])) for c in present}


def targets(y: np.ndarray, n_classes: int, ratio: float) -> dict[int, int]:
    """Per class below `ratio` x the largest count, the count it should reach (ceil); classes already there are
    left out."""
    counts = np.bincount(y, minlength=n_classes)
    goal = math.ceil(ratio * counts.max())
    return {int(c): goal for c in range(n_classes) if 0 < counts[c] < goal}


class UnitScale:
    """Per feature min-max scaling to [0, 1] fitted on the training split, and back.

    Images (uint8) use the fixed 0..255 range, so a pixel never lit in training can still be drawn; back on the
    original scale, image samples are rounded to uint8 and table columns that only hold whole numbers in training
    (categories, counts) are rounded too.
    """

    def __init__(self, x: np.ndarray):
        self.shape, self.dtype = x.shape[1:], x.dtype
        flat = x.reshape(len(x), -1).astype(np.float64)
        if x.dtype == np.uint8:
            self.low, self.span = np.zeros(flat.shape[1]), np.full(flat.shape[1], 255.0)
            self.whole = np.ones(flat.shape[1], dtype=bool)
        else:
            self.low = np.nanmin(flat, axis=0)
            self.span = np.nanmax(flat, axis=0) - self.low
            self.whole = np.all(np.isnan(flat) | (flat == np.round(flat)), axis=0)
        self.span = np.where(self.span > 0, self.span, 1.0)

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x.reshape(len(x), -1).astype(np.float64) - self.low) / self.span, 0.0, 1.0)

    def back(self, unit: np.ndarray) -> np.ndarray:
        values = self.low + np.clip(unit, 0.0, 1.0) * self.span
        values = np.where(self.whole, np.round(values), values)
        if self.dtype == np.uint8:
            values = np.clip(values, 0, 255)
        return values.astype(self.dtype).reshape((len(unit), *self.shape))


def _complete_rows(unit: np.ndarray) -> np.ndarray:
    """Rows with no missing cell: the only ones an oversampler may start from (table rows may have NaN)."""
    return ~np.isnan(unit).any(axis=1)


def smote(unit: np.ndarray, y: np.ndarray, needed: dict[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """SMOTE's synthetic rows (unit scale) and their labels: `needed[c]` new rows of each class c."""
    from imblearn.over_sampling import SMOTE

    counts = np.bincount(y, minlength=max(needed) + 1)
    smallest = min(int(counts[c]) for c in needed)
    if smallest < 2:
        raise DataError(f"class_balance smote needs at least 2 training samples of each class it grows; one class "
                        f"has {smallest}")
    strategy = {c: int(counts[c]) + n for c, n in needed.items()}  # imbalanced-learn wants the counts after
    sampler = SMOTE(sampling_strategy=strategy, k_neighbors=min(5, smallest - 1), random_state=seed)
    x_out, y_out = sampler.fit_resample(unit, y)
    return x_out[len(unit):], y_out[len(unit):]  # imbalanced-learn appends the new rows after the originals


def rbm_samples(unit: np.ndarray, count: int, *, components: int, epochs: int, gibbs_steps: int, seed: int,
                learning_rate: float = 0.05) -> np.ndarray:
    """`count` samples (unit scale) from a BernoulliRBM fitted to one class's rows `unit`."""
    from scipy.special import expit
    from sklearn.neural_network import BernoulliRBM

    rbm = BernoulliRBM(n_components=components, learning_rate=learning_rate, batch_size=min(10, len(unit)),
                       n_iter=epochs, random_state=seed).fit(unit)
    rng = np.random.default_rng(seed)
    visible = unit[rng.integers(len(unit), size=count)]
    probabilities = visible
    for _ in range(gibbs_steps):
        hidden = (rng.random((count, components)) < rbm.transform(visible)).astype(np.float64)
        probabilities = expit(hidden @ rbm.components_ + rbm.intercept_visible_)
        visible = (rng.random(probabilities.shape) < probabilities).astype(np.float64)
    return probabilities


def oversample(x: np.ndarray, y: np.ndarray, n_classes: int, method: str, *, ratio: float, seed: int,
               components: int = 128, epochs: int = 500, gibbs_steps: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic samples (original scale and dtype) and labels that bring each small class to its goal."""
    counts = np.bincount(y, minlength=n_classes)
    needed = {c: goal - int(counts[c]) for c, goal in targets(y, n_classes, ratio).items()}
    if not needed:
        return x[:0], y[:0]
    scale = UnitScale(x)
    unit = scale.to_unit(x)
    complete = _complete_rows(unit)
    unit, y_seed = unit[complete], y[complete]
    missing = [c for c in needed if not (y_seed == c).any()]
    if missing:
        raise DataError(f"class_balance {method}: classes {missing} have no training sample without missing cells "
                        "to start from")
    if method == "smote":
        new, labels = smote(unit, y_seed, needed, seed)
    else:
        new = np.concatenate([rbm_samples(unit[y_seed == c], n, components=components, epochs=epochs,
                                          gibbs_steps=gibbs_steps, seed=seed + c) for c, n in needed.items()])
        labels = np.concatenate([np.full(n, c) for c, n in needed.items()])
    return scale.back(new), labels.astype(y.dtype)


def rebalance(data, arch_params, *, arch_name: str, task, seed: int, uses_features: bool) -> Rebalanced:
    """Apply `arch_params.class_balance` to `data`'s training split (val and test are never touched).

    Raises:
        ParamsError: a method other than `none` for a task without classes to balance, or an oversampler for a
            feature head (it trains on cached embeddings of the real training images, not on `data`).
    """
    method = getattr(arch_params, "class_balance", "none")
    if method == "none":
        return Rebalanced(data=data, method=method)
    key = f"train.{arch_name}.class_balance"
    if not getattr(task, "class_balance", False):
        raise ParamsError(f"{key}: {method!r} applies to image and table classification; task {task.name!r} has no "
                          "classes to balance (use none)")
    if uses_features and method in OVERSAMPLERS:
        raise ParamsError(f"{key}: {method!r} cannot apply to {arch_name}: it trains on the featurize stage's cached "
                          "embeddings of the real training images; use class_weight")
    if method == "class_weight":
        weights = balanced_weights(data.y_train, data.n_classes)
        log.info("%s: class weights %s", arch_name, {data.class_names[c]: round(w, 3) for c, w in weights.items()})
        return Rebalanced(data=data, method=method, class_weight=weights)
    new_x, new_y = oversample(data.x_train, data.y_train, data.n_classes, method, ratio=arch_params.balance_ratio,
                              seed=seed, components=arch_params.rbm_components, epochs=arch_params.rbm_epochs,
                              gibbs_steps=arch_params.rbm_gibbs_steps)
    synthetic = {int(c): int(n) for c, n in zip(*np.unique(new_y, return_counts=True), strict=True)}
    log.info("%s: %s added %s training samples", arch_name, method,
             {data.class_names[c]: n for c, n in synthetic.items()} or "no")
    grown = dataclasses.replace(data, x_train=np.concatenate([np.asarray(data.x_train), new_x]),
                                y_train=np.concatenate([data.y_train, new_y]))
    return Rebalanced(data=grown, method=method, synthetic=synthetic, samples=new_x, sample_labels=new_y)


def sample_figure(rebalanced: Rebalanced, class_names: list[str], path, per_class: int = 10):
    """A PNG grid of synthetic images, one row per class that got any (image data only); None otherwise."""
    samples = rebalanced.samples
    if samples is None or len(samples) == 0 or samples.ndim != 4:
        return None
    from archlab.figures import image_grid

    rows = [samples[rebalanced.sample_labels == c][:per_class] for c in rebalanced.synthetic]
    titles = [f"{class_names[c]} (+{n})" for c, n in rebalanced.synthetic.items()]
    return image_grid(rows, titles, path, title=f"{rebalanced.method}: synthetic training images")
