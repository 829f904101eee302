"""Evaluate for image classification: the classification evaluation plus each model's misclassified test images
and, when an autoencoder was trained, its reconstructions, denoising and latent space."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from archlab import modelio
from archlab.evaluation.autoencoder_uses import denoise, latent_projection
from archlab.tasks.classification_evaluate import ClassificationEvaluation

log = logging.getLogger(__name__)


class ImageEvaluation(ClassificationEvaluation):
    """Classification evaluation with the image figures."""

    def extra_figures(self, figures, results, probas, x_test, y_test, class_names, models_dir: Path,
                      figures_dir: Path, params) -> None:
        from archlab.figures import captioned_grid

        for name in results:
            predicted = probas[name].argmax(axis=1)
            wrong = np.flatnonzero(predicted != y_test)[: params.evaluate.misclassified_per_model]
            figures[name]["misclassified"] = captioned_grid(
                x_test[wrong], [f"{class_names[y_test[i]]} -> {class_names[predicted[i]]}" for i in wrong],
                figures_dir / f"misclassified_{name}.png", f"{name}: misclassified")
        ae = models_dir / "autoencoder" / "autoencoder.keras"
        if "autoencoder" in results and ae.is_file():
            figures[""].update(autoencoder_figures(modelio.load(ae), results["autoencoder"], x_test, y_test,
                                                   class_names, figures_dir, params))


def autoencoder_figures(autoencoder, result: dict, x_test, y_test, class_names, figures_dir: Path,
                        params) -> dict[str, Path]:
    """Reconstructions, denoising (PSNR into `result["denoising"]`) and the 2-D latent projection."""
    from archlab.figures import class_scatter, image_grid

    reconstructed = autoencoder.predict(x_test[:12].astype(np.float32), verbose=0)
    scores, noisy, denoised = denoise(autoencoder, x_test, params.evaluate.denoising_noise_std, params.project.seed)
    points, kept = latent_projection(autoencoder, x_test)
    result["denoising"] = scores | {"latent_pca_variance_kept": kept}
    log.info("autoencoder: PSNR %.2f dB noisy -> %.2f dB denoised (noise std %.2f); 2-D PCA keeps %.0f%% of the "
             "latent variance", scores["psnr_noisy_db"], scores["psnr_denoised_db"], scores["noise_std"], 100 * kept)
    return {
        "autoencoder reconstructions": image_grid([x_test[:12], reconstructed], ["test input", "reconstruction"],
                                                  figures_dir / "reconstructions.png",
                                                  title="autoencoder on test images"),
        "autoencoder denoising": image_grid(
            [x_test[:12], noisy[:12], denoised[:12]], ["clean", "noisy", "denoised"], figures_dir / "denoising.png",
            title=f"denoising: PSNR {scores['psnr_noisy_db']:.1f} dB noisy, {scores['psnr_denoised_db']:.1f} dB "
                  f"denoised"),
        "autoencoder latent space": class_scatter(
            points, y_test, class_names, figures_dir / "autoencoder_latent.png", xlabel="PC 1", ylabel="PC 2",
            title=f"autoencoder latent codes of the test images (PCA, {100 * kept:.0f}% of variance)"),
    }


def evaluate(task, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path,
             paths) -> dict[str, dict]:
    return ImageEvaluation(task).evaluate(params, dataset, names, skipped, models_dir=models_dir, paths=paths)
