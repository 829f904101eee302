"""Fine-tuning from cached activations.

In `finetune`'s phase two only the top layers learn. Everything below the first unfrozen layer is frozen, runs in
inference mode and sees no augmentation, so its output for a given image never changes: pushing every batch
through it every epoch recomputes the same numbers. Here that frozen part runs once per split, its output (the
"cut" activations) is written to a memory-mapped .npy, and phase two trains the unfrozen top plus the head on it.
The top and head are the very layers of the full model (shared weights), so the saved model is still the whole
network that takes raw images.

The cache switches itself off, with the reason, when something would make the frozen part's output change: a
trainable layer below the cut, a random layer (augmentation, noise, dropout) on the way, or a graph that cannot be
cut at that layer (a skip connection that crosses it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
RANDOM_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                 "GaussianDropout", "AlphaDropout")


@dataclass(frozen=True)
class CachePlan:
    """Where to cut (the first unfrozen layer's name), or None and why the cache is off."""

    cut: str | None
    reason: str


def _flat_layers(model) -> list:
    """Every layer of a model, nested models expanded in place, in graph order."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            out.extend(_flat_layers(layer))
        else:
            out.append(layer)
    return out


def _is_random(layer) -> bool:
    name = type(layer).__name__
    return name.startswith("Random") or name in RANDOM_LAYERS


def plan(model, backbone_model, unfrozen: list[str]) -> CachePlan:
    """Decide whether phase two can train from cached activations, and at which layer the cache is cut.

    Args:
        model: the full network (pixels -> preprocessing -> backbone -> head).
        backbone_model: the backbone inside it, with its top layers already unfrozen.
        unfrozen: the names of the unfrozen backbone layers.
    """
    import keras

    if not unfrozen:
        return CachePlan(None, "no backbone layer is unfrozen")
    order = [layer.name for layer in backbone_model.layers]
    cut = min(unfrozen, key=order.index)
    for layer in _flat_layers(model):
        if layer.name == cut:
            break
        if _is_random(layer):
            return CachePlan(None, f"layer {layer.name} ({type(layer).__name__}) below the cut at {cut} is random "
                                   "(augmentation or noise): an image's activations change from epoch to epoch")
        if layer.trainable and layer.trainable_weights:
            return CachePlan(None, f"layer {layer.name} below the cut at {cut} is trainable: its output changes "
                                   "as it learns")
    try:
        keras.Model(backbone_model.get_layer(cut).input, backbone_model.output)
    except Exception as exc:  # noqa: BLE001 - Keras raises several types for a graph it cannot slice
        return CachePlan(None, f"the backbone's graph cannot be cut at {cut} ({type(exc).__name__}: {exc})")
    return CachePlan(cut, f"phase two trains from cached activations at {cut}")


def split(extractor, backbone_model, cut: str):
    """(bottom, top): pixels -> activations at the cut (preprocessing included, inference mode), and activations ->
    embeddings (the unfrozen layers, shared with the full model)."""
    import keras

    cut_tensor = backbone_model.get_layer(cut).input
    below = keras.Model(backbone_model.input, cut_tensor, name="frozen_below_cut")
    pixels = keras.Input(shape=extractor.input_shape[1:], name="pixels")
    bottom = keras.Model(pixels, below(extractor.get_layer("backbone_input")(pixels), training=False),
                         name="cached_part")
    top = keras.Model(cut_tensor, backbone_model.output, name="trained_part")
    return bottom, top


def write_activations(bottom, images: np.ndarray, path: Path, batch_size: int, top=None):
    """The bottom's output for every image, written batch by batch into a memory-mapped .npy (bounded memory).

    Args:
        top: when given, the same pass also runs the top on each batch and returns its outputs (the head phase's
            embeddings), instead of a second pass over the cache (which cost ~2 s on digits, tracing included).

    Returns:
        the activations (read-only memmap), or (activations, top outputs) when `top` is given.
    """
    import keras

    from archlab.data.store import allocated_memmap

    path.parent.mkdir(parents=True, exist_ok=True)
    out = allocated_memmap(path, np.float32, (len(images), *bottom.output_shape[1:]))
    model = bottom if top is None else keras.Model(bottom.input, [bottom.output, top(bottom.output, training=False)])
    tops = []
    for start in range(0, len(images), batch_size):
        answer = model.predict_on_batch(np.asarray(images[start:start + batch_size], dtype=np.float32))
        if top is not None:
            answer, top_out = answer
            tops.append(np.asarray(top_out))
        out[start:start + len(answer)] = np.asarray(answer)
    out.flush()
    activations = np.load(path, mmap_mode="r")
    return activations if top is None else (activations, np.concatenate(tops))


def cached_model(top, head):
    """Activations at the cut -> top (inference mode: batch norm keeps its statistics) -> head -> probabilities.

    The top's convolutions on tiny maps are trained as matmuls on their own weights (`small_map_convs`: faster on
    the CPU, same numbers up to float32 round-off); the saved model keeps its `Conv2D` layers.
    """
    import keras

    from archlab.architectures.small_map_convs import MAX_MAP_PIXELS, with_small_map_convs_as_matmuls

    trained_top, swapped = with_small_map_convs_as_matmuls(top)
    if swapped:
        log.info("phase two computes %s (maps of at most %d pixels) as matmuls", ", ".join(swapped), MAX_MAP_PIXELS)
    inputs = keras.Input(shape=top.input_shape[1:], name="activations")
    return keras.Model(inputs, head(trained_top(inputs, training=False)), name="finetune_from_cache")
