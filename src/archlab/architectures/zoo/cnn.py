"""`cnn`: blocks of Conv2D + ReLU + max pooling, then dense layers."""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Choice, Integer, Real
from archlab.training.fit import classifier_fit


class CnnParams(KerasFitParams):
    filters: list[int] = Field([32, 64], min_length=1, description="one conv block per entry")
    convs_per_block: int = Field(2, ge=1)
    kernel_size: int = Field(3, ge=1)
    dense_units: int = Field(128, ge=1)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)


def build(input_shape: tuple[int, ...], n_classes: int, params: CnnParams):
    """(N, H, W, C) pixels 0..255 -> (N, n_classes). A block pools only while the feature map is 2+ pixels wide,
    so the same params serve 8x8 digits and 224x224 photos."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    size = min(input_shape[0], input_shape[1])
    for filters in params.filters:
        for _ in range(params.convs_per_block):
            # No batch norm: with ~20 steps per epoch on small data its moving statistics lag far behind the
            # weights, val loss looks bad and early stopping ends training too soon.
            x = layers.Conv2D(filters, params.kernel_size, padding="same", activation="relu")(x)
        if size >= 4:
            x = layers.MaxPooling2D(2)(x)
            size //= 2
    x = layers.Flatten()(x)
    x = layers.Dropout(params.dropout)(x)
    x = layers.Dense(params.dense_units, activation="relu")(x)
    x = layers.Dropout(params.dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


register(Architecture(name="cnn", family="convolutional", params=CnnParams,
                      fits=dict(image_classification=classifier_fit(build)),
                      search={**KERAS_FIT, "filters": Choice(([16, 32], [32, 64], [64, 128], [32, 64, 128])),
                              "convs_per_block": Integer(1, 2), "dense_units": Integer(32, 256, log=True),
                              "dropout": Real(0.0, 0.5)}))
