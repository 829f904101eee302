"""Bad input: structural problems stop ingest with a message naming the path; unreadable files are skipped and
listed; above `max_rejected_fraction` the stage fails; nothing that looks complete is left behind."""

import struct
import zlib

import numpy as np
import pandas as pd
import pytest

from archlab.data.store import read_dataset
from archlab.errors import DataError
from archlab.ingest import ingest
from tests.conftest import make_params, write_image


def _run(tmp_path, **ingest_params):
    ingest_params.setdefault("image_size", [8, 8])
    out = tmp_path / "out"
    meta = ingest(make_params(ingest=ingest_params), out_dir=out, rejected_csv=tmp_path / "rejected.csv")
    return meta, out


def _rejected(tmp_path) -> dict[str, str]:
    frame = pd.read_csv(tmp_path / "rejected.csv")
    return dict(zip(frame["source_ref"], frame["reason"], strict=True))


def _fails(tmp_path, *needles, **ingest_params):
    with pytest.raises(DataError) as info:
        _run(tmp_path, **ingest_params)
    for needle in needles:
        assert needle in str(info.value), str(info.value)
    assert not (tmp_path / "out").exists(), "a failed ingest must not leave a dataset behind"
    return str(info.value)


def _tiny_png_declaring(width: int, height: int) -> bytes:
    """A 150-byte PNG that declares a huge (or zero) size: the shape of a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
            + chunk(b"IEND", b""))


def test_missing_path(tmp_path):
    _fails(tmp_path, "image folder not found", "nowhere", source="image_dir", path=str(tmp_path / "nowhere"))


def test_path_is_a_file(tmp_path):
    (tmp_path / "f.png").write_bytes(b"x")
    _fails(tmp_path, "is not a folder", source="image_dir", path=str(tmp_path / "f.png"))


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    _fails(tmp_path, "no class sub-folders", source="image_dir", path=str(tmp_path / "empty"))


def test_class_folder_without_images(image_folder, tmp_path):
    (image_folder / "zebra").mkdir()
    (image_folder / "zebra" / "notes.txt").write_text("no images here")
    _fails(tmp_path, "zebra", "no image files", source="image_dir", path=str(image_folder))


def test_only_one_class(tmp_path):
    for i in range(5):
        write_image(tmp_path / "one" / "a" / f"{i}.png", seed=i)
    _fails(tmp_path, "only one class", "'a'", source="image_dir", path=str(tmp_path / "one"))


def test_unreadable_files_are_skipped_and_listed(image_folder, tmp_path):
    (image_folder / "cat" / "zero.png").write_bytes(b"")
    good_jpeg = (image_folder / "cat" / "img 1.jpg").read_bytes()
    (image_folder / "dog" / "truncated.jpg").write_bytes(good_jpeg[: len(good_jpeg) // 2])
    good_png = (image_folder / "dog" / "img 0.png").read_bytes()
    (image_folder / "owl" / "truncated.png").write_bytes(good_png[: len(good_png) // 2])
    (image_folder / "owl" / "readme.txt").write_text("hello")
    (image_folder / "owl" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (image_folder / "owl" / "fake.png").write_text("this is text with an image extension")
    meta, out = _run(tmp_path, source="image_dir", path=str(image_folder), max_rejected_fraction=0.5)
    reasons = _rejected(tmp_path)
    assert reasons["cat/zero.png"] == "empty file (0 bytes)"
    assert reasons["dog/truncated.jpg"].startswith("corrupt or truncated")
    assert reasons["owl/truncated.png"].startswith("corrupt or truncated")
    assert reasons["owl/readme.txt"].startswith("not an image file")
    assert reasons["owl/.DS_Store"].startswith("not an image file")
    assert reasons["owl/fake.png"] == "not a recognised image format"
    assert meta["count"] == 30 and meta["rejected"] == 6
    assert not set(reasons) & set(read_dataset(out).manifest["source_ref"])


def test_too_many_rejects_fail_the_stage(image_folder, tmp_path):
    for i in range(4):
        (image_folder / "cat" / f"bad{i}.png").write_bytes(b"")
    message = _fails(tmp_path, "4 of 34 samples rejected", "max_rejected_fraction=0.1",
                     source="image_dir", path=str(image_folder), max_rejected_fraction=0.1)
    assert "rejected.csv" in message
    assert len(_rejected(tmp_path)) == 4  # the list is still there to read


def test_a_class_whose_files_are_all_unreadable(tmp_path):
    for i in range(5):
        write_image(tmp_path / "d" / "good" / f"{i}.png", seed=i)
        (tmp_path / "d" / "bad").mkdir(parents=True, exist_ok=True)
    for i in range(5):
        (tmp_path / "d" / "bad" / f"{i}.png").write_bytes(b"")
    _fails(tmp_path, "only 1 class", source="image_dir", path=str(tmp_path / "d"), max_rejected_fraction=1.0)


def test_decompression_bomb_and_zero_sized_png_are_rejected(image_folder, tmp_path):
    (image_folder / "cat" / "bomb.png").write_bytes(_tiny_png_declaring(100_000, 100_000))
    (image_folder / "dog" / "empty.png").write_bytes(_tiny_png_declaring(0, 0))
    _, _ = _run(tmp_path, source="image_dir", path=str(image_folder), max_rejected_fraction=0.5)
    reasons = _rejected(tmp_path)
    assert reasons["cat/bomb.png"].startswith("decompression bomb refused")
    assert "dog/empty.png" in reasons


def test_symlink_outside_the_folder_is_not_followed(image_folder, tmp_path):
    secret = write_image(tmp_path / "outside" / "secret.png", seed=9)
    (image_folder / "cat" / "link.png").symlink_to(secret)
    (image_folder / "dog" / "linked_dir").symlink_to(tmp_path / "outside", target_is_directory=True)
    inside = image_folder / "owl" / "inside.png"
    inside.symlink_to(image_folder / "owl" / "img 0.png")
    meta, out = _run(tmp_path, source="image_dir", path=str(image_folder), max_rejected_fraction=0.5)
    reasons = _rejected(tmp_path)
    assert reasons["cat/link.png"] == "symlink points outside the dataset folder"
    assert reasons["dog/linked_dir"] == "symlinked folder not followed"
    assert "owl/inside.png" in set(read_dataset(out).manifest["source_ref"])


def _npz(tmp_path, **arrays):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    return str(path)


def test_npz_missing_file(tmp_path):
    _fails(tmp_path, "npz file not found", source="npz", path=str(tmp_path / "none.npz"))


def test_npz_labels_out_of_range(tmp_path):
    path = _npz(tmp_path, x=np.zeros((6, 4, 4)), y=np.array([0, 1, 2, 0, 1, 5]), class_names=np.array(["a", "b", "c"]))
    _fails(tmp_path, "y[5] = 5", "out of range", "[0, 2]", source="npz", path=path)


def test_npz_negative_label(tmp_path):
    _fails(tmp_path, "y[1] = -1", source="npz", path=_npz(tmp_path, x=np.zeros((3, 4, 4)), y=np.array([0, -1, 1])))


def test_npz_nan_label(tmp_path):
    path = _npz(tmp_path, x=np.zeros((4, 4, 4)), y=np.array([0.0, 1.0, np.nan, 1.0]))
    _fails(tmp_path, "y[2] = nan", "whole numbers", source="npz", path=path)


def test_npz_mismatched_lengths(tmp_path):
    _fails(tmp_path, "'x' has 5 samples but 'y' has 4", source="npz",
           path=_npz(tmp_path, x=np.zeros((5, 4, 4)), y=np.array([0, 1, 0, 1])))


def test_npz_missing_array(tmp_path):
    _fails(tmp_path, "missing array(s) ['y']", source="npz", path=_npz(tmp_path, x=np.zeros((5, 4, 4))))


def test_npz_pixel_range(tmp_path):
    _fails(tmp_path, "pixel values must lie in", source="npz",
           path=_npz(tmp_path, x=np.full((4, 3, 3), 300.0), y=np.array([0, 1, 0, 1])))


def test_npz_not_an_npz(tmp_path):
    (tmp_path / "d.npz").write_text("not a zip")
    _fails(tmp_path, "not a readable .npz", source="npz", path=str(tmp_path / "d.npz"))
