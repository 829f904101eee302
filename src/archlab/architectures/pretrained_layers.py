"""Layers that put a pretrained backbone's input pipeline inside the model, so saved models take raw images."""

from __future__ import annotations

import keras
from keras import layers, ops

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="archlab")
class BackboneInput(layers.Layer):
    """Raw pixels (N, H, W, 1 or 3) in 0..255 -> the backbone's input (N, size, size, 3), preprocessed.

    mode "caffe" (VGG16, ResNet50): RGB -> BGR, minus the ImageNet mean; mode "tf" (MobileNetV2): scaled to [-1, 1].
    Grey images are repeated to three channels, as the backbones were trained on colour photos.
    """

    def __init__(self, size: int, mode: str, **kwargs):
        super().__init__(**kwargs)
        self.size, self.mode = size, mode

    def call(self, x):
        x = ops.cast(x, "float32")
        if x.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        x = ops.image.resize(x, (self.size, self.size), interpolation="bilinear")
        if self.mode == "caffe":
            x = x[..., ::-1] - ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype="float32")
        else:
            x = x / 127.5 - 1.0
        return x

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, 3)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "mode": self.mode}
