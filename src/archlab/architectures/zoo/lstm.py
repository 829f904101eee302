"""`lstm`: LSTM layers over the image rows.

The LSTM keeps Keras' cuDNN-compatible defaults (tanh/sigmoid, no recurrent dropout, unroll off, use_bias) so a
GPU takes the fused kernel; regularisation is ordinary dropout between layers instead of recurrent dropout.
"""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.forecasting import forecasting_fit
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Choice, Real
from archlab.training.fit import classifier_fit


class LstmParams(KerasFitParams):
    units: list[int] = Field([128, 64], min_length=1, description="one LSTM layer per entry")
    dropout: float = Field(0.2, ge=0.0, lt=1.0, description="between layers, not recurrent (keeps cuDNN)")
    learning_rate: float = Field(2e-3, gt=0.0, le=1.0)


def build(input_shape: tuple[int, ...], n_classes: int, params: LstmParams, front=None, head=None):
    """(N, H, W, C) -> rows (N, H, W*C) -> stacked LSTM -> (N, n_classes)."""
    import keras
    from keras import layers

    from archlab.architectures.rows import rows_as_sequence

    inputs = keras.Input(shape=input_shape, name="pixels" if front is None else "window")
    # images: one time step per row; series (forecasting): `front` rescales the (N, W, 1) window
    x = rows_as_sequence(inputs, input_shape) if front is None else front(inputs)
    for i, units in enumerate(params.units):
        x = layers.LSTM(units, return_sequences=i < len(params.units) - 1)(x)
        x = layers.Dropout(params.dropout)(x)
    if head is not None:  # forecasting: `n_classes` is the horizon
        return keras.Model(inputs, head(inputs)(x), name="lstm")
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="lstm")


register(Architecture(name="lstm", family="recurrent", params=LstmParams,
                      fits=dict(image_classification=classifier_fit(build), forecasting=forecasting_fit(build)),
                      search={**KERAS_FIT, "units": Choice(([64], [128], [128, 64], [256, 128])),
                              "dropout": Real(0.0, 0.5)}))
