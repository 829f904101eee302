"""The benchmark's compare section at toy size (two classical models, 2 folds): every architecture scored on the
folds and the holdout, the verdict table, and the cv and learning-curve stages measured with every core and one
at a time in the same run. Its figures say nothing about speed."""

import json

import pytest

from tests.bench_runs import report_fixture

pytestmark = pytest.mark.slow

report = report_fixture("compare")


def test_compare_section_has_verdicts_holdout_scores_and_both_walls(report):
    result = json.loads((report / "bench.json").read_text())["results"]["compare"]
    assert (result["folds"], result["repeats"], result["architectures"]) == (2, 1, ["baseline", "knn"])
    assert [row["architecture"] for row in result["rows"]] == sorted(
        ["baseline", "knn"], key=lambda a: -next(r["cv_mean"] for r in result["rows"] if r["architecture"] == a))
    assert result["rows"][0]["verdict"] == "best" and 0.5 < result["rows"][1]["holdout_test_accuracy"] <= 1.0
    assert set(result["parallel_s"]) == set(result["one_at_a_time_s"]) == {"cv@baseline", "cv@knn", "learning_curve"}
    assert all(value > 0 for value in result["one_at_a_time_s"].values()) and result["cv_ratio"] > 0
    assert set(result["claims"]) == {"deeper vs shallow", "cnn vs dense"}  # neither pair trained here: not measured
    goals = {g["goal"] for g in json.loads((report / "bench.json").read_text())["goals"]}
    assert "cv stages with every core / one at a time" in goals
    assert "Cross-validated comparison (2 folds x 1 repeats, digits)" in (report / "bench.md").read_text()
