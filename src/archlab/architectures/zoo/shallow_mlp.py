"""`shallow_mlp`: one hidden Dense layer with ReLU, the shallow network of the curriculum."""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.forecasting import forecasting_fit
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Integer, Real
from archlab.architectures.tabular import tabular_fit
from archlab.training.fit import classifier_fit


class ShallowMlpParams(KerasFitParams):
    hidden_units: int = Field(256, ge=1)
    dropout: float = Field(0.2, ge=0.0, lt=1.0)


def build(input_shape: tuple[int, ...], n_classes: int, params: ShallowMlpParams, front=None, head=None):
    """(N, H, W, C) pixels 0..255, or (N, F) table rows / (N, W, 1) windows with `front` -> (N, n_classes) class
    probabilities (forecasting: `head` -> (N, horizon))."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="pixels" if front is None else "features")
    # images: pixels to [0, 1]; tables and series: `front` standardises the features or rescales the window
    x = layers.Flatten()(front(inputs) if front is not None else layers.Rescaling(1.0 / 255)(inputs))
    x = layers.Dense(params.hidden_units, activation="relu")(x)
    x = layers.Dropout(params.dropout)(x)
    if head is not None:  # forecasting: `n_classes` is the horizon
        return keras.Model(inputs, head(inputs)(x), name="shallow_mlp")
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="shallow_mlp")


register(Architecture(name="shallow_mlp", family="mlp", params=ShallowMlpParams,
                      fits=dict(image_classification=classifier_fit(build),
                                tabular_classification=tabular_fit(build),
                                forecasting=forecasting_fit(build)),
                      search={**KERAS_FIT, "hidden_units": Integer(32, 1024, log=True), "dropout": Real(0.0, 0.5)}))
