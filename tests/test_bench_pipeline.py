"""The benchmark's pipeline and start-up sections at toy size (tests/bench_runs.py says why and how)."""

import json

import pytest

from tests.bench_runs import report_fixture

pytestmark = pytest.mark.slow


report = report_fixture("pipeline")


def test_one_param_change_reruns_only_its_stages_evaluate_and_register(report):
    """Its tune@ stage (which reads train.<arch>: with trials 0 it rewrites the same empty choice), train@, and
    learning_curve (it reads every train.<arch> block; in the quick params it re-trains baseline on its subsets)."""
    change = json.loads((report / "bench.json").read_text())["results"]["pipeline"]["one_param"]
    assert change["param"] == "train.baseline.C"
    assert [set(r) for r in change["stages_run"]] == [{"tune@baseline", "train@baseline", "learning_curve", "evaluate",
                                                       "register"}]
    goals = {g["goal"]: g for g in json.loads((report / "bench.json").read_text())["goals"]}
    assert goals["change train.baseline.C"]["met"] is True


def test_cold_run_times_every_stage_it_ran(report):
    cold = json.loads((report / "bench.json").read_text())["results"]["pipeline"]["cold"]
    assert list(cold["stage_seconds"]) == cold["stages"] and "train@baseline" in cold["stages"]
    assert all(seconds > 0 for seconds in cold["stage_seconds"].values())
    assert sum(cold["stage_seconds"].values()) <= cold["wall_s"] + 0.5  # parts of the one run, not extra runs
    assert "seconds per stage (slowest first)" in (report / "bench.md").read_text()
    # the cold run against the training it cannot skip, measured in the same run
    assert cold["training_spans"]["baseline"] > 0 and cold["training_spans_s"] >= cold["training_spans"]["baseline"]
    assert cold["span_ratio"] == pytest.approx(cold["wall_s"] / cold["training_spans_s"], rel=0.02)
    assert cold["span_ratio"] > 1.0  # the pipeline does more than train
    goals = {g["goal"]: g for g in json.loads((report / "bench.json").read_text())["goals"]}
    assert goals["full dvc repro, empty cache"]["measured"] == cold["span_ratio"]
    assert "no-op dvc repro" in goals and "archlab --help" in goals
