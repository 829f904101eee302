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


@keras.saving.register_keras_serializable(package="archlab")
class Standardize(layers.Layer):
    """Table features to z-scores with the train split's mean and std; a missing (NaN) cell becomes 0, the mean.

    The statistics are fixed at build time and saved with the model, so a served model takes raw table rows.
    """

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean = [float(v) for v in mean]
        self.std = [float(v) if v > 0 else 1.0 for v in std]

    def call(self, x):
        mean = ops.convert_to_tensor(self.mean, dtype=x.dtype)
        std = ops.convert_to_tensor(self.std, dtype=x.dtype)
        z = (x - mean) / std
        return ops.where(ops.isnan(z), ops.zeros_like(z), z)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std}


@keras.saving.register_keras_serializable(package="archlab")
class FeatureTokens(layers.Layer):
    """FT-Transformer's feature tokenizer: feature j's value v becomes the token v * W_j + b_j; (N, F) -> (N, F, D)."""

    def __init__(self, embed_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = embed_dim

    def build(self, input_shape):
        shape = (input_shape[-1], self.embed_dim)
        self.weight = self.add_weight(shape=shape, initializer=keras.initializers.RandomNormal(stddev=0.02),
                                      name="weight")
        self.bias = self.add_weight(shape=shape, initializer="zeros", name="bias")

    def call(self, x):
        return ops.expand_dims(x, -1) * ops.cast(self.weight, x.dtype) + ops.cast(self.bias, x.dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.embed_dim)

    def get_config(self):
        return {**super().get_config(), "embed_dim": self.embed_dim}


@keras.saving.register_keras_serializable(package="archlab")
class RelativeToLast(layers.Layer):
    """A series window relative to its last value, in units of `scale`: (N, W, 1) -> (N, W, 1).

    Networks then learn the shape of what comes next, not the level: a trending series (co2) keeps rising past any
    level seen in training, and a z-score with the training mean would push test windows out of range.
    """

    def __init__(self, scale: float, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, x):
        return (x - x[:, -1:, :]) / self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="archlab")
class FromLast(layers.Layer):
    """The inverse of `RelativeToLast` for the forecast: [(N, H) relative forecast, (N, W, 1) window] -> (N, H)."""

    def __init__(self, scale: float, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        relative, window = inputs
        return relative * self.scale + window[:, -1, :]

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}
