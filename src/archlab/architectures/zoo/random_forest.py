"""`random_forest`: bagged decision trees, a reference for tables above all (0.980 on digits over 10 splits)."""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.classical import ReferenceParams, classifier_fits
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import Integer, Real


class RandomForestParams(ReferenceParams):
    n_estimators: int = Field(300, ge=1, description="trees")
    max_depth: int | None = Field(None, ge=1, description="null: grow each tree until its leaves are pure")
    max_features: float = Field(0.2, gt=0.0, le=1.0, description="share of the features each split may look at")
    min_samples_leaf: int = Field(1, ge=1)


def make(params: RandomForestParams, seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=params.n_estimators, max_depth=params.max_depth,
                                  max_features=params.max_features, min_samples_leaf=params.min_samples_leaf,
                                  random_state=seed)


register(Architecture(name="random_forest", family="classical", params=RandomForestParams,
                      fits=classifier_fits(make), reference=True,
                      search={"n_estimators": Integer(100, 1000, log=True), "max_features": Real(0.05, 0.6, log=True),
                              "min_samples_leaf": Integer(1, 8)}))
