"""What the image tasks share (image classification, and text-to-image's real images and judges): streaming
ingest of any image source, the image expectation suite, the data profile the retrain drift gate compares,
image files as `predict` inputs, and the misclassified and autoencoder figures."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archlab.data import store
from archlab.errors import ArchlabError, DataError
from archlab.tasks.classification import ClassificationTask

if TYPE_CHECKING:  # pandas is imported where it is used: every stage imports this module when it reads params
    import pandas as pd

log = logging.getLogger(__name__)
IMAGE_SOURCES = ("digits", "image_dir", "npz", "keras")


@dataclass
class Streamed:
    rows: int
    labels: list[int]
    ids: list[str]
    refs: list[str]
    hashes: list[str]


def stream_images(source, folder: Path) -> Streamed:
    """Write every accepted image into `folder/images.npy` as it is decoded (bounded memory)."""
    raw_path = folder / "images.raw.npy"
    images = None
    out = Streamed(0, [], [], [], [])
    for chunk in source.chunks:
        if images is None:
            images = store.allocated_memmap(raw_path, np.uint8, (source.candidates, *chunk.images.shape[1:]))
        k = len(chunk.images)
        images[out.rows:out.rows + k] = chunk.images
        out.rows += k
        out.labels.extend(int(v) for v in chunk.labels)
        out.ids.extend(chunk.ids)
        out.refs.extend(chunk.refs)
        out.hashes.extend(store.content_hash(img) for img in chunk.images)
    if images is None:
        raise DataError(f"{source.name}: no readable samples at all ({len(source.rejected)} rejected); "
                        "see reports/ingest_rejected.csv")
    images.flush()
    del images
    if out.rows < source.candidates:
        store.compact_images(raw_path, folder / store.IMAGES, out.rows)
    else:
        raw_path.rename(folder / store.IMAGES)
    return out


def check_outcome(streamed: Streamed, rejected: list, class_names: list[str], params, rejected_csv: Path) -> None:
    total = streamed.rows + len(rejected)
    fraction = len(rejected) / total
    limit = params.ingest.max_rejected_fraction
    if fraction > limit:
        raise DataError(f"{len(rejected)} of {total} samples rejected ({fraction:.1%}), above "
                        f"ingest.max_rejected_fraction={limit}; the list is in {rejected_csv}")
    present = sorted(set(streamed.labels))
    if len(present) < 2:
        raise DataError(f"only {len(present)} class has readable samples ({[class_names[i] for i in present]}); "
                        "classification needs at least 2")


def read_image_inputs(paths: list[Path], input_shape: list[int]) -> tuple[np.ndarray, list[str]]:
    """Stack images from files (decoded and resized like ingest does) and .npy arrays into (N, H, W, C) floats."""
    from archlab.data.decode import IMAGE_EXTENSIONS, Unreadable, decode_file

    if len(input_shape) != 3:
        raise ArchlabError(f"this model takes arrays of shape (N, {', '.join(map(str, input_shape))}), not images; "
                           "predict with its model folder (it holds info.json, which names the task)")
    height, width, channels = input_shape
    color_mode = "grayscale" if channels == 1 else "rgb"
    arrays, names = [], []
    for path in paths:
        if not path.is_file():
            raise ArchlabError(f"{path}: input file not found")
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
            array = array[..., None] if array.ndim == 3 else array
            if array.ndim != 4 or tuple(array.shape[1:]) != (height, width, channels):
                raise ArchlabError(f"{path}: expected an array of shape (N, {height}, {width}, {channels}), "
                                   f"got {array.shape}")
            arrays.append(np.asarray(array, dtype=np.float32))
            names.extend(f"{path}[{i}]" for i in range(len(array)))
        elif path.suffix.lower() in IMAGE_EXTENSIONS:
            try:
                arrays.append(decode_file(path, (height, width), color_mode)[None].astype(np.float32))
            except Unreadable as exc:
                raise ArchlabError(f"{path}: {exc}") from None
            names.append(str(path))
        else:
            raise ArchlabError(f"{path}: expected an image ({', '.join(sorted(IMAGE_EXTENSIONS))}) or an .npy file")
    return np.concatenate(arrays), names


class ImagesTask(ClassificationTask):
    """Labelled images (N, H, W, C), pixels 0..255."""

    inputs = "images (N, H, W, C)"
    sources = IMAGE_SOURCES
    sample_noun = "test images"
    uses_features = True
    drift_gate = True

    def describe(self, meta: dict) -> str:
        return (f"{meta['count']} {meta['source']} images {'x'.join(map(str, meta['image_shape']))}, "
                f"{meta['n_classes']} classes")

    def extend_dataset(self, folder: Path, manifest: pd.DataFrame, class_names: list[str], params) -> dict:
        """Hook: more files and manifest columns of the dataset (text-to-image's captions); returns meta entries."""
        return {}

    def ingest(self, params, out_dir: Path, rejected_csv: Path) -> dict:
        import pandas as pd

        from archlab.data.adapters import open_source
        from archlab.data.splits import SPLITS, assign_splits, imbalance_keep
        from archlab.ingest import dataset_hash, write_rejected

        source = open_source(params.ingest)
        with store.building(out_dir) as tmp:
            streamed = stream_images(source, tmp)
            write_rejected(Path(rejected_csv), source.rejected)
            check_outcome(streamed, source.rejected, source.class_names, params, rejected_csv)
            labels = np.asarray(streamed.labels, dtype=np.int64)
            manifest = pd.DataFrame({
                "id": streamed.ids, "row": np.arange(streamed.rows), "label": labels,
                "class_name": [source.class_names[i] for i in labels], "source_ref": streamed.refs,
                "content_hash": streamed.hashes,
            })
            manifest.insert(2, "split", assign_splits(labels, streamed.hashes, params.ingest.split,
                                                      params.project.seed))
            keep = imbalance_keep(labels, manifest["split"].to_numpy(), streamed.hashes, source.class_names,
                                  params.ingest.imbalance, params.project.seed)
            if not keep.all():  # ingest.imbalance: the cut training samples leave the dataset altogether
                store.compact_images(tmp / store.IMAGES, tmp / "images.kept.npy", np.flatnonzero(keep))
                (tmp / "images.kept.npy").rename(tmp / store.IMAGES)
                manifest, labels = manifest[keep].reset_index(drop=True), labels[keep]
                manifest["row"] = np.arange(len(manifest))
                log.info("ingest.imbalance: %d training samples of classes %s left out (keep %g)", int((~keep).sum()),
                         params.ingest.imbalance.classes, params.ingest.imbalance.keep)
            np.save(tmp / store.LABELS, labels)
            extra = self.extend_dataset(tmp, manifest, source.class_names, params)
            manifest.to_csv(tmp / store.MANIFEST, index=False)
            shape = list(np.load(tmp / store.IMAGES, mmap_mode="r").shape[1:])
            meta = {
                "task": self.name, "source": source.name, "class_names": source.class_names,
                "n_classes": len(source.class_names), "image_shape": shape, "count": len(manifest),
                "rejected": len(source.rejected),
                "split_counts": {s: int((manifest["split"] == s).sum()) for s in SPLITS},
                "seed": params.project.seed, "dataset_hash": dataset_hash(manifest), **extra,
            }
            if params.ingest.imbalance is not None:
                meta["imbalance"] = params.ingest.imbalance.model_dump() | {"left_out": int((~keep).sum())}
            store.write_meta(tmp, meta)
        log.info("ingested %d samples of %d classes from %s, shape %s, splits %s", meta["count"], meta["n_classes"],
                 source.name, shape, meta["split_counts"])
        return meta

    def validate(self, dataset, params, docs_dir: Path) -> list:
        from archlab.validation.suite import run_suite

        return run_suite(dataset.images, dataset.manifest, dataset.meta, min_per_class=params.validate_.min_per_class,
                         max_imbalance_ratio=params.validate_.max_imbalance_ratio, docs_dir=docs_dir)

    def training_profile(self, data) -> dict | None:
        from archlab.data.profile import profile

        return profile(data.x_train, data.y_train, data.class_names)

    def read_inputs(self, paths: list[Path], info: dict) -> tuple[np.ndarray, list[str]]:
        return read_image_inputs(paths, info["input_shape"])

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
            from archlab import modelio

            figures[""].update(autoencoder_figures(modelio.load(ae), results["autoencoder"], x_test, y_test,
                                                   class_names, figures_dir, params))


def autoencoder_figures(autoencoder, result: dict, x_test, y_test, class_names, figures_dir: Path,
                        params) -> dict[str, Path]:
    """Reconstructions, denoising (PSNR into `result["denoising"]`) and the 2-D latent projection."""
    from archlab.evaluation.autoencoder_uses import denoise, latent_projection
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
