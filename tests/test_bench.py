"""The benchmark script's own logic without running it: its parts at toy size (the sections themselves run in
tests/test_bench_*.py)."""

from bench import report, scaling
from bench.run import SECTIONS
from tests.bench_runs import GROUPS


def test_every_section_is_in_one_of_the_quick_runs():
    assert sorted(s for sections in GROUPS.values() for s in sections) == sorted(SECTIONS)


def test_shifted_digits_are_real_derived_and_shifted():
    x, y = scaling.shifted_digits(3000)
    assert x.shape == (3000, 28, 28) and x.dtype.name == "uint8" and set(y) == set(range(10))
    assert not (x[0] == x[1797]).all()  # the same source digit lands at another offset


def test_goal_table_marks_a_missed_goal():
    results = {"startup": {"help_s": 1.5, "samples": [1.5], "heavy_imports": "['tensorflow']"}}
    (entry,) = report.goals(results)
    assert entry["met"] is False and entry["measured"] == 1.5


def test_the_claims_benchmark_evidence_is_the_committed_bench_json(tmp_path):
    """evaluate's claims cite archlab.evaluation.benchmark_evidence (no dep on reports/, which a project may lack):
    the committed module is what bench/evidence.py writes from the committed reports/bench.json, and a quick run or
    a scratch --out folder leaves it alone."""
    import json

    from archlab.evaluation import benchmark_evidence
    from bench import evidence
    from bench.measure import ROOT

    results = json.loads((ROOT / "reports/bench.json").read_text())["results"]
    assert evidence.MODULE.read_text() == evidence.source(results), "stale: run `python -m bench.evidence`"
    assert set(benchmark_evidence.MEASURED) == {"imbalance", "sequence_speed"}
    assert benchmark_evidence.MEASURED["imbalance"] == results["imbalance"]
    (tmp_path / "bench.json").write_text(json.dumps({"results": {}}))
    assert evidence.write_if_project_reports(tmp_path, quick=False) is None
    assert evidence.write_if_project_reports(ROOT / "reports", quick=True) is None
