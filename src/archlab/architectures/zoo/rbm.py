"""`rbm`: scikit-learn BernoulliRBM features (pixels scaled to [0, 1]) feeding a logistic regression."""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.common import BalanceParams
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import Integer, Real


class RbmParams(BalanceParams):
    n_components: int = Field(256, ge=1)
    learning_rate: float = Field(0.05, gt=0.0)
    n_iter: int = Field(60, ge=1)
    batch_size: int = Field(32, ge=1)
    C: float = Field(1000.0, gt=0.0)
    max_iter: int = Field(2000, ge=1)
    imputation_steps: int = Field(10, ge=1, description="tables: mean-field steps that fill a missing cell")


def build(params: RbmParams, seed: int):
    """Pipeline: flatten to [0, 1] -> BernoulliRBM hidden-unit probabilities -> logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import BernoulliRBM
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from archlab.architectures.common import flatten_unit

    return make_pipeline(
        FunctionTransformer(flatten_unit),
        BernoulliRBM(n_components=params.n_components, learning_rate=params.learning_rate, n_iter=params.n_iter,
                     batch_size=params.batch_size, random_state=seed),
        LogisticRegression(C=params.C, max_iter=params.max_iter),
    )


def build_tabular(params: RbmParams, seed: int, categories: list[int] | None = None):
    """Pipeline for table rows: scale to [0, 1] -> RBM imputation of missing cells -> logistic regression.

    The RBM's use here is imputation (`RbmImputer`); the evaluate stage scores its fills against the true values.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    from archlab.architectures.rbm_imputer import RbmImputer

    scale = MinMaxScaler(clip=True)
    if categories:  # categorical codes one-hot: already in [0, 1], never missing
        from archlab.architectures.tabular import column_encoder

        scale = column_encoder(categories, scale)
    return make_pipeline(
        scale,
        RbmImputer(n_components=params.n_components, learning_rate=params.learning_rate, n_iter=params.n_iter,
                   batch_size=params.batch_size, steps=params.imputation_steps, random_state=seed),
        LogisticRegression(C=params.C, max_iter=params.max_iter),
    )


def fit(data, params: RbmParams, ctx):
    from archlab.training.sklearn_fit import fit_estimator

    return fit_estimator(build(params, ctx.seed), data, class_weight=ctx.class_weight)


def fit_tabular(data, params: RbmParams, ctx):
    from archlab.architectures.tabular import cardinalities
    from archlab.training.sklearn_fit import fit_estimator

    return fit_estimator(build_tabular(params, ctx.seed, cardinalities(data.meta)), data, class_weight=ctx.class_weight)


register(Architecture(name="rbm", family="energy-based", params=RbmParams,
                      fits=dict(image_classification=fit, tabular_classification=fit_tabular),
                      search={"n_components": Integer(64, 512, log=True), "learning_rate": Real(0.005, 0.1, log=True),
                              "C": Real(1.0, 1e4, log=True)}))
