"""`cross_attention`: a text-to-image generator whose image-patch queries attend to the caption's tokens through
cross-attention (its control, `caption_blind`, is the same generator with every caption blanked).

Training is conditional denoising: the input image is the target blended with uniform noise, (1 - t) x + t u, at
a random level t, half of the samples at t = 1 (pure noise, nothing of the digit left); the target is the clean
image. At t = 1 only the caption says which digit to draw, which is how `generate` uses it. Each block:
patch tokens <- cross-attention(query = patches, key/value = caption tokens), then self-attention among patches,
then an MLP; a Dense layer turns each patch token back into its pixels. The caption passes one self-attention
block of its own before any patch reads it.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Choice, Integer, Real

PURE_NOISE_SHARE = 0.5  # of the training samples at t = 1, where only the caption tells the digit


class CrossAttentionParams(KerasFitParams):
    patch_size: int = Field(2, ge=1)
    embed_dim: int = Field(64, ge=1)
    num_heads: int = Field(4, ge=1)
    num_layers: int = Field(2, ge=1)
    mlp_dim: int = Field(128, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    noise_copies: int = Field(3, ge=1, le=20, description="noisy copies of each training image per epoch set")
    use_caption: bool = Field(True, description="false: every caption blanked (the caption-blind control)")


def build(image_shape: tuple[int, ...], vocabulary_size: int, caption_tokens: int, params: CrossAttentionParams):
    """[tokens (N, T) int, noisy image (N, H, W, C) in [0, 1]] -> image (N, H, W, C) in [0, 1]."""
    import keras
    from keras import layers

    from archlab.architectures.layers import PositionEmbedding
    from archlab.architectures.zoo.transformer import encoder_block

    height, width, channels = image_shape
    p = params.patch_size
    if height % p or width % p:
        from archlab.errors import ParamsError

        raise ParamsError(f"train.<generator>.patch_size={p} must divide the image size {height}x{width}")
    d = params.embed_dim
    tokens = keras.Input(shape=(caption_tokens,), dtype="int32", name="caption")
    noisy = keras.Input(shape=image_shape, name="noisy_image")
    text = PositionEmbedding(name="text_positions")(layers.Embedding(vocabulary_size, d, name="word_embed")(tokens))
    # One self-attention block over the caption first: every token then carries what the caption says ("seven"
    # reaches "a" and "handwritten"), so a patch query finds it wherever it attends. Without it the generator
    # learnt to read the caption in some seeds and not in others.
    text = encoder_block(text, params.num_heads, d, params.mlp_dim, params.dropout)
    x = layers.Conv2D(d, p, strides=p, name="patch_embed")(noisy)
    x = PositionEmbedding(name="patch_positions")(layers.Reshape(((height // p) * (width // p), d))(x))
    key_dim = max(1, d // params.num_heads)
    for i in range(params.num_layers):
        h = layers.MultiHeadAttention(params.num_heads, key_dim, dropout=params.dropout, name=f"cross_attention_{i}")(
            query=layers.LayerNormalization(epsilon=1e-6)(x), value=text, key=text)
        x = layers.Add()([x, h])
        q = layers.LayerNormalization(epsilon=1e-6)(x)
        x = layers.Add()([x, layers.MultiHeadAttention(params.num_heads, key_dim, dropout=params.dropout)(q, q)])
        h = layers.Dense(params.mlp_dim, activation="gelu")(layers.LayerNormalization(epsilon=1e-6)(x))
        x = layers.Add()([x, layers.Dense(d)(h)])
    x = layers.Dense(p * p * channels, activation="sigmoid", dtype="float32")(layers.LayerNormalization()(x))
    x = layers.Reshape((height // p, width // p, p, p, channels))(x)
    x = layers.Permute((1, 3, 2, 4, 5))(x)  # (rows, row in patch, cols, col in patch, C)
    image = layers.Reshape(image_shape, dtype="float32", name="image")(x)
    return keras.Model([tokens, noisy], image, name="cross_attention_generator")


def noisy_copies(images: np.ndarray, copies: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs blended with noise, clean targets, index of the source image) for `copies` noise draws each."""
    rng = np.random.default_rng(seed)
    clean = np.repeat(np.asarray(images, dtype=np.float32) / 255.0, copies, axis=0)
    level = rng.uniform(0.0, 1.0, (len(clean), 1, 1, 1)).astype(np.float32)
    level[rng.random(len(clean)) < PURE_NOISE_SHARE] = 1.0
    noise = rng.uniform(0.0, 1.0, clean.shape).astype(np.float32)
    return (1.0 - level) * clean + level * noise, clean, np.repeat(np.arange(len(images)), copies)


def generate(model, tokens: np.ndarray, image_shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Images in [0, 1] (N, H, W, C) drawn from pure noise for each caption."""
    noise = np.random.default_rng(seed).uniform(0.0, 1.0, (len(tokens), *image_shape)).astype(np.float32)
    return np.asarray(model.predict([np.asarray(tokens, dtype=np.int32), noise], verbose=0))


def fit(data, params: CrossAttentionParams, ctx):
    from archlab.figures import captioned_grid
    from archlab.training.fit import Trained, fit_keras, make_optimizer

    vocabulary, length = data.meta["vocabulary"], data.meta["caption_tokens"]

    def caption_input(tokens):
        return tokens if params.use_caption else np.zeros_like(tokens)  # the control never sees a word

    model = build(data.input_shape, len(vocabulary), length, params)
    model.compile(optimizer=make_optimizer(params), loss="mse", metrics=["mae"], jit_compile=params.jit_compile)
    x_train, y_train, rows = noisy_copies(data.x_train, params.noise_copies, ctx.seed)
    x_val, y_val, val_rows = noisy_copies(data.x_val, 1, ctx.seed + 1)
    history = fit_keras(model, [caption_input(data.text_train)[rows], x_train], y_train,
                        [caption_input(data.text_val)[val_rows], x_val], y_val, params, ctx)
    figures = []
    if ctx.artifact_dir is not None:
        from archlab.tasks.text_to_image.captions import caption, encode

        texts = [caption(name, 1) for name in data.class_names]
        images = generate(model, caption_input(encode(texts, vocabulary, length)), data.input_shape, ctx.seed)
        figures.append(captioned_grid(images * 255.0, texts, ctx.artifact_dir / "generated.png",
                                      "generated from captions", columns=min(10, len(texts))))
    return Trained(model=model, kind="keras", history=history, figures=figures,
                   info={"reads_caption": params.use_caption})


SEARCH = {**KERAS_FIT, "embed_dim": Choice((32, 64, 128)), "num_layers": Integer(1, 4),
          "mlp_dim": Choice((64, 128, 256)), "dropout": Real(0.0, 0.3)}  # caption_blind, its control, shares it
register(Architecture(name="cross_attention", family="generative", params=CrossAttentionParams,
                      fits=dict(text_to_image=fit), search=SEARCH))
