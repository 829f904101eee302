"""Train convolutions on tiny feature maps as one matrix product each, on the very same weights.

`finetune`'s phase two trains VGG16's top block on 2x2 and 4x4 maps (32-pixel inputs). TensorFlow's CPU
convolution is slow there: on the 2-core machine one 512-channel 3x3 convolution's training step on a 2x2 map
(64 images) took 64 ms, longer than on a 4x4 map with four times the arithmetic (57 ms). Written as "patches then
matmul" (im2col: the nine shifted copies of the padded map side by side, times the kernel reshaped to a matrix),
the same step took 27 ms on 2x2 and 50 ms on 4x4 (TensorFlow 2.21, oneDNN, float32), and outputs and training
steps agree to float32 round-off (`tests/test_small_map_convs.py`). In the default `train@finetune` on digits a
phase-two epoch went from ~4.3 s to ~3.0 s.

Only the training graph changes: `MatmulConv2D` reads the wrapped `Conv2D`'s own kernel and bias, so what the
optimiser updates is the saved model's convolution, which keeps its ordinary `Conv2D` layers.
"""

from __future__ import annotations

import logging

import keras
from keras import layers, ops

log = logging.getLogger(__name__)
MAX_MAP_PIXELS = 16  # 4x4: both 2x2 and 4x4 measured faster as a matmul; larger maps were not measured


class MatmulConv2D(layers.Layer):
    """A stride-1 `Conv2D` (channels last, no dilation, no groups) computed as patches x kernel matrix.

    Args:
        conv: the built `Conv2D` whose weights this layer reads and trains (it owns no weights of its own).
    """

    def __init__(self, conv: layers.Conv2D, **kwargs):
        super().__init__(name=f"{conv.name}_as_matmul", **kwargs)
        self.conv = conv

    def build(self, input_shape):
        if not self.conv.built:
            self.conv.build(input_shape)

    def call(self, x):
        kernel = ops.cast(self.conv.kernel, x.dtype)
        rows, cols, channels, filters = kernel.shape
        height, width = x.shape[1], x.shape[2]
        if self.conv.padding == "same":
            x = ops.pad(x, [[0, 0], [(rows - 1) // 2, rows // 2], [(cols - 1) // 2, cols // 2], [0, 0]])
            out_h, out_w = height, width
        else:
            out_h, out_w = height - rows + 1, width - cols + 1
        patches = ops.concatenate([x[:, i:i + out_h, j:j + out_w, :] for i in range(rows) for j in range(cols)],
                                  axis=-1)
        y = ops.matmul(patches, ops.reshape(kernel, (rows * cols * channels, filters)))
        if self.conv.use_bias:
            y = y + ops.cast(self.conv.bias, y.dtype)
        return self.conv.activation(y)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)


def _swappable(layer) -> bool:
    if type(layer) is not layers.Conv2D or layer.data_format != "channels_last":
        return False
    if tuple(layer.strides) != (1, 1) or tuple(layer.dilation_rate) != (1, 1) or layer.groups != 1:
        return False
    height, width = layer.input.shape[1:3]
    return height is not None and width is not None and height * width <= MAX_MAP_PIXELS


def with_small_map_convs_as_matmuls(model):
    """The same functional graph, every `Conv2D` on a map of at most `MAX_MAP_PIXELS` pixels computed as a matmul.

    Every other layer is the model's own (shared, not copied), so training the result trains `model`.

    Returns:
        (model for training, names of the swapped convolutions); the model itself when nothing is swapped.
    """
    swapped = [layer.name for layer in model.layers if _swappable(layer)]
    if not swapped:
        return model, []
    clone = keras.models.clone_model(
        model, clone_function=lambda layer: MatmulConv2D(layer) if layer.name in swapped else layer)
    return clone, swapped
