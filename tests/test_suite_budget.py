"""The suite's own scheduling and report (tests/budget.py), on a small real pytest project in a temp folder."""

import json
import subprocess
import sys

from tests.conftest import ROOT, subprocess_env

CONFTEST = """\
import pytest
from tests import budget


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(budget.SuiteBudget(config), "archlab-suite-budget")


def pytest_collection_modifyitems(config, items):
    budget.order_longest_modules_first(config, items)
"""


def _project(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_short.py").write_text("def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    (tmp_path / "test_long.py").write_text("def test_c():\n    pass\n")
    (tmp_path / "test_mid.py").write_text("def test_d():\n    pass\n\ndef test_e():\n    pass\n")
    return tmp_path


def _pytest(project, *args):
    env = subprocess_env(PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=project,
                          capture_output=True, text=True, env=env, timeout=300)


def test_modules_run_longest_first_by_the_recorded_seconds(tmp_path):
    project = _project(tmp_path)
    cache = project / ".pytest_cache/d/archlab"
    cache.mkdir(parents=True)
    cache.joinpath("durations.json").write_text(json.dumps({
        "test_short.py::test_a": 1.0, "test_short.py::test_b": 2.0, "test_long.py::test_c": 50.0,
        "test_mid.py::test_d": 20.0, "test_mid.py::test_e": 5.0}))
    out = _pytest(project, "--collect-only", "-q").stdout.split()
    order = [line for line in out if "::" in line]
    # 50 s, 25 s, then 3 s; a module's tests stay in file order
    assert order == ["test_long.py::test_c", "test_mid.py::test_d", "test_mid.py::test_e", "test_short.py::test_a",
                     "test_short.py::test_b"]


def test_a_partial_run_keeps_the_committed_seconds_of_the_tests_it_did_not_run(tmp_path):
    """A fresh clone: only the committed file knows test_long is long. After a run of test_short.py alone, the
    next collection still puts test_long first, and the machine's file holds both layers."""
    project = _project(tmp_path)
    (project / "tests").mkdir()
    (project / "tests/durations.json").write_text(json.dumps({"test_long.py::test_c": 50.0}))
    assert _pytest(project, "test_short.py").returncode == 0
    recorded = json.loads((project / ".pytest_cache/d/archlab/durations.json").read_text())
    assert recorded["test_long.py::test_c"] == 50.0 and "test_short.py::test_a" in recorded
    out = _pytest(project, "--collect-only", "-q").stdout.split()
    assert [line for line in out if "::" in line][0] == "test_long.py::test_c"


def test_a_run_reports_its_budget_and_records_each_tests_seconds(tmp_path):
    project = _project(tmp_path)
    proc = _pytest(project, "-n", "2", "--dist", "loadfile", "--no-loadscope-reorder", "-v")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "suite budget" in proc.stdout and "5 tests in" in proc.stdout
    assert "% (of " in proc.stdout and "tests over 60 s (setup + call + teardown): none" in proc.stdout
    recorded = json.loads((project / ".pytest_cache/d/archlab/durations.json").read_text())
    assert set(recorded) == {"test_short.py::test_a", "test_short.py::test_b", "test_long.py::test_c",
                             "test_mid.py::test_d", "test_mid.py::test_e"}
    workers = {line.split()[0] for line in proc.stdout.splitlines() if "PASSED test_short.py" in line}
    assert len(workers) == 1, proc.stdout  # a module's tests stay on one worker (its fixtures are built once)
