"""The autoencoder's two uses besides classification, measured on the test split: denoising and a 2-D view of
its latent space.

Denoising: Gaussian noise (std on the [0, 1] pixel scale) is added to the test images and the autoencoder
reconstructs them; the report gives the PSNR of the noisy and of the denoised images against the clean ones.
Projection: the encoder's latent codes reduced to two dimensions by PCA, one point per test image, coloured by class.
"""

from __future__ import annotations

import numpy as np


def psnr(clean: np.ndarray, other: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of `other` against `clean`, both on the [0, 1] scale."""
    mse = float(np.mean((np.asarray(clean, np.float64) - np.asarray(other, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(1.0 / mse))


def denoise(autoencoder, images: np.ndarray, noise_std: float, seed: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """Noisy copies of uint8 `images` and the autoencoder's reconstructions of them, with both PSNRs.

    Returns:
        ({"psnr_noisy_db", "psnr_denoised_db", "noise_std"}, noisy in [0, 1], denoised in [0, 1]).
    """
    clean = np.asarray(images, dtype=np.float32) / 255.0
    noise = np.random.default_rng(seed).normal(0.0, noise_std, clean.shape).astype(np.float32)
    noisy = np.clip(clean + noise, 0.0, 1.0)
    denoised = np.asarray(autoencoder.predict(noisy * 255.0, verbose=0), dtype=np.float32)  # input scale 0..255
    scores = {"psnr_noisy_db": psnr(clean, noisy), "psnr_denoised_db": psnr(clean, denoised),
              "noise_std": float(noise_std)}
    return scores, noisy, denoised


def latent_projection(autoencoder, images: np.ndarray) -> tuple[np.ndarray, float]:
    """The encoder's codes of `images` projected on their first two principal components, and the share of the
    codes' variance those two keep."""
    from sklearn.decomposition import PCA

    encoder = autoencoder.get_layer("encoder")
    codes = np.asarray(encoder.predict(np.asarray(images, dtype=np.float32), verbose=0))
    pca = PCA(n_components=2, random_state=0).fit(codes)
    return pca.transform(codes), float(pca.explained_variance_ratio_.sum())
