"""The benchmark's sequence-speed section at toy size (tests/bench_runs.py says why and how)."""

import json

import pytest

from tests.bench_runs import report_fixture

pytestmark = pytest.mark.slow


report = report_fixture("sequences")


def test_sequence_speed_section_times_every_architecture_at_every_length(report):
    result = json.loads((report / "bench.json").read_text())["results"]["sequence_speed"]
    per_arch = result["seconds_per_epoch"]["cpu"]
    assert set(per_arch) == {"rnn", "lstm", "transformer"}
    assert all(set(times) == {"8", "16"} and min(times.values()) > 0 for times in per_arch.values())
    assert (report / "sequence_speed.png").stat().st_size > 5_000
    assert "no machine" in result["gpu_note"]
