"""The Great Expectations suite passes clean data and catches each planted defect, naming it."""

import json

import numpy as np
import pandas as pd
import pytest

from archlab.data.store import IMAGES, MANIFEST
from archlab.errors import ValidationFailed
from archlab.validation.run import validate
from tests.conftest import make_params


def _validate(tmp_path, dataset, **validate_params):
    return validate(make_params(validate=validate_params), dataset_dir=dataset,
                    report_path=tmp_path / "validation.json", docs_dir=tmp_path / "docs")


def _fails_with(tmp_path, dataset, key, **validate_params):
    with pytest.raises(ValidationFailed) as info:
        _validate(tmp_path, dataset, **validate_params)
    assert key in str(info.value), str(info.value)
    report = json.loads((tmp_path / "validation.json").read_text())
    assert report["success"] is False and report["critical_failed"] >= 1
    assert report["expectations"][key]["success"] is False
    return str(info.value)


def _edit_manifest(dataset, change):
    manifest = pd.read_csv(dataset / MANIFEST)
    change(manifest)
    manifest.to_csv(dataset / MANIFEST, index=False)


def test_clean_digits_pass_and_write_report_and_docs(tmp_path, digits_dataset):
    summary = _validate(tmp_path, digits_dataset)
    assert summary["success"] is True and summary["failed"] == 0
    assert summary["evaluated"] == summary["passed"] >= 13
    assert json.loads((tmp_path / "validation.json").read_text()) == summary
    assert (tmp_path / "docs" / "index.html").is_file()
    assert list((tmp_path / "docs" / "validations").rglob("*.html"))


def test_train_test_leakage_is_caught(tmp_path, digits_dataset):
    manifest = pd.read_csv(digits_dataset / MANIFEST)
    train_row = manifest[manifest["split"] == "train"].iloc[0]
    test_index = manifest.index[manifest["split"] == "test"][0]
    images = np.load(digits_dataset / IMAGES)
    images[manifest.loc[test_index, "row"]] = images[train_row["row"]]
    np.save(digits_dataset / IMAGES, images)
    _edit_manifest(digits_dataset, lambda m: m.__setitem__("content_hash", m["content_hash"].mask(
        m.index == test_index, train_row["content_hash"])))
    _fails_with(tmp_path, digits_dataset, "samples.column_values_to_be_in_set.test_duplicates_train_or_val")


def test_class_missing_from_a_split_is_caught(tmp_path, digits_dataset):
    _edit_manifest(digits_dataset, lambda m: m.__setitem__(
        "split", m["split"].mask((m["label"] == 3) & (m["split"] == "val"), "train")))
    message = _fails_with(tmp_path, digits_dataset, "class_counts.column_values_to_be_between.count")
    assert "'split': 'val', 'label': 3" in message  # the message says which class is missing where


def test_too_few_per_class_is_caught(tmp_path, digits_dataset):
    _fails_with(tmp_path, digits_dataset, "class_counts.column_values_to_be_between.count", min_per_class=100)


def test_bad_label_is_caught(tmp_path, digits_dataset):
    _edit_manifest(digits_dataset, lambda m: m.__setitem__("label", m["label"].mask(m.index == 10, 42)))
    message = _fails_with(tmp_path, digits_dataset, "samples.column_values_to_be_in_set.label")
    assert "42" in message


def test_null_label_is_caught(tmp_path, digits_dataset):
    _edit_manifest(digits_dataset, lambda m: m.__setitem__("label", m["label"].astype(float).mask(m.index == 4)))
    _fails_with(tmp_path, digits_dataset, "samples.column_values_to_not_be_null.label")


def test_nan_pixels_are_caught(tmp_path, digits_dataset):
    images = np.load(digits_dataset / IMAGES).astype(np.float32)
    images[5, 2, 2, 0] = np.nan
    np.save(digits_dataset / IMAGES, images)
    _fails_with(tmp_path, digits_dataset, "samples.column_values_to_be_between.nan_count")


