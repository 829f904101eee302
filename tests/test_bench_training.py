"""The benchmark's overhead and inference sections at toy size (tests/bench_runs.py says why and how)."""

import json

import pytest

from tests.bench_runs import report_fixture

pytestmark = pytest.mark.slow


report = report_fixture("training")


def test_ratios_come_from_the_samples(report):
    doc = json.loads((report / "bench.json").read_text())
    row = doc["results"]["overhead"]["rows"][0]
    assert row["wall_ratio"] == pytest.approx(row["archlab_wall_s"] / row["bare_wall_s"], rel=0.01)
    assert row["epochs"] == row["bare_epochs"] == 1  # both sides trained exactly the same number of epochs
    assert 0 < row["mlflow_s"] < row["archlab_wall_s"]
    names = [g["goal"] for g in doc["goals"]]
    assert "training overhead cnn (whole process)" in names and "fixed per-stage cost over bare Keras, cnn" in names
