"""`svc`: a support-vector classifier with an RBF kernel, the reference small images and tables are measured
against (0.990 ± 0.006 on digits over 10 splits). Probabilities (Platt scaling) give it a log-loss like every
other model. Its cost grows with the square of the training set: above `max_train_samples` it is skipped."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from archlab.architectures.classical import SIZE_LIMIT_HELP, ReferenceParams, classifier_fits
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import Real


class SvcParams(ReferenceParams):
    C: float = Field(10.0, gt=0.0, description="penalty on margin violations (inverse regularisation)")
    gamma: Annotated[float, Field(gt=0.0)] | Literal["scale", "auto"] = Field(
        "scale", description="RBF width: a positive number, or scale (1 / (features x variance)) | auto")
    max_train_samples: int | None = Field(20_000, ge=1, description=SIZE_LIMIT_HELP)


def make(params: SvcParams, seed: int):
    """The SVC with Platt-scaled probabilities, fitted on 5-fold out-of-fold scores (scikit-learn 1.9's
    replacement for `SVC(probability=True)`); the SVC itself is then fitted on the whole training split."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    return CalibratedClassifierCV(SVC(kernel="rbf", C=params.C, gamma=params.gamma, random_state=seed),
                                  method="sigmoid", ensemble=False)


register(Architecture(name="svc", family="classical", params=SvcParams, fits=classifier_fits(make), reference=True,
                      search={"C": Real(0.1, 1e3, log=True), "gamma": Real(1e-4, 1.0, log=True)}))
