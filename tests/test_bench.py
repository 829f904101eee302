"""The benchmark script's own logic at toy size: it runs every section and writes well-formed reports.

No timing is asserted (these machines are noisy); the checks are on structure, on the ratios being computed from
the samples, and on the stages a one-param change re-runs.
"""

import json
import subprocess
import sys

import pytest

from bench import report, scaling
from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--out", str(out / "reports"),
                           "--workdir", str(out / "work")], cwd=ROOT, capture_output=True, text=True,
                          env=subprocess_env(), timeout=2400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / "reports"


def test_reports_are_written_with_every_section(quick_report):
    doc = json.loads((quick_report / "bench.json").read_text())
    assert set(doc["results"]) == {"overhead", "inference", "pipeline", "scaling", "startup", "gpu", "tuning",
                                   "imbalance", "sequence_speed"}
    assert doc["machine"]["cores"] >= 1 and doc["command"].startswith("python -m bench.run --quick")
    text = (quick_report / "bench.md").read_text()
    assert text.startswith("# archlab benchmark") and "| goal | target | measured | met | note |" in text
    assert "No GPU machine was lent" in (quick_report / "bench_gpu.md").read_text()


def test_ratios_come_from_the_samples(quick_report):
    doc = json.loads((quick_report / "bench.json").read_text())
    row = doc["results"]["overhead"]["rows"][0]
    assert row["wall_ratio"] == pytest.approx(row["archlab_wall_s"] / row["bare_wall_s"], rel=0.01)
    assert row["epochs"] == row["bare_epochs"] == 1  # both sides trained exactly the same number of epochs
    assert 0 < row["mlflow_s"] < row["archlab_wall_s"]
    names = [g["goal"] for g in doc["goals"]]
    assert "no-op dvc repro" in names and "archlab --help" in names


def test_one_param_change_reruns_only_its_stages_evaluate_and_register(quick_report):
    """Its tune@ stage (which reads train.<arch>: with trials 0 it rewrites the same empty choice), train@, and
    learning_curve (it reads every train.<arch> block; in the quick params it re-trains baseline on its subsets)."""
    change = json.loads((quick_report / "bench.json").read_text())["results"]["pipeline"]["one_param"]
    assert change["param"] == "train.baseline.C"
    assert [set(r) for r in change["stages_run"]] == [{"tune@baseline", "train@baseline", "learning_curve", "evaluate",
                                                       "register"}]
    goals = {g["goal"]: g for g in json.loads((quick_report / "bench.json").read_text())["goals"]}
    assert goals["change train.baseline.C"]["met"] is True


def test_cold_run_times_every_stage_it_ran(quick_report):
    cold = json.loads((quick_report / "bench.json").read_text())["results"]["pipeline"]["cold"]
    assert list(cold["stage_seconds"]) == cold["stages"] and "train@baseline" in cold["stages"]
    assert all(seconds > 0 for seconds in cold["stage_seconds"].values())
    assert sum(cold["stage_seconds"].values()) <= cold["wall_s"] + 0.5  # parts of the one run, not extra runs
    assert "seconds per stage (slowest first)" in (quick_report / "bench.md").read_text()
    # the cold run against the training it cannot skip, measured in the same run
    assert cold["training_spans"]["baseline"] > 0 and cold["training_spans_s"] >= cold["training_spans"]["baseline"]
    assert cold["span_ratio"] == pytest.approx(cold["wall_s"] / cold["training_spans_s"], rel=0.02)
    assert cold["span_ratio"] > 1.0  # the pipeline does more than train
    goals = {g["goal"]: g for g in json.loads((quick_report / "bench.json").read_text())["goals"]}
    assert goals["full dvc repro, empty cache"]["measured"] == cold["span_ratio"]


def test_scaling_rows_cover_every_size_and_stage(quick_report):
    rows = json.loads((quick_report / "bench.json").read_text())["results"]["scaling"]["rows"]
    assert {(r["images"], r["stage"]) for r in rows} == {(n, s) for n in (200, 400) for s in scaling.STAGES}
    assert all(r["peak_rss_mb"] > 50 for r in rows)  # GNU time's figure was parsed


def test_shifted_digits_are_real_derived_and_shifted():
    x, y = scaling.shifted_digits(3000)
    assert x.shape == (3000, 28, 28) and x.dtype.name == "uint8" and set(y) == set(range(10))
    assert not (x[0] == x[1797]).all()  # the same source digit lands at another offset


def test_goal_table_marks_a_missed_goal():
    results = {"startup": {"help_s": 1.5, "samples": [1.5], "heavy_imports": "['tensorflow']"}}
    (entry,) = report.goals(results)
    assert entry["met"] is False and entry["measured"] == 1.5


def test_tuning_section_compares_defaults_and_tuned_with_anchors(quick_report):
    """Both sides scored per seed on one split; the tuned configs are the tune stages' own files."""
    result = json.loads((quick_report / "bench.json").read_text())["results"]["tuning"]
    assert result["budget"]["trials"] == 2 and result["budget"]["seeds"] == [1, 2]
    for side in ("default", "tuned"):
        assert set(result[side]) == {"baseline", "shallow_mlp"}
        for scores in result[side].values():
            assert len(scores["seeds"]) == 2 and min(scores["seeds"]) <= scores["mean"] <= max(scores["seeds"])
    assert set(result["tune_seconds"]) == {"tune@baseline", "tune@shallow_mlp"}
    assert "hidden_units" in result["choices"]["shallow_mlp"]  # a tuned config, not the empty trials-0 file
    assert 0.5 < result["anchors"]["svc_rbf"] <= 1.0 and 0.5 < result["anchors"]["logistic_regression"] <= 1.0
    goals = {g["goal"] for g in json.loads((quick_report / "bench.json").read_text())["goals"]}
    assert "best tuned network, test accuracy (mean over seeds)" in goals
    assert "Tuned vs default (same split, same budget per architecture)" in (quick_report / "bench.md").read_text()


def test_imbalance_section_scores_each_method_on_the_same_cut_data(quick_report):
    result = json.loads((quick_report / "bench.json").read_text())["results"]["imbalance"]
    rows = {(r["architecture"], r["class_balance"]): r for r in result["rows"]}
    assert set(rows) == {("baseline", "none"), ("baseline", "rbm_oversample")}
    assert rows["baseline", "none"]["synthetic"] == 0 < rows["baseline", "rbm_oversample"]["synthetic"]
    for row in rows.values():
        assert 0.0 <= row["minority_recall"] <= 1.0 and 0.0 < row["balanced_accuracy"] <= 1.0
    assert "cut to 10% of their training samples" in result["setup"]
    assert "## Imbalanced classes" in (quick_report / "bench.md").read_text()


def test_sequence_speed_section_times_every_architecture_at_every_length(quick_report):
    result = json.loads((quick_report / "bench.json").read_text())["results"]["sequence_speed"]
    per_arch = result["seconds_per_epoch"]["cpu"]
    assert set(per_arch) == {"rnn", "lstm", "transformer"}
    assert all(set(times) == {"8", "16"} and min(times.values()) > 0 for times in per_arch.values())
    assert (quick_report / "sequence_speed.png").stat().st_size > 5_000
    assert "no machine" in result["gpu_note"]