def test_pixel_range_is_caught(tmp_path, digits_dataset):
    images = np.load(digits_dataset / IMAGES).astype(np.float32)
    images[9] = 300.0
    np.save(digits_dataset / IMAGES, images)
    _fails_with(tmp_path, digits_dataset, "samples.column_values_to_be_between.pixel_max")


def test_class_imbalance_is_caught(tmp_path, digits_dataset):
    _fails_with(tmp_path, digits_dataset, "class_counts.column_values_to_be_between.imbalance_ratio",
                max_imbalance_ratio=1.0)


def test_blank_image_is_only_a_warning(tmp_path, digits_dataset, caplog):
    images = np.load(digits_dataset / IMAGES)
    images[0] = 0
    np.save(digits_dataset / IMAGES, images)
    summary = _validate(tmp_path, digits_dataset)
    assert summary["success"] is True and summary["failed"] == 1 and summary["critical_failed"] == 0
    assert "non-critical expectation failed" in caplog.text


def _copy_samples(dataset, pairs) -> None:
    """Make each target sample an exact copy of its source (pixels and content hash), keeping the target's label."""
    manifest = pd.read_csv(dataset / MANIFEST)
    images = np.load(dataset / IMAGES)
    for source, target in pairs:
        images[manifest.loc[target, "row"]] = images[manifest.loc[source, "row"]]
        manifest.loc[target, "content_hash"] = manifest.loc[source, "content_hash"]
    np.save(dataset / IMAGES, images)
    manifest.to_csv(dataset / MANIFEST, index=False)


def _train_pairs(dataset, same_label: bool, n: int) -> list[tuple[int, int]]:
    """n (source, target) pairs of train samples: two of one class each, or a class 0..n-1 sample onto a sample of
    class n..2n-1."""
    manifest = pd.read_csv(dataset / MANIFEST)
    train = manifest[manifest["split"] == "train"]
    rows = {label: list(group.index) for label, group in train.groupby("label")}
    if same_label:
        return [(rows[c][0], rows[c][1]) for c in range(n)]
    return [(rows[c][0], rows[n + c][0]) for c in range(n)]


def test_duplicates_are_reported_with_counts_and_pass(tmp_path, digits_dataset, caplog):
    _copy_samples(digits_dataset, _train_pairs(digits_dataset, same_label=True, n=4))
    summary = _validate(tmp_path, digits_dataset)
    assert summary["success"] is True and summary["critical_failed"] == 0
    counts = summary["duplicates"]
    assert counts["duplicate_samples"] == 4 and counts["conflicting_samples"] == 0
    assert counts["duplicate_share"] == round(4 / counts["samples"], 4)
    assert summary["expectations"]["duplicates.column_values_to_be_between.duplicate_samples"]["success"] is False
    assert f"4 of {counts['samples']} samples" in caplog.text and "exact copies" in caplog.text


def test_identical_samples_with_different_labels_stop_the_run_above_the_threshold(tmp_path, digits_dataset):
    pairs = _train_pairs(digits_dataset, same_label=False, n=2)
    _copy_samples(digits_dataset, pairs)
    message = _fails_with(tmp_path, digits_dataset, "duplicates.column_values_to_be_between.conflicting_samples")
    manifest = pd.read_csv(digits_dataset / MANIFEST)
    source, target = pairs[0]
    assert f"{manifest.loc[source, 'id']}={manifest.loc[target, 'id']}" in message  # names the samples
    report = json.loads((tmp_path / "validation.json").read_text())
    assert report["duplicates"]["conflicting_samples"] == 4 and report["duplicates"]["conflicting_groups"] == 2
    lenient = _validate(tmp_path, digits_dataset, max_conflicting_labels=4)  # the user's threshold allows them
    assert lenient["success"] is True and lenient["duplicates"]["conflicting_samples"] == 4
