"""`deep_mlp`: three or more hidden Dense layers, each with batch norm, ReLU and dropout."""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.forecasting import forecasting_fit
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Choice, Real
from archlab.architectures.tabular import tabular_fit
from archlab.training.fit import classifier_fit


class DeepMlpParams(KerasFitParams):
    hidden_units: list[int] = Field([512, 256, 128], min_length=3, description="one entry per hidden layer (3+)")
    dropout: float = Field(0.3, ge=0.0, lt=1.0)


def build(input_shape: tuple[int, ...], n_classes: int, params: DeepMlpParams, front=None, head=None):
    """(N, H, W, C) pixels 0..255, or (N, F) table rows / (N, W, 1) windows with `front` -> (N, n_classes)
    (forecasting: `head` -> (N, horizon)); Dense -> BatchNorm -> ReLU -> Dropout per hidden layer."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="pixels" if front is None else "features")
    # images: pixels to [0, 1]; tables and series: `front` standardises the features or rescales the window
    x = layers.Flatten()(front(inputs) if front is not None else layers.Rescaling(1.0 / 255)(inputs))
    for units in params.hidden_units:
        x = layers.Dense(units, use_bias=False)(x)  # batch norm's shift makes the bias redundant
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Dropout(params.dropout)(x)
    if head is not None:  # forecasting: `n_classes` is the horizon
        return keras.Model(inputs, head(inputs)(x), name="deep_mlp")
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="deep_mlp")


register(Architecture(name="deep_mlp", family="mlp", params=DeepMlpParams,
                      fits=dict(image_classification=classifier_fit(build),
                                tabular_classification=tabular_fit(build),
                                forecasting=forecasting_fit(build)),
                      search={**KERAS_FIT, "hidden_units": Choice(([256, 128, 64], [512, 256, 128], [256, 256, 256],
                                                                  [1024, 512, 256], [512, 256, 128, 64])),
                              "dropout": Real(0.0, 0.5)}))
