"""Layers for table rows with categorical columns, registered so saved `.keras` models reload (safe mode too).

A categorical column arrives as codes (0 the unknown slot, 1..K the train split's categories; see
`archlab.tasks.tabular_classification.tables.encode_categories`). Dense networks read it one-hot; the
FT-Transformer gives each category its own learned token, the way it gives each numeric feature one.
"""

from __future__ import annotations

import keras
from keras import layers, ops


def _codes(x, j: int, cardinality: int):
    """Column j's codes as integers in [0, cardinality] (anything else is the unknown slot 0)."""
    codes = ops.cast(ops.nan_to_num(x[:, j], nan=0.0), "int32")
    return ops.where((codes < 0) | (codes > cardinality), ops.zeros_like(codes), codes)


@keras.saving.register_keras_serializable(package="archlab")
class OneHotColumns(layers.Layer):
    """(N, F) standardised rows -> numeric columns as they are, each categorical column one-hot over its K + 1
    slots, concatenated in column order: (N, F - C + sum(K + 1))."""

    def __init__(self, cardinalities: list[int], **kwargs):
        super().__init__(**kwargs)
        self.cardinalities = [int(k) for k in cardinalities]  # 0: a numeric column

    def call(self, x):
        parts = []
        for j, k in enumerate(self.cardinalities):
            if k == 0:
                parts.append(x[:, j:j + 1])
            else:
                parts.append(ops.cast(ops.one_hot(_codes(x, j, k), k + 1), x.dtype))
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], sum(1 if k == 0 else k + 1 for k in self.cardinalities))

    def get_config(self):
        return {**super().get_config(), "cardinalities": self.cardinalities}


@keras.saving.register_keras_serializable(package="archlab")
class CategoryTokens(layers.Layer):
    """FT-Transformer tokens for mixed rows: numeric feature j's value v -> v * W_j + b_j (as `FeatureTokens`),
    categorical column j's code c -> its own learned embedding E_j[c]; (N, F) -> (N, F, D)."""

    def __init__(self, embed_dim: int, cardinalities: list[int], **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.cardinalities = [int(k) for k in cardinalities]

    def build(self, input_shape):
        shape = (len(self.cardinalities), self.embed_dim)
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.weight = self.add_weight(shape=shape, initializer=init, name="weight")
        self.bias = self.add_weight(shape=shape, initializer="zeros", name="bias")
        self.tables = [self.add_weight(shape=(k + 1, self.embed_dim), initializer=init, name=f"categories_{j}")
                       for j, k in enumerate(self.cardinalities) if k > 0]

    def call(self, x):
        tokens, tables = [], iter(self.tables)
        for j, k in enumerate(self.cardinalities):
            if k == 0:
                tokens.append(x[:, j:j + 1] * ops.cast(self.weight[j], x.dtype) + ops.cast(self.bias[j], x.dtype))
            else:
                tokens.append(ops.cast(ops.take(next(tables), _codes(x, j, k), axis=0), x.dtype))
        return ops.stack(tokens, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.cardinalities), self.embed_dim)

    def get_config(self):
        return {**super().get_config(), "embed_dim": self.embed_dim, "cardinalities": self.cardinalities}
