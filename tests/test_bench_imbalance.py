"""The benchmark's imbalance section at toy size (tests/bench_runs.py says why and how)."""

import json

import pytest

from tests.bench_runs import report_fixture

pytestmark = pytest.mark.slow


report = report_fixture("imbalance")


def test_imbalance_section_scores_each_method_on_the_same_cut_data(report):
    result = json.loads((report / "bench.json").read_text())["results"]["imbalance"]
    rows = {(r["architecture"], r["class_balance"]): r for r in result["rows"]}
    assert set(rows) == {("baseline", "none"), ("baseline", "rbm_oversample")}
    assert rows["baseline", "none"]["synthetic"] == 0 < rows["baseline", "rbm_oversample"]["synthetic"]
    for row in rows.values():
        assert 0.0 <= row["minority_recall"] <= 1.0 and 0.0 < row["balanced_accuracy"] <= 1.0
    assert "cut to 10% of their training samples" in result["setup"]
    assert "## Imbalanced classes" in (report / "bench.md").read_text()
