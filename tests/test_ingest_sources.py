"""Each ingest source produces the same normalised dataset: uint8 NHWC images, int labels, manifest, meta."""

import gzip
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from archlab.data.store import read_dataset
from archlab.ingest import ingest
from tests.conftest import ROOT, make_params, subprocess_env


def _ingest(tmp_path, **ingest_params):
    out = tmp_path / "out"
    meta = ingest(make_params(ingest=ingest_params), out_dir=out, rejected_csv=tmp_path / "rejected.csv")
    return meta, read_dataset(out)


def test_digits_default(digits_dataset):
    ds = read_dataset(digits_dataset)
    assert ds.images.dtype == np.uint8 and ds.images.shape == (1797, 8, 8, 1)
    assert ds.images.max() == 255 and ds.images.min() == 0
    assert ds.meta["class_names"] == [str(d) for d in range(10)]
    assert set(ds.manifest.columns) >= {"id", "split", "label", "source_ref", "content_hash"}
    assert ds.manifest["id"].is_unique
    assert (ds.manifest["label"].to_numpy() == ds.labels).all()
    assert sum(ds.meta["split_counts"].values()) == 1797


def test_digits_resized_to_rgb(tmp_path):
    meta, ds = _ingest(tmp_path, image_size=[16, 12], color_mode="rgb")
    assert ds.images.shape == (1797, 16, 12, 3)
    assert meta["image_shape"] == [16, 12, 3]
    assert (ds.images[..., 0] == ds.images[..., 2]).all()  # grey repeated into three channels


def test_npz_with_class_names_and_unit_floats(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((60, 5, 7)).astype(np.float32)
    y = np.repeat([0, 1, 2], 20)
    path = tmp_path / "data.npz"
    np.savez(path, x=x, y=y, class_names=np.array(["a", "b", "c"]))
    meta, ds = _ingest(tmp_path, source="npz", path=str(path))
    assert meta["class_names"] == ["a", "b", "c"]
    assert ds.images.shape == (60, 5, 7, 1) and ds.images.dtype == np.uint8
    np.testing.assert_array_equal(ds.images[..., 0], np.rint(x * 255).astype(np.uint8))
    assert ds.manifest["source_ref"].iloc[3] == "npz[3]"


def test_npz_nan_pixels_are_rejected_and_listed(tmp_path):
    x = np.random.default_rng(1).random((60, 4, 4))
    x[7, 1, 1] = np.nan
    np.savez(tmp_path / "d.npz", x=x, y=np.repeat([0, 1, 2], 20))
    meta, ds = _ingest(tmp_path, source="npz", path=str(tmp_path / "d.npz"))
    assert meta["count"] == 59 and meta["rejected"] == 1
    rejected = pd.read_csv(tmp_path / "rejected.csv")
    assert rejected.to_dict("records") == [{"source_ref": "npz[7]", "reason": "NaN pixel values"}]
    assert "npz-000007" not in set(ds.manifest["id"])


def test_image_dir_mixed_formats_sizes_and_modes(image_folder, tmp_path):
    meta, ds = _ingest(tmp_path, source="image_dir", path=str(image_folder), image_size=[9, 11])
    assert meta["class_names"] == ["cat", "dog", "owl"]
    assert ds.images.shape == (30, 9, 11, 1)
    assert sorted(ds.manifest["source_ref"])[0] == "cat/img 0.png"
    assert set(ds.manifest.loc[ds.manifest["class_name"] == "owl", "label"]) == {2}


def test_image_dir_rgb(image_folder, tmp_path):
    _, ds = _ingest(tmp_path, source="image_dir", path=str(image_folder), image_size=[6, 6], color_mode="rgb")
    assert ds.images.shape == (30, 6, 6, 3)


def test_image_dir_in_chunks_equals_one_pass(image_folder, tmp_path):
    _, whole = _ingest(tmp_path / "a", source="image_dir", path=str(image_folder), image_size=[5, 5])
    _, chunked = _ingest(tmp_path / "b", source="image_dir", path=str(image_folder), image_size=[5, 5],
                         chunk_size=4)
    np.testing.assert_array_equal(whole.images, chunked.images)
    pd.testing.assert_frame_equal(whole.manifest, chunked.manifest)


def _write_idx_gz(path, array, magic_header_len):
    with gzip.open(path, "wb") as fh:
        fh.write(b"\0" * magic_header_len + array.astype(np.uint8).tobytes())


def test_keras_fashion_mnist_from_preseeded_cache(tmp_path):
    """The real keras.datasets code path, reading a small file of the right format from a pre-seeded cache.

    A real stage subprocess: Keras reads KERAS_HOME once, at import, so the cache location must be set before.
    """
    cache = tmp_path / "keras_home" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for part, n in (("train", 40), ("t10k", 20)):
        _write_idx_gz(cache / f"{part}-labels-idx1-ubyte.gz", np.arange(n) % 10, 8)
        _write_idx_gz(cache / f"{part}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 16)
    params = tmp_path / "params.yaml"
    params.write_text("ingest: {source: keras, keras_dataset: fashion_mnist, "
                      "split: {train: 0.6, val: 0.2, test: 0.2}}\n")
    proc = subprocess.run([sys.executable, str(ROOT / "stages/ingest.py"), "--params", str(params),
                           "--out", str(tmp_path / "out"), "--rejected", str(tmp_path / "rej.csv")],
                          capture_output=True, text=True, timeout=120,
                          env=subprocess_env(KERAS_HOME=str(tmp_path / "keras_home"),
                                             https_proxy="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9"))
    assert proc.returncode == 0, proc.stderr
    ds = read_dataset(tmp_path / "out")
    assert ds.images.shape == (60, 28, 28, 1)
    assert ds.meta["class_names"][9] == "Ankle boot"
    assert np.bincount(ds.labels).tolist() == [6] * 10


def test_keras_without_network_fails_fast_with_a_fix(tmp_path):
    """mnist's download is checked by hash, so no fake cache can stand in: offline it must fail clearly, quickly."""
    params = tmp_path / "params.yaml"
    params.write_text("ingest: {source: keras, keras_dataset: mnist}\n")
    env = subprocess_env(KERAS_HOME=str(tmp_path / "kh"), https_proxy="http://127.0.0.1:9",
                         HTTPS_PROXY="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "stages/ingest.py"), "--params", str(params),
                           "--out", str(tmp_path / "out"), "--rejected", str(tmp_path / "rej.csv")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "ingest.keras_dataset='mnist'" in proc.stderr and "KERAS_HOME" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - start < 60
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("chunk_size", [1, 500])
def test_digits_chunk_size_does_not_change_the_dataset(tmp_path, chunk_size, digits_dataset):
    _, ds = _ingest(tmp_path, chunk_size=chunk_size)
    reference = read_dataset(digits_dataset)
    np.testing.assert_array_equal(ds.images, reference.images)
    assert (ds.manifest["split"] == reference.manifest["split"]).all()
