"""The benchmark's scaling and GPU sections at toy size (tests/bench_runs.py says why and how)."""

import json

import pytest

from bench import scaling
from tests.bench_runs import report_fixture

pytestmark = pytest.mark.slow


report = report_fixture("scaling")


def test_reports_are_written_with_the_goal_table_and_the_gpu_page(report):
    doc = json.loads((report / "bench.json").read_text())
    assert doc["machine"]["cores"] >= 1 and doc["command"].startswith("python -m bench.run --quick")
    text = (report / "bench.md").read_text()
    assert text.startswith("# archlab benchmark") and "| goal | target | measured | met | note |" in text
    assert "No GPU machine was lent" in (report / "bench_gpu.md").read_text()


def test_scaling_rows_cover_every_size_and_stage(report):
    rows = json.loads((report / "bench.json").read_text())["results"]["scaling"]["rows"]
    assert {(r["images"], r["stage"]) for r in rows} == {(n, s) for n in (200, 400) for s in scaling.STAGES}
    assert all(r["peak_rss_mb"] > 50 for r in rows)  # GNU time's figure was parsed
