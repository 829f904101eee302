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
