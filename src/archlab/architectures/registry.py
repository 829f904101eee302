"""The registry of architectures, chosen by name from `train.architectures`.

Adding an architecture is one new file in `archlab/architectures/zoo/` (a params class, a builder, a `register`
call) plus its block in params.yaml: modules in `zoo/` are discovered, not listed. Zoo modules import Keras only
inside their builders, so reading params never pays for TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from archlab.plugins import Plugins

PLUGINS: Plugins[Architecture] = Plugins(
    "archlab.architectures.zoo", "architecture", packages_only=False,
    unknown=lambda name, known: f"unknown architecture {name!r}; registered: {known}")
REGISTRY = PLUGINS.items


@dataclass(frozen=True)
class Architecture:
    """One trainable architecture.

    Attributes:
        name: the registry key, the DVC stage suffix (`train@<name>`) and the params block (`train.<name>`).
        family: a coarse label for the MLflow UI (`mlp`, `convolutional`, `recurrent`, `attention`, `classical`...).
        params: the pydantic schema of `train.<name>`.
        fits: the `fit` for each task it supports, keyed by task name (`archlab.tasks`): each trains on a
            `TrainingData` with validated params and returns a `Trained`. A task it has no entry for skips it.
        search: what tuning may change in `train.<name>`, and within which ranges
            (`archlab.architectures.search_space`); empty: nothing to tune (the defaults are trained as they are).
        reference: one of the models a practitioner tries first (SVC, k-NN, forests, boosting): trained like
            every entry, marked on the leaderboard and tagged `archlab.reference` in MLflow, so a network's rank
            reads against them.
    """

    name: str
    family: str
    params: type[BaseModel]
    fits: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    search: Mapping[str, Any] = field(default_factory=dict)
    reference: bool = False


def register(architecture: Architecture) -> Architecture:
    """Add an architecture to the registry; a second one with the same name is a programming error."""
    return PLUGINS.register(architecture.name, architecture)


def registry() -> dict[str, Architecture]:
    """All architectures, importing every module of the zoo package once."""
    return PLUGINS.all()


def get(name: str) -> Architecture:
    """The architecture registered under `name` (every zoo module imported: params check each block)."""
    return PLUGINS.get(name, lazy=False)
