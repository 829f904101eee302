"""Quick benchmark runs for the test_bench_<group>.py files: each runs its group of sections once, at toy size.

`make bench` measures; the suite only checks the benchmark's code. A quick run (`python -m bench.run --quick`)
runs each section's code path at toy size, its figures say nothing about speed, and no timing is asserted (these
machines are noisy). The sections are split into seven groups, one test file each, so that the suite's two
workers run them side by side instead of one long run on one worker.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env

# Together the groups run every section of bench.run once (tests/test_bench.py checks that they do).
GROUPS = {"pipeline": ("pipeline", "startup"), "training": ("overhead", "inference"), "tuning": ("tuning",),
          "scaling": ("scaling", "gpu"), "imbalance": ("imbalance",), "sequences": ("sequence_speed",),
          "compare": ("compare",)}


def quick_run(tmp_path_factory, group: str):
    """`python -m bench.run --quick --sections <the group's sections>` in a scratch folder; its reports folder."""
    out = tmp_path_factory.mktemp(f"bench-{group}")
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--sections", ",".join(GROUPS[group]),
                           "--out", str(out / "reports"), "--workdir", str(out / "work")], cwd=ROOT,
                          capture_output=True, text=True, env=subprocess_env(), timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "reports/bench.json").read_text())
    assert set(doc["results"]) == set(GROUPS[group])  # each run writes exactly the sections it was asked for
    return out / "reports"


def report_fixture(group: str):
    """A module-scoped fixture `report`: the reports folder of the group's quick run."""

    @pytest.fixture(scope="module")
    def report(tmp_path_factory):
        return quick_run(tmp_path_factory, group)

    return report
