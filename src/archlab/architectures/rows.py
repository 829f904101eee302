"""Shared front of the recurrent architectures: an image read row by row as a sequence."""

from __future__ import annotations


def rows_as_sequence(inputs, input_shape: tuple[int, ...]):
    """(N, H, W, C) pixels 0..255 -> (N, H, W*C) in [0, 1]: one time step per image row."""
    from keras import layers

    height, width, channels = input_shape
    x = layers.Rescaling(1.0 / 255)(inputs)
    return layers.Reshape((height, width * channels), name="rows")(x)
