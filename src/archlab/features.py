"""The featurize stage: run each frozen pretrained backbone once over every split and cache the embeddings.

Heads then train on the cache instead of pushing every image through the backbone each epoch (Keras' transfer
learning guide). Images are read from the memory-mapped dataset and embeddings written to memory-mapped .npy files
batch by batch, so memory stays bounded at any dataset size.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np

from archlab.architectures.backbones import Backbone, build_backbone, weights_fingerprint
from archlab.data import store
from archlab.data.splits import SPLITS
from archlab.params import Params

log = logging.getLogger(__name__)
META = "meta.json"


def image_model(backbone: Backbone, image_shape: tuple[int, ...]):
    """Raw images (N, H, W, C) 0..255 -> embeddings, with resizing and preprocessing inside the graph."""
    import keras

    from archlab.architectures.pretrained_layers import BackboneInput

    inputs = keras.Input(shape=image_shape, name="pixels")
    x = BackboneInput(backbone.input_size, backbone.preprocess_mode, name="backbone_input")(inputs)
    return keras.Model(inputs, backbone.model(x, training=False), name=f"{backbone.name}_features")


def featurize_backbones(params: Params, *, data_dir: Path, out_root: Path) -> dict[str, dict]:
    """Write data/features/: a <backbone>/ folder for each of featurize.backbones, published together.

    One stage writes the whole folder so that it exists in every project, empty when nothing is featurized (a
    table, a series): the learning curve declares it as a dep, and a dep DVC cannot find stops the pipeline. A
    feature head's stages depend on their backbone's folder inside it.
    """
    with store.building(out_root) as tmp:
        return {name: featurize(params, name, data_dir=data_dir, out_dir=tmp / name)
                for name in params.featurize.backbones}


def featurize(params: Params, name: str, *, data_dir: Path, out_dir: Path) -> dict:
    """Write data/features/<name>/: {split}.npy (float32 N x dim), {split}_ids.csv, meta.json."""
    from tqdm import tqdm

    cfg = params.featurize
    backbone = build_backbone(name, weights=getattr(cfg, name).weights, input_size=cfg.input_size,
                              pooling=cfg.pooling, seed=params.project.seed)
    dataset = store.read_dataset(data_dir)
    extractor = image_model(backbone, tuple(dataset.images.shape[1:]))
    dim = int(extractor.output_shape[-1])
    with store.building(out_dir) as tmp:
        for split in SPLITS:
            rows = dataset.manifest[dataset.manifest["split"] == split]
            index = rows["row"].to_numpy()
            out = store.allocated_memmap(tmp / f"{split}.npy", np.float32, (len(index), dim))
            for start in tqdm(range(0, len(index), cfg.batch_size), desc=f"{name} {split}", unit="batch",
                              file=sys.stderr, mininterval=5.0):
                batch = np.asarray(dataset.images[index[start:start + cfg.batch_size]], dtype=np.float32)
                out[start:start + len(batch)] = np.asarray(extractor.predict_on_batch(batch))
            out.flush()
            del out
            rows[["id", "label"]].to_csv(tmp / f"{split}_ids.csv", index=False)
        meta = {"backbone": name, "description": backbone.description, "weights_source": backbone.weights_source,
                "weights_sha256": backbone.weights_sha256, "weights_fingerprint": weights_fingerprint(backbone.model),
                "input_size": cfg.input_size, "pooling": cfg.pooling, "dim": dim, "seed": params.project.seed,
                "image_shape": list(dataset.images.shape[1:]), "dataset_hash": dataset.meta["dataset_hash"]}
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n")
    log.info("%s features: dim %d, %s", name, dim, {s: int((dataset.manifest["split"] == s).sum()) for s in SPLITS})
    return meta


def load_features(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings and labels of one split."""
    import pandas as pd

    ids = pd.read_csv(folder / f"{split}_ids.csv")
    return np.load(folder / f"{split}.npy"), ids["label"].to_numpy()


def read_meta(folder: Path) -> dict:
    from archlab.errors import ArchlabError

    if not (folder / META).is_file():
        raise ArchlabError(f"{folder}: no features here; run the featurize stage first")
    return json.loads((folder / META).read_text())


def training_files(folder: Path) -> dict[str, bytes]:
    """The files a head trains from (meta, train and val embeddings and labels), as bytes: what a tuning trial
    gets through Ray's object store on a node without the project's files. The test split stays behind."""
    read_meta(folder)  # a clear error when featurize has not run
    names = [META] + [f"{split}{suffix}" for split in ("train", "val") for suffix in (".npy", "_ids.csv")]
    return {name: (folder / name).read_bytes() for name in names}


def write_training_files(files: dict[str, bytes], folder: Path) -> Path:
    """`training_files` written back as a features folder (a trial's scratch copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder
