"""`archlab repro`: a real DVC project of four small stages (a -> b, c -> d), no mocks. b and c each wait for the
other to have started, so the run only completes when they really ran side by side (no timing guess)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from archlab.errors import ArchlabError
from archlab.parallel_repro import ReproFailed, downstream_counts, reproduce
from tests.dvcrepo import run

# b and c: mark this stage started, wait (up to 120 s) for the other to have started, then write the output (with
# the pipeline id the stage was given)
MEET = textwrap.dedent("""\
    import os, sys, time
    from pathlib import Path
    me, other = sys.argv[1], sys.argv[2]
    Path(me + ".started").touch()
    deadline = time.monotonic() + 120
    while not Path(other + ".started").exists():
        if time.monotonic() > deadline:
            sys.exit(f"{other} never started while {me} ran")
        time.sleep(0.05)
    Path(me + ".txt").write_text(Path("a.txt").read_text() + me + " " + os.environ["ARCHLAB_PIPELINE_RUN_ID"] + ",")
""")


def dvc_project(root: Path, b_cmd: str, c_cmd: str) -> Path:
    python = sys.executable
    stages = {
        "a": {"cmd": f"{python} -c \"open('a.txt', 'w').write('a')\"", "outs": ["a.txt"]},
        "b": {"cmd": b_cmd, "deps": ["a.txt", "meet.py"], "outs": ["b.txt"]},
        "c": {"cmd": c_cmd, "deps": ["a.txt", "meet.py"], "outs": ["c.txt"]},
        "d": {"cmd": f"{python} -c \"open('d.txt', 'w').write(open('b.txt').read() + open('c.txt').read())\"",
              "deps": ["b.txt", "c.txt"], "outs": ["d.txt"]},
    }
    (root / "dvc.yaml").write_text(json.dumps({"stages": stages}, indent=1))  # JSON is YAML
    (root / "meet.py").write_text(MEET)
    run(["dvc", "init", "--no-scm", "-q"], root)
    return root


def test_independent_stages_run_side_by_side_and_dvc_records_every_one(tmp_path):
    python = sys.executable
    root = dvc_project(tmp_path, f"{python} meet.py b c", f"{python} meet.py c b")
    lines = []
    runs = reproduce(root, jobs=2, echo=lines.append)
    assert sorted(r.name for r in runs if r.ran) == ["a", "b", "c", "d"]
    assert [r.name for r in runs][0] == "a" and [r.name for r in runs][-1] == "d"  # d waited for both
    b, c = (root / "d.txt").read_text().split(",")[:2]  # "ab <pipeline id>", "ac <pipeline id>"
    assert b.startswith("ab repro-") and c.startswith("ac repro-") and b[3:] == c[3:]  # one id for the execution
    assert "up to date" in run(["dvc", "status"], root).stdout  # dvc.lock holds every stage, as dvc repro's would
    again = reproduce(root, jobs=2, echo=lines.append)
    assert [r for r in again if r.ran] == []  # nothing changed: nothing runs
    assert "starting stage 'b'" in lines


def test_a_failed_stage_stops_the_run_and_names_itself(tmp_path):
    python = sys.executable
    root = dvc_project(tmp_path, f"{python} -c \"import sys; sys.exit(3)\"", f"{python} meet.py c b")
    with pytest.raises(ReproFailed, match="stage 'b' failed") as failure:
        reproduce(root, jobs=1, echo=lambda line: None)
    assert failure.value.exit_code == 1
    assert (root / "a.txt").is_file() and not (root / "c.txt").exists()  # one at a time: c was never started
    assert not (root / "d.txt").exists()
    with pytest.raises(ArchlabError, match="--jobs 0: expected 1 or more"):
        reproduce(root, jobs=0)


def test_the_stage_with_most_work_behind_it_starts_first():
    upstream = {"ingest": set(), "train@a": {"ingest"}, "train@b": {"ingest"}, "curve": {"train@a"},
                "evaluate": {"train@a", "train@b", "curve"}}
    assert downstream_counts(upstream) == {"ingest": 4, "train@a": 2, "train@b": 1, "curve": 1, "evaluate": 0}
