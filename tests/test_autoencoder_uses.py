"""The autoencoder's uses besides classification: denoising measured by PSNR, and the 2-D latent projection."""

from __future__ import annotations

import numpy as np
import pytest

from archlab.evaluation.autoencoder_uses import denoise, latent_projection, psnr


def test_psnr_known_values():
    clean = np.zeros((4, 4))
    assert psnr(clean, clean + 0.1) == pytest.approx(20.0)
    assert psnr(clean, clean + 0.01) == pytest.approx(40.0)
    assert psnr(clean, clean) == float("inf")


@pytest.fixture(scope="module")
def denoiser(digits_session_dataset):
    """A small denoising autoencoder trained for a few seconds on the digits train split."""
    import keras

    from archlab.architectures.zoo.autoencoder import AutoencoderParams, build_autoencoder
    from archlab.data.store import read_dataset

    keras.utils.set_random_seed(0)
    dataset = read_dataset(digits_session_dataset)
    x_train, _, _ = dataset.split("train")
    x_test, y_test, _ = dataset.split("test")
    params = AutoencoderParams(filters=[32, 64], latent_dim=32, denoising=0.2)
    _, autoencoder = build_autoencoder(x_train.shape[1:], params)
    autoencoder.compile(optimizer="adam", loss="mse")
    autoencoder.fit(x_train, x_train.astype("float32") / 255.0, epochs=40, batch_size=64, verbose=0)
    return autoencoder, x_test, y_test


@pytest.mark.slow  # the `denoiser` fixture trains the autoencoder
def test_the_trained_autoencoder_removes_noise(denoiser):
    autoencoder, x_test, _ = denoiser
    scores, noisy, denoised = denoise(autoencoder, x_test, noise_std=0.2, seed=1)
    assert noisy.shape == denoised.shape == (len(x_test), 8, 8, 1)
    assert 0.0 <= noisy.min() and noisy.max() <= 1.0
    assert scores["psnr_noisy_db"] == pytest.approx(psnr(x_test / 255.0, noisy))
    assert scores["psnr_denoised_db"] > scores["psnr_noisy_db"] + 1.5  # measured: 16.2 -> 18.9 dB


@pytest.mark.slow  # the `denoiser` fixture trains the autoencoder
def test_latent_projection_is_two_dimensional_and_separates_classes(denoiser):
    autoencoder, x_test, y_test = denoiser
    points, kept = latent_projection(autoencoder, x_test)
    assert points.shape == (len(x_test), 2) and 0.0 < kept <= 1.0
    centres = np.array([points[y_test == k].mean(axis=0) for k in range(10)])
    spread = np.mean([points[y_test == k].std(axis=0).mean() for k in range(10)])
    distances = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(10, 1)]
    assert np.median(distances) > spread  # classes sit apart in the projection, not in one blob
