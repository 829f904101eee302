"""`knn`: k nearest neighbours, the reference with no training at all (0.987 ± 0.007 on digits over 10 splits).
Each prediction compares with every training sample, so scoring n samples costs n x train size: above
`max_train_samples` it is skipped. It takes no sample weights: `class_balance: class_weight` is refused."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from archlab.architectures.classical import SIZE_LIMIT_HELP, ReferenceParams, classifier_fits
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import Choice, Integer


class KnnParams(ReferenceParams):
    n_neighbors: int = Field(3, ge=1, description="neighbours that vote")
    weights: Literal["uniform", "distance"] = Field("distance", description="uniform votes, or closer ones count more")
    max_train_samples: int | None = Field(50_000, ge=1, description=SIZE_LIMIT_HELP)

    @model_validator(mode="after")
    def _no_loss_weights(self):
        if self.class_balance == "class_weight":
            raise ValueError("class_balance 'class_weight' weighs a loss, and k-NN has none; use rbm_oversample or "
                             "smote (more samples of the rare classes) or none")
        return self


def make(params: KnnParams, seed: int):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=params.n_neighbors, weights=params.weights)


register(Architecture(name="knn", family="classical", params=KnnParams, fits=classifier_fits(make), reference=True,
                      search={"n_neighbors": Integer(1, 30, log=True), "weights": Choice(("uniform", "distance"))}))
