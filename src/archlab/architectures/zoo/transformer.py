"""`transformer`: a small Vision Transformer: patch embedding, learned positions, self-attention encoder blocks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.forecasting import forecasting_fit
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Choice, Integer, Real
from archlab.architectures.tabular import tabular_fit
from archlab.training.fit import classifier_fit


class TransformerParams(KerasFitParams):
    patch_size: int = Field(2, ge=1)
    embed_dim: int = Field(64, ge=1)
    num_heads: int = Field(4, ge=1)
    num_layers: int = Field(2, ge=1)
    mlp_dim: int = Field(128, ge=1)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    pooling: Literal["cls", "mean"] = "mean"
    optimizer: Literal["adam", "adamw", "sgd"] = "adamw"


def encoder_block(x, num_heads: int, embed_dim: int, mlp_dim: int, dropout: float):
    """Pre-norm block: x + MHA(LN(x), LN(x)), then x + MLP(LN(x)); (N, T, D) -> (N, T, D)."""
    from keras import layers

    h = layers.LayerNormalization(epsilon=1e-6)(x)
    h = layers.MultiHeadAttention(num_heads=num_heads, key_dim=max(1, embed_dim // num_heads), dropout=dropout)(h, h)
    x = layers.Add()([x, h])
    h = layers.LayerNormalization(epsilon=1e-6)(x)
    h = layers.Dense(mlp_dim, activation="gelu")(h)
    h = layers.Dropout(dropout)(h)
    h = layers.Dense(embed_dim)(h)
    return layers.Add()([x, h])


def build(input_shape: tuple[int, ...], n_classes: int, params: TransformerParams):
    """(N, H, W, C) pixels 0..255 -> patches (N, T, D) -> encoder blocks -> class token or mean -> (N, n_classes)."""
    import keras
    from keras import layers

    from archlab.architectures.layers import ClassToken, PositionEmbedding

    height, width = input_shape[0], input_shape[1]
    if params.patch_size > min(height, width):
        from archlab.errors import ParamsError

        raise ParamsError(f"train.transformer.patch_size={params.patch_size} is larger than the images "
                          f"({height}x{width}); use at most {min(height, width)}")
    n_patches = (height // params.patch_size) * (width // params.patch_size)
    inputs = keras.Input(shape=input_shape, name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    # A strided convolution is the linear projection of non-overlapping patches.
    x = layers.Conv2D(params.embed_dim, params.patch_size, strides=params.patch_size, name="patch_embed")(x)
    x = layers.Reshape((n_patches, params.embed_dim))(x)
    if params.pooling == "cls":
        x = ClassToken(name="class_token")(x)
    x = PositionEmbedding(name="position_embedding")(x)
    x = layers.Dropout(params.dropout)(x)
    for _ in range(params.num_layers):
        x = encoder_block(x, params.num_heads, params.embed_dim, params.mlp_dim, params.dropout)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    x = x[:, 0] if params.pooling == "cls" else layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="transformer")


def build_tabular(input_shape: tuple[int, ...], n_classes: int, params: TransformerParams, front=None,
                  categories: list[int] | None = None):
    """FT-Transformer: (N, F) table rows -> standardised -> one token per feature (N, F, D) + class token ->
    encoder blocks -> class token -> (N, n_classes). Tokens carry their feature's identity in their own weights,
    so no position embedding; `patch_size` and `pooling` apply to images only. `categories` (per column its
    category count, 0 for numeric) gives each categorical column's codes their own learned tokens."""
    import keras
    from keras import layers

    from archlab.architectures.layers import ClassToken, FeatureTokens

    inputs = keras.Input(shape=input_shape, name="features")
    x = front(inputs) if front is not None else inputs
    if categories:
        from archlab.architectures.table_layers import CategoryTokens

        x = CategoryTokens(params.embed_dim, categories, name="feature_tokens")(x)
    else:
        x = FeatureTokens(params.embed_dim, name="feature_tokens")(x)
    x = ClassToken(name="class_token")(x)
    x = layers.Dropout(params.dropout)(x)
    for _ in range(params.num_layers):
        x = encoder_block(x, params.num_heads, params.embed_dim, params.mlp_dim, params.dropout)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x[:, 0])
    return keras.Model(inputs, outputs, name="ft_transformer")


def build_sequence(input_shape: tuple[int, ...], horizon: int, params: TransformerParams, front=None, head=None):
    """Forecaster: (N, W, 1) window -> `front` -> one token per time step (Dense to D) + learned positions ->
    encoder blocks -> mean over time -> `head` -> (N, horizon)."""
    import keras
    from keras import layers

    from archlab.architectures.layers import PositionEmbedding

    inputs = keras.Input(shape=input_shape, name="window")
    x = front(inputs) if front is not None else inputs
    x = layers.Dense(params.embed_dim, name="step_embed")(x)
    x = PositionEmbedding(name="position_embedding")(x)
    x = layers.Dropout(params.dropout)(x)
    for _ in range(params.num_layers):
        x = encoder_block(x, params.num_heads, params.embed_dim, params.mlp_dim, params.dropout)
    x = layers.GlobalAveragePooling1D()(layers.LayerNormalization(epsilon=1e-6)(x))
    outputs = head(inputs)(x) if head is not None else layers.Dense(horizon, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="sequence_transformer")


register(Architecture(name="transformer", family="attention", params=TransformerParams,
                      fits=dict(image_classification=classifier_fit(build),
                                tabular_classification=tabular_fit(build_tabular, tokens=True),
                                forecasting=forecasting_fit(build_sequence)),
                      search={**KERAS_FIT, "embed_dim": Choice((32, 64, 128)), "num_heads": Choice((2, 4)),
                              "num_layers": Integer(1, 4), "mlp_dim": Choice((64, 128, 256)),
                              "dropout": Real(0.0, 0.3)}))
