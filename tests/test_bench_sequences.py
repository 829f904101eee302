"""The benchmark's imbalance and sequence-speed sections at toy size (tests/bench_runs.py says why and how)."""

import json

import pytest

from tests.bench_runs import report_fixture

pytestmark = pytest.mark.slow


report = report_fixture("sequences")


def test_imbalance_section_scores_each_method_on_the_same_cut_data(report):
    result = json.loads((report / "bench.json").read_text())["results"]["imbalance"]
    rows = {(r["architecture"], r["class_balance"]): r for r in result["rows"]}
    assert set(rows) == {("baseline", "none"), ("baseline", "rbm_oversample")}
    assert rows["baseline", "none"]["synthetic"] == 0 < rows["baseline", "rbm_oversample"]["synthetic"]
    for row in rows.values():
        assert 0.0 <= row["minority_recall"] <= 1.0 and 0.0 < row["balanced_accuracy"] <= 1.0
    assert "cut to 10% of their training samples" in result["setup"]
    assert "## Imbalanced classes" in (report / "bench.md").read_text()


def test_sequence_speed_section_times_every_architecture_at_every_length(report):
    result = json.loads((report / "bench.json").read_text())["results"]["sequence_speed"]
    per_arch = result["seconds_per_epoch"]["cpu"]
    assert set(per_arch) == {"rnn", "lstm", "transformer"}
    assert all(set(times) == {"8", "16"} and min(times.values()) > 0 for times in per_arch.values())
    assert (report / "sequence_speed.png").stat().st_size > 5_000
    assert "no machine" in result["gpu_note"]
