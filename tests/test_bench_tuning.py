"""The benchmark's tuning section at toy size (tests/bench_runs.py says why and how)."""

import json

import pytest

from tests.bench_runs import report_fixture

pytestmark = pytest.mark.slow


report = report_fixture("tuning")


def test_tuning_section_compares_defaults_and_tuned_with_anchors(report):
    """Both sides scored per seed on one split; the tuned configs are the tune stages' own files."""
    result = json.loads((report / "bench.json").read_text())["results"]["tuning"]
    assert result["budget"]["trials"] == 2 and result["budget"]["seeds"] == [1, 2]
    for side in ("default", "tuned"):
        assert set(result[side]) == {"shallow_mlp"}  # one tunable network: the section's code path, at toy size
        for scores in result[side].values():
            assert len(scores["seeds"]) == 2 and min(scores["seeds"]) <= scores["mean"] <= max(scores["seeds"])
    assert set(result["tune_seconds"]) == {"tune@shallow_mlp"}
    assert [row["architecture"] for row in result["rows"]] == ["shallow_mlp"]
    assert "hidden_units" in result["choices"]["shallow_mlp"]  # a tuned config, not the empty trials-0 file
    assert 0.5 < result["anchors"]["svc_rbf"] <= 1.0 and 0.5 < result["anchors"]["logistic_regression"] <= 1.0
    goals = {g["goal"] for g in json.loads((report / "bench.json").read_text())["goals"]}
    assert "best tuned network, test accuracy (mean over seeds)" in goals
    assert "Tuned vs default (same split, same budget per architecture)" in (report / "bench.md").read_text()
