"""`autoencoder`: a convolutional (denoising) autoencoder trained to reconstruct, then its frozen encoder's latent
code feeds a small classifier. Logs the reconstruction MSE and a grid of inputs vs reconstructions."""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Integer, Real


class AutoencoderParams(KerasFitParams):
    filters: list[int] = Field([32, 64], min_length=1, description="one stride-2 conv per entry")
    latent_dim: int = Field(32, ge=1)
    denoising: float = Field(0.1, ge=0.0, le=1.0, description="Gaussian noise std on [0, 1] pixels while training")
    pretrain_epochs: int = Field(40, ge=1)
    head_units: int = Field(128, ge=1)
    dropout: float = Field(0.2, ge=0.0, lt=1.0)


def build_autoencoder(input_shape: tuple[int, ...], params: AutoencoderParams):
    """Encoder (N, H, W, C) 0..255 -> (N, latent_dim); autoencoder -> (N, H, W, C) in [0, 1]."""
    import keras
    from keras import layers

    height, width, channels = input_shape
    inputs = keras.Input(shape=input_shape, name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in params.filters:
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    code_shape = tuple(x.shape[1:])
    latent = layers.Dense(params.latent_dim, name="latent")(layers.Flatten()(x))
    encoder = keras.Model(inputs, latent, name="encoder")

    code = keras.Input(shape=(params.latent_dim,), name="latent_in")
    y = layers.Dense(code_shape[0] * code_shape[1] * code_shape[2], activation="relu")(code)
    y = layers.Reshape(code_shape)(y)
    for filters in reversed(params.filters):
        y = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(y)
    # Strided convs round sizes up; crop back to the input size.
    extra_h, extra_w = y.shape[1] - height, y.shape[2] - width
    y = layers.Cropping2D(((0, extra_h), (0, extra_w)))(y)
    y = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", dtype="float32")(y)
    decoder = keras.Model(code, y, name="decoder")

    # Noise only while training (GaussianNoise is the identity at inference). Keras caps its stddev at 1, so it is
    # added on the [0, 1] scale and scaled back to the encoder's 0..255 input.
    noisy = inputs
    if params.denoising:
        noisy = layers.Rescaling(255.0)(layers.GaussianNoise(params.denoising)(layers.Rescaling(1.0 / 255)(inputs)))
    autoencoder = keras.Model(inputs, decoder(encoder(noisy)), name="autoencoder")
    return encoder, autoencoder


def build_classifier(encoder, n_classes: int, params: AutoencoderParams):
    """Frozen encoder -> Dense head -> (N, n_classes)."""
    import keras
    from keras import layers

    encoder.trainable = False
    inputs = keras.Input(shape=encoder.input_shape[1:], name="pixels")
    x = encoder(inputs, training=False)
    x = layers.Dense(params.head_units, activation="relu")(x)
    x = layers.Dropout(params.dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="autoencoder_classifier")


def fit(data, params: AutoencoderParams, ctx):
    import numpy as np

    from archlab.figures import image_grid
    from archlab.training.fit import Trained, compile_classifier, fit_keras, make_optimizer

    encoder, autoencoder = build_autoencoder(data.input_shape, params)
    autoencoder.compile(optimizer=make_optimizer(params), loss="mse", jit_compile=params.jit_compile)
    target_train = data.x_train.astype("float32") / 255.0
    target_val = data.x_val.astype("float32") / 255.0
    pretrain = fit_keras(autoencoder, data.x_train, target_train, data.x_val, target_val,
                         params.model_copy(update={"epochs": params.pretrain_epochs}), ctx, phase="pretrain")
    reconstructed = autoencoder.predict(data.x_val, verbose=0)
    mse = float(np.mean((reconstructed - target_val) ** 2))
    figures = []
    if ctx.artifact_dir is not None:
        figures.append(image_grid([data.x_val[:10], reconstructed[:10]], ["input", "reconstruction"],
                                  ctx.artifact_dir / "reconstructions.png",
                                  title=f"autoencoder, val reconstruction MSE {mse:.4f}"))
    classifier = build_classifier(encoder, data.n_classes, params)
    compile_classifier(classifier, params)
    head = fit_keras(classifier, data.x_train, data.y_train, data.x_val, data.y_val, params, ctx, phase="classifier",
                     epoch_offset=len(pretrain))
    return Trained(model=classifier, kind="keras", history=pretrain + head,
                   metrics={"val_reconstruction_mse": mse}, figures=figures, companions={"autoencoder": autoencoder})


register(Architecture(name="autoencoder", family="autoencoder", params=AutoencoderParams,
                      fits=dict(image_classification=fit),
                      search={**KERAS_FIT, "latent_dim": Integer(8, 128, log=True), "denoising": Real(0.0, 0.3),
                              "head_units": Integer(32, 256, log=True), "dropout": Real(0.0, 0.5)}))
