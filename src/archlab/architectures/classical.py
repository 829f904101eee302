"""What every classical (scikit-learn) zoo entry shares: how its estimator meets each task's inputs, and the
training-set size above which a reference is skipped.

Images are flattened to [0, 1]; table rows get missing cells filled with the train mean, standardised, categorical
codes one-hot; forecast windows are flattened, one estimator per horizon step where the estimator predicts one
value. A zoo file brings only its estimator (`make(params, seed)`) and its search space.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

from archlab.architectures.common import BalanceParams

SIZE_LIMIT_HELP = ("skip this model (the leaderboard says why) above this many training samples; null: never "
                   "skip")


class ReferenceParams(BalanceParams):
    """A reference model's block: its own knobs plus the size above which it is not trained."""

    max_train_samples: int | None = Field(None, ge=1, description=SIZE_LIMIT_HELP)


def size_skip_reason(name: str, arch_params: Any, n_train: int) -> str | None:
    """Why a reference is not trained on `n_train` samples (its `max_train_samples` is lower), or None."""
    limit = getattr(arch_params, "max_train_samples", None)
    if limit is None or n_train <= limit:
        return None
    return (f"{n_train} training samples exceed train.{name}.max_train_samples ({limit}); its cost grows "
            f"faster than the data (raise the limit to train it anyway)")


def pixels(estimator):
    """Pixels flattened and scaled to [0, 1], then `estimator`."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from archlab.architectures.common import flatten_unit

    return make_pipeline(FunctionTransformer(flatten_unit), estimator)


def rows(estimator, categories: list[int] | None = None):
    """Table rows: missing cells to the train mean and standardised, categorical codes (`categories`: per column
    its category count, 0 for numeric) one-hot, then `estimator`."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    numeric = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler())
    if not categories:
        return make_pipeline(numeric, estimator)
    from archlab.architectures.tabular import column_encoder

    return make_pipeline(column_encoder(categories, numeric), estimator)


def windows(regressor, *, multi_output: bool):
    """Forecast windows flattened, then `regressor` for the whole horizon (one copy per step unless it predicts
    several outputs itself), on values relative to each window's last one (`FromLastValue`)."""
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from archlab.architectures.forecasting import flatten_window
    from archlab.architectures.from_last_value import FromLastValue

    return make_pipeline(FunctionTransformer(flatten_window),
                         FromLastValue(regressor if multi_output else MultiOutputRegressor(regressor)))


def classifier_fits(make: Callable[[Any, int], Any]) -> dict[str, Callable[..., Any]]:
    """The image and table `fits` of a classifier `make(params, seed) -> estimator`."""

    def fit_images(data, params, ctx):
        from archlab.training.sklearn_fit import fit_estimator

        return fit_estimator(pixels(make(params, ctx.seed)), data, class_weight=ctx.class_weight)

    def fit_rows(data, params, ctx):
        from archlab.architectures.tabular import cardinalities
        from archlab.training.sklearn_fit import fit_estimator

        return fit_estimator(rows(make(params, ctx.seed), cardinalities(data.meta)), data,
                             class_weight=ctx.class_weight)

    return dict(image_classification=fit_images, tabular_classification=fit_rows)
