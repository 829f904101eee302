"""Search spaces: each architecture declares, beside its builder, the hyper-parameters tuning may change and their
ranges, so a new architecture brings its own and every one is searched under the same budget.

The dimensions are archlab's own small types, not Ray Tune's or Optuna's, so the zoo imports neither: `to_ray`
turns a space into Ray Tune's domains (which `OptunaSearch` reads as Optuna distributions) when a study starts.
Optuna's categorical choices must be None, bool, int, float or str, so a choice among lists (a CNN's `filters`)
travels as its JSON text and `decode` turns it back into the list.

The training budget is not searchable: `epochs` and `patience` come from `tune.max_epochs` and the study's early
stopping, the same for every architecture.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

BUDGET_KEYS = ("epochs", "patience", "pretrain_epochs", "head_epochs", "n_iter", "max_iter")


@dataclass(frozen=True)
class Real:
    """A float in [low, high], sampled on a log scale when `log`."""

    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Integer:
    """An int in [low, high] (both included), sampled on a log scale when `log`."""

    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class Choice:
    """One of `options` (scalars or lists of scalars)."""

    options: tuple[Any, ...]


Dimension = Real | Integer | Choice
KERAS_FIT = {"learning_rate": Real(1e-4, 1e-2, log=True), "batch_size": Choice((32, 64, 128))}  # every Keras model


def encode(option: Any) -> Any:
    """A choice's option as Optuna takes it: a list as its JSON text (what `decode` turns back), a scalar as is."""
    return json.dumps(option) if isinstance(option, list | tuple) else option


def edge_values(dimension: Dimension) -> list[Any]:
    """The values a check should try: both ends of a range, every option of a choice."""
    if isinstance(dimension, Choice):
        return [list(o) if isinstance(o, tuple) else o for o in dimension.options]
    return [dimension.low, dimension.high]


def to_ray(space: Mapping[str, Dimension]) -> dict[str, Any]:
    """Ray Tune domains for a space (imports Ray)."""
    from ray import tune

    domains = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            domains[name] = tune.choice([encode(o) for o in dim.options])
        elif isinstance(dim, Integer):
            domains[name] = tune.lograndint(dim.low, dim.high + 1) if dim.log else tune.randint(dim.low, dim.high + 1)
        else:
            domains[name] = tune.loguniform(dim.low, dim.high) if dim.log else tune.uniform(dim.low, dim.high)
    return domains


def decode(space: Mapping[str, Dimension], sample: Mapping[str, Any]) -> dict[str, Any]:
    """A sampled config (all or some of the space's keys) as params values: JSON-encoded list choices back to
    lists, numpy scalars to Python."""
    values = {}
    for name, dim in space.items():
        if name not in sample:
            continue
        value = sample[name]
        if isinstance(dim, Choice) and isinstance(value, str) and any(isinstance(o, list | tuple)
                                                                      for o in dim.options):
            value = json.loads(value)
        elif isinstance(dim, Integer):
            value = int(value)
        elif isinstance(dim, Real):
            value = float(value)
        values[name] = value
    return values


def check(name: str, space: Mapping[str, Dimension], params_type, defaults: Mapping[str, Any]) -> list[str]:
    """Problems with an architecture's space: unknown keys, budget keys, empty ranges, or edge values its params
    schema refuses (each merged into `defaults`). An empty list means the space is sound."""
    problems = []
    fields = params_type.model_fields
    for key, dim in space.items():
        where = f"{name}.{key}"
        if key not in fields:
            problems.append(f"{where}: not a field of {params_type.__name__} (fields: {sorted(fields)})")
            continue
        if key in BUDGET_KEYS:
            problems.append(f"{where}: part of the training budget, which tuning keeps equal for all")
        if isinstance(dim, Choice) and not dim.options:
            problems.append(f"{where}: a choice with no options")
        if isinstance(dim, Real | Integer) and (dim.low >= dim.high or (dim.log and dim.low <= 0)):
            problems.append(f"{where}: range [{dim.low}, {dim.high}] is empty or not positive on a log scale")
        for value in edge_values(dim):
            try:
                params_type.model_validate({**defaults, key: value})
            except ValidationError as exc:
                problems.append(f"{where}={value!r}: refused by {params_type.__name__} ({exc.errors()[0]['msg']})")
    return problems
