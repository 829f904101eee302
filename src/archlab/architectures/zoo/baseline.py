"""`baseline`: logistic regression on flattened pixels, the bar every network must clear."""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.common import BalanceParams
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import Real


class BaselineParams(BalanceParams):
    C: float = Field(1.0, gt=0.0, description="inverse L2 regularisation strength")
    max_iter: int = Field(2000, ge=1)


def build(params: BaselineParams):
    """Pipeline: flatten and scale pixels to [0, 1], then multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from archlab.architectures.common import flatten_unit

    return make_pipeline(FunctionTransformer(flatten_unit), LogisticRegression(C=params.C, max_iter=params.max_iter))


def build_tabular(params: BaselineParams, categories: list[int] | None = None):
    """Pipeline for table rows: missing cells to the train mean, standardise, logistic regression; categorical
    columns (`categories`: per column its category count) one-hot."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifier = LogisticRegression(C=params.C, max_iter=params.max_iter)
    if not categories:
        return make_pipeline(SimpleImputer(strategy="mean"), StandardScaler(), classifier)
    from archlab.architectures.tabular import column_encoder

    numeric = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler())
    return make_pipeline(column_encoder(categories, numeric), classifier)


def build_forecaster(params: BaselineParams):
    """Ridge regression from the flattened window to the horizon (L2 strength 1/C): the linear autoregression."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from archlab.architectures.forecasting import flatten_window

    return make_pipeline(FunctionTransformer(flatten_window), Ridge(alpha=1.0 / params.C))


def fit_forecaster(data, params: BaselineParams, ctx):
    from archlab.training.sklearn_fit import fit_forecaster as fit_windows

    return fit_windows(build_forecaster(params), data)


def fit(data, params: BaselineParams, ctx):
    from archlab.training.sklearn_fit import fit_estimator

    return fit_estimator(build(params), data, class_weight=ctx.class_weight)


def fit_tabular(data, params: BaselineParams, ctx):
    from archlab.architectures.tabular import cardinalities
    from archlab.training.sklearn_fit import fit_estimator

    return fit_estimator(build_tabular(params, cardinalities(data.meta)), data, class_weight=ctx.class_weight)


register(Architecture(name="baseline", family="classical", params=BaselineParams,
                      fits=dict(image_classification=fit, tabular_classification=fit_tabular,
                                forecasting=fit_forecaster),
                      search={"C": Real(1e-3, 1e3, log=True)}))
