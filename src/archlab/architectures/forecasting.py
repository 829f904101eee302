"""What the forecasting task's models share: windows made relative to their last value, a linear head that
forecasts `horizon` steps, the regression fit, and the windows flattened for scikit-learn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def step_scale(x_train: np.ndarray) -> float:
    """Typical size of one step's change in the training windows: the unit networks see the series in."""
    diffs = np.diff(np.asarray(x_train, dtype=np.float64)[..., 0], axis=1)
    scale = float(np.std(diffs))
    return scale if scale > 0 else 1.0


def series_front(scale: float) -> Callable[[Any], Any]:
    from archlab.architectures.layers import RelativeToLast

    return lambda inputs: RelativeToLast(scale, name="relative_to_last")(inputs)


def forecast_head(horizon: int, scale: float, inputs) -> Callable[[Any], Any]:
    """features -> Dense(horizon) relative forecast -> back to the series' units, from the window's last value."""
    from keras import layers

    from archlab.architectures.layers import FromLast

    return lambda x: FromLast(scale, dtype="float32", name="forecast")(
        [layers.Dense(horizon, dtype="float32", name="relative_forecast")(x), inputs])


def flatten_window(windows: np.ndarray) -> np.ndarray:
    """(N, W, 1) windows -> (N, W), for the scikit-learn forecasters."""
    windows = np.asarray(windows, dtype=np.float64)
    return windows.reshape(len(windows), -1)


def forecasting_fit(build: Callable[..., Any]) -> Callable[..., Any]:
    """The forecasting `fit` of a builder `build(input_shape, n_outputs, params, front=..., head=...)`.

    The builder gets `head=lambda inputs: (lambda x: ...)`: the head needs the window itself, which only the builder
    holds, to put the forecast back on the series' level.
    """

    def fit(data, params, ctx):
        from archlab.training.fit import Trained, fit_keras, make_optimizer

        scale = step_scale(data.x_train)
        horizon = data.y_train.shape[1]
        model = build(data.input_shape, horizon, params, front=series_front(scale),
                      head=lambda inputs: forecast_head(horizon, scale, inputs))
        model.compile(optimizer=make_optimizer(params), loss="mse", metrics=["mae"], jit_compile=params.jit_compile)
        history = fit_keras(model, data.x_train, data.y_train, data.x_val, data.y_val, params, ctx)
        return Trained(model=model, kind="keras", history=history)

    return fit
