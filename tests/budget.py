"""The suite's budget: the longest test modules start first, and each run ends with a report of its time.

pytest-xdist hands each worker whole test modules (`--dist loadfile`: a module's fixtures are built once) in
collection order (`--no-loadscope-reorder`; xdist's default orders modules by their number of tests). Left so,
the longest module could start last on one worker while the other sits idle, so collection is sorted by each
module's recorded seconds, longest first (the longest-processing-time rule). The seconds come from the committed
`tests/durations.json`, overlaid by this machine's runs (`.pytest_cache/d/archlab/durations.json`, merged after
every run; `make test-durations` copies it over the committed file).

Modules, not `xdist_group` marks: with pytest 9.2, xdist 3.8's `--dist loadgroup` no longer tags the node ids it
schedules by (pytest keeps them in `Node._id`, xdist still writes `_nodeid`), so every test became a unit of its
own and module fixtures were built on both workers. A long module whose parts can run apart is split into files
instead (tests/test_bench_*.py).

The report is a report, never an assertion: machines of one type differ by 2-3x, so no test depends on speed.
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import pytest

COMMITTED = Path("tests/durations.json")  # relative to the project's root (pytest's rootdir)
LONG_ITEM_S = 60.0  # the report names every test whose setup, call and teardown together took longer
UNKNOWN_SLOW_S, UNKNOWN_QUICK_S = 30.0, 1.0  # a test with no record yet: guess by its marker


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _cpu_with_children() -> float:
    """User + system CPU of this process and of every child it has waited for (subprocesses included)."""
    return _cpu_seconds(resource.RUSAGE_SELF) + _cpu_seconds(resource.RUSAGE_CHILDREN)


def _machine_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine since boot, from /proc/stat (Linux); None elsewhere. It also
    counts what the process tree cannot: daemons a test starts and never waits for (DVC's queue workers, Ray)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _read_durations(path: Path) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}  # missing or damaged: it only costs the ordering


def recorded_durations(config: pytest.Config) -> dict[str, float]:
    """Seconds per test: the committed file, overlaid by this machine's last runs. Both layers, so a quick-lane
    run in a fresh clone (which records only the quick tests) leaves the next full run its committed figures."""
    known = _read_durations(config.rootpath / COMMITTED)
    cache = getattr(config, "cache", None)  # None with `-p no:cacheprovider`
    if cache is not None:
        known.update(_read_durations(cache.mkdir("archlab") / "durations.json"))
    return known


def order_longest_modules_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Sort the modules by their recorded seconds, longest first; tests keep their order inside a module.
    Deterministic, so every worker collects the same order (xdist checks that they do)."""
    known = recorded_durations(config)
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        groups.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def cost(members: list[pytest.Item]) -> float:
        guess = [UNKNOWN_SLOW_S if m.get_closest_marker("slow") else UNKNOWN_QUICK_S for m in members]
        return sum(known.get(m.nodeid, g) for m, g in zip(members, guess, strict=True))

    ranked = sorted(groups.values(), key=cost, reverse=True)  # sorted() is stable: ties keep file order
    items[:] = [item for members in ranked for item in members]


class SuiteBudget:
    """Collects each test's seconds and the workers' CPU in the controller; writes the durations file and the
    report at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.perf_counter()
        self.cpu_at_start = {who: _cpu_seconds(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)}
        self.machine_at_start = _machine_jiffies()
        self.seconds: dict[str, float] = {}
        self.worker_cpu: list[float] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_testnodedown(self, node, error) -> None:
        self.worker_cpu.append(float(getattr(node, "workeroutput", {}).get("archlab_cpu_s", 0.0)))

    def cpu_seconds(self) -> float:
        """This run's CPU: the controller's own, plus the workers' as they reported it (each with the subprocesses
        it waited for), or, run without workers, the subprocesses this process waited for."""
        own = _cpu_seconds(resource.RUSAGE_SELF) - self.cpu_at_start[resource.RUSAGE_SELF]
        if self.worker_cpu:
            return own + sum(self.worker_cpu)
        return own + _cpu_seconds(resource.RUSAGE_CHILDREN) - self.cpu_at_start[resource.RUSAGE_CHILDREN]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if getattr(self.config, "cache", None) is None or not self.seconds:
            return
        path = self.config.cache.mkdir("archlab") / "durations.json"
        merged = recorded_durations(self.config)
        merged.update({k: round(v, 2) for k, v in self.seconds.items()})
        path.write_text(json.dumps(dict(sorted(merged.items())), indent=0))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.seconds:
            return
        wall = time.perf_counter() - self.started
        cpu = self.cpu_seconds()
        cores = os.cpu_count() or 1
        write = terminalreporter.write_line
        terminalreporter.section("suite budget")
        write(f"{len(self.seconds)} tests in {wall:.0f} s wall; CPU of pytest and the processes it waited for "
              f"{cpu:.0f} s = {100 * cpu / wall:.0f}% (of {100 * cores}% on {cores} cores; the goal on 2 cores is "
              ">= 170%)")
        now = _machine_jiffies()
        if self.machine_at_start and now and now[1] > self.machine_at_start[1]:
            busy = (now[0] - self.machine_at_start[0]) / (now[1] - self.machine_at_start[1])
            write(f"the whole machine was busy {100 * cores * busy:.0f}% of {100 * cores}% meanwhile (/proc/stat)")
        long = sorted(((s, k) for k, s in self.seconds.items() if s > LONG_ITEM_S), reverse=True)
        write(f"tests over {LONG_ITEM_S:.0f} s (setup + call + teardown): {len(long) or 'none'}")
        for seconds, nodeid in long:
            write(f"  {seconds:7.1f} s  {nodeid}")


def worker_sessionfinish(config: pytest.Config) -> None:
    """In an xdist worker: hand this worker's CPU seconds to the controller (read in `pytest_testnodedown`)."""
    if hasattr(config, "workeroutput"):
        config.workeroutput["archlab_cpu_s"] = _cpu_with_children()
