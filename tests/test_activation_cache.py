"""`finetune`'s phase two from cached activations: the same first step as the uncached network, the same saved
model, and a cache that switches itself off when the frozen part's output could change."""

from __future__ import annotations

import numpy as np
import pytest

from archlab.architectures import activation_cache
from archlab.architectures.zoo.finetune import FinetuneParams, build, unfreeze_top

# Every test builds or trains the VGG16 fine-tuning network: the full suite's (`make test`), not the quick lane's
pytestmark = pytest.mark.slow

PARAMS = FinetuneParams(weights="none", dropout=0.0, hidden_units=16, unfreeze_layers=3, batch_size=32)


@pytest.fixture(scope="module")
def finetune_parts(tiny_data):
    from archlab import device

    device.prepare(0)
    model, backbone, extractor, head = build(tiny_data.input_shape, tiny_data.n_classes, PARAMS, seed=0)
    unfrozen = unfreeze_top(backbone.model, PARAMS.unfreeze_layers)
    return model, backbone, extractor, head, unfrozen


def _sgd_step(model, x, y) -> float:
    import keras

    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="sparse_categorical_crossentropy")
    return float(model.train_on_batch(x, y))


def test_the_cut_is_the_first_unfrozen_layer_and_the_first_step_matches(finetune_parts, tiny_data, tmp_path):
    """Same weights, same batch: one SGD step on cached activations and one through the whole network give the same
    loss (rtol 1e-4, float32) and leave the full model with the same predictions (atol 1e-4)."""
    model, backbone, extractor, head, unfrozen = finetune_parts
    plan = activation_cache.plan(model, backbone.model, unfrozen)
    assert plan.cut == "block5_conv1" and unfrozen == ["block5_conv1", "block5_conv2", "block5_conv3"]
    bottom, top = activation_cache.split(extractor, backbone.model, plan.cut)
    x, y = tiny_data.x_train[:32].astype(np.float32), tiny_data.y_train[:32]
    activations = activation_cache.write_activations(bottom, x, tmp_path / "a.npy", batch_size=16)
    assert activations.shape == (32, 2, 2, 512) and isinstance(activations, np.memmap)
    again, embeddings = activation_cache.write_activations(bottom, x, tmp_path / "b.npy", batch_size=16, top=top)
    assert np.array_equal(again, activations) and embeddings.shape == (32, 512)
    assert np.allclose(embeddings, top.predict_on_batch(np.asarray(activations)), atol=1e-5)
    start = model.get_weights()
    cached = activation_cache.cached_model(top, head)
    cached_loss = _sgd_step(cached, np.asarray(activations), y)
    after_cached = model.predict_on_batch(x)
    model.set_weights(start)
    full_loss = _sgd_step(model, x, y)
    after_full = model.predict_on_batch(x)
    assert cached_loss == pytest.approx(full_loss, rel=1e-4)
    assert np.allclose(after_cached, after_full, atol=1e-4)
    assert not np.allclose(after_full, (model.set_weights(start), model.predict_on_batch(x))[1], atol=1e-6)


def test_the_saved_model_takes_raw_images_and_answers_like_the_cached_path(tiny_data, tmp_path):
    """A real phase two on the cache; the saved whole network reloads and predicts what cache -> top -> head does."""
    from archlab import device, modelio
    from archlab.architectures.zoo.finetune import fit
    from archlab.training.fit import FitContext

    device.prepare(0)
    params = PARAMS.model_copy(update={"head_epochs": 1, "epochs": 2, "patience": 5, "checkpoint_every_s": 0})
    trained = fit(tiny_data, params, FitContext(seed=0, checkpoint_dir=tmp_path / "ckpt"))
    assert trained.metrics["activation_cache"] == 1.0
    assert trained.tags["archlab.activation_cache"].startswith("phase two trains from cached activations")
    assert [row["phase"] for row in trained.history].count("finetune") == 2
    x = tiny_data.x_val[:16].astype(np.float32)
    backbone_model = trained.model.get_layer(next(layer.name for layer in trained.model.layers
                                                  if layer.name.endswith("_features")))
    vgg = next(layer for layer in backbone_model.layers if layer.name.startswith("vgg16"))
    bottom, top = activation_cache.split(backbone_model, vgg, "block5_conv1")
    head = trained.model.get_layer("head")
    through_cache = activation_cache.cached_model(top, head).predict_on_batch(bottom.predict_on_batch(x))
    path = modelio.save(trained.model, "keras", tmp_path / "saved")
    reloaded = modelio.load(path).predict_on_batch(x)
    assert np.allclose(reloaded, through_cache, atol=1e-5)


def test_the_cache_switches_itself_off_when_the_frozen_part_could_change(finetune_parts, tiny_data):
    import keras

    model, backbone, extractor, head, unfrozen = finetune_parts
    lower = backbone.model.get_layer("block3_conv1")
    lower.trainable = True
    try:
        plan = activation_cache.plan(model, backbone.model, unfrozen)
    finally:
        lower.trainable = False
    assert plan.cut is None and "block3_conv1 below the cut at block5_conv1 is trainable" in plan.reason
    pixels = keras.Input(shape=tiny_data.input_shape)
    augmented = keras.Model(pixels, head(extractor(keras.layers.RandomFlip("horizontal", name="flip")(pixels),
                                                   training=False)))
    plan = activation_cache.plan(augmented, backbone.model, unfrozen)
    assert plan.cut is None and "flip (RandomFlip)" in plan.reason and "augmentation" in plan.reason
    assert activation_cache.plan(model, backbone.model, unfrozen).cut == "block5_conv1"


def test_turning_the_cache_off_trains_the_whole_network_and_says_why(tiny_data, tmp_path, caplog):
    from archlab import device
    from archlab.architectures.zoo.finetune import fit
    from archlab.training.data import subset
    from archlab.training.fit import FitContext

    device.prepare(0)
    params = PARAMS.model_copy(update={"head_epochs": 1, "epochs": 1, "checkpoint_every_s": 0,
                                       "activation_cache": False})
    with caplog.at_level("WARNING", logger="archlab"):
        trained = fit(subset(tiny_data, 64, 32), params, FitContext(seed=0, checkpoint_dir=tmp_path))
    assert trained.metrics["activation_cache"] == 0.0
    assert "train.finetune.activation_cache is false" in caplog.text
