"""The plain inference a user would write: load a .keras file, `model.predict` an array, print the labels."""

import json
import sys

import keras
import numpy as np

from archlab.architectures import layers, pretrained_layers  # noqa: F401 - registers archlab's custom layers

model = keras.saving.load_model(sys.argv[1], compile=False)
images = np.load(sys.argv[2]).astype(np.float32)
print(json.dumps(model.predict(images, verbose=0).argmax(axis=1).tolist()))  # noqa: T201
