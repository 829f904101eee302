"""Custom layers that hold state (weights), registered so saved `.keras` models reload, safe mode included."""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="archlab")
class ClassToken(layers.Layer):
    """Prepends one learned token to a sequence: (N, T, D) -> (N, T + 1, D)."""

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros", name="token")

    def call(self, x):
        token = ops.broadcast_to(ops.cast(self.token, x.dtype), (ops.shape(x)[0], 1, ops.shape(x)[-1]))
        return ops.concatenate([token, x], axis=1)

    def compute_output_shape(self, input_shape):
        length = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], length, input_shape[2])


@keras.saving.register_keras_serializable(package="archlab")
class PositionEmbedding(layers.Layer):
    """Adds a learned embedding per position: (N, T, D) -> (N, T, D)."""

    def build(self, input_shape):
        self.positions = self.add_weight(shape=(1, input_shape[1], input_shape[2]),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02), name="positions")

    def call(self, x):
        return x + ops.cast(self.positions, x.dtype)
