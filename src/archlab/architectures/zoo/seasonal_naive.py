"""`seasonal_naive`: forecasting's floor. Each future step repeats the value one season earlier (forecasting only).

MASE divides every model's error by this forecast's in-sample error, so a MASE under 1 means better than it.
"""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.registry import Architecture, register
from archlab.params import Strict


class SeasonalNaiveParams(Strict):
    season: int | None = Field(None, ge=1, description="steps per season; null: ingest.season (from the data)")


def fit(data, params: SeasonalNaiveParams, ctx):
    from archlab.architectures.seasonal_naive_model import SeasonalNaive
    from archlab.training.sklearn_fit import fit_forecaster

    season = params.season or ctx.season
    return fit_forecaster(SeasonalNaive(season=season, horizon=data.y_train.shape[1]), data)


register(Architecture(name="seasonal_naive", family="classical", params=SeasonalNaiveParams,
                      fits=dict(forecasting=fit)))


def __getattr__(name: str):
    """`SeasonalNaive` lives in `archlab.architectures.seasonal_naive_model`; models saved before the move name it
    here, and skops finds it through this."""
    if name == "SeasonalNaive":
        from archlab.architectures.seasonal_naive_model import SeasonalNaive

        return SeasonalNaive
    raise AttributeError(name)
