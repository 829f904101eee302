"""Convolutions on tiny maps trained as matmuls: the same outputs and gradients as `Conv2D`, on its own weights."""

from __future__ import annotations

import numpy as np
import pytest

from archlab.architectures.small_map_convs import MAX_MAP_PIXELS, MatmulConv2D, with_small_map_convs_as_matmuls


def _stack(side: int, *convs):
    import keras

    inputs = keras.Input(shape=(side, side, 6), name="maps")
    x = inputs
    for conv in convs:
        x = conv(x)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


@pytest.mark.parametrize(("side", "kernel", "padding"), [(2, 3, "same"), (4, 3, "same"), (4, 2, "same"),
                                                         (4, 3, "valid")])
def test_a_matmul_conv_gives_the_conv_output_and_the_same_training_step(side, kernel, padding):
    """Forward outputs agree to float32 round-off (atol 1e-5); one SGD step from the same weights moves the kernel
    the same way (atol 1e-5), so the gradients agree."""
    import keras
    from keras import ops

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(3, side, side, 6)).astype(np.float32)
    convs = [keras.layers.Conv2D(5, kernel, padding=padding, activation="relu", bias_initializer="random_normal")
             for _ in range(2)]
    reference, as_matmul = _stack(side, convs[0]), _stack(side, MatmulConv2D(convs[1].__class__.from_config(
        convs[0].get_config())))
    as_matmul.layers[1].conv.set_weights(convs[0].get_weights())
    start = convs[0].get_weights()[0]
    assert np.allclose(as_matmul.predict_on_batch(x), reference.predict_on_batch(x), atol=1e-5)
    targets = np.ones((3, 5), np.float32)
    for model in (reference, as_matmul):
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        model.train_on_batch(x, targets)
    moved = [ops.convert_to_numpy(m.layers[1].kernel if m is reference else m.layers[1].conv.kernel)
             for m in (reference, as_matmul)]
    assert not np.allclose(moved[0], start, atol=1e-4) and np.allclose(moved[0], moved[1], atol=1e-5)


def test_only_small_stride_one_maps_are_swapped_and_training_moves_the_original_weights():
    import keras
    from keras import ops

    keras.utils.set_random_seed(0)
    small, strided = keras.layers.Conv2D(4, 3, padding="same", name="small"), \
        keras.layers.Conv2D(4, 3, strides=2, padding="same", name="strided")
    model = _stack(4, small, strided)
    big = _stack(8, keras.layers.Conv2D(4, 3, padding="same", name="big"))
    assert 8 * 8 > MAX_MAP_PIXELS and with_small_map_convs_as_matmuls(big) == (big, [])
    trained, swapped = with_small_map_convs_as_matmuls(model)
    assert swapped == ["small"]
    x = np.random.default_rng(1).normal(size=(8, 4, 4, 6)).astype(np.float32)
    assert np.allclose(trained.predict_on_batch(x), model.predict_on_batch(x), atol=1e-5)
    before = ops.convert_to_numpy(small.kernel), ops.convert_to_numpy(strided.kernel)
    trained.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    trained.train_on_batch(x, np.ones((8, 4), np.float32))
    assert not np.allclose(ops.convert_to_numpy(small.kernel), before[0])
    assert not np.allclose(ops.convert_to_numpy(strided.kernel), before[1])
    assert np.allclose(trained.predict_on_batch(x), model.predict_on_batch(x), atol=1e-5)
