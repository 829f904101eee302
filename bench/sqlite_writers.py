"""Many processes writing MLflow runs into one SQLite file at once: MLflow's defaults against archlab's settings.

Usage: python -m bench.sqlite_writers [--writers 1,2,4,8] [--batches 60] [--out reports]
Each writer is its own process (as each `dvc exp` stage is): it opens the store, sets the experiment, starts a run,
logs params, `--batches` metric batches (an epoch's worth each) and tags, and ends the run. All writers start
together, once on a new database and once on one that a single writer created first. Counted: writers that raised
(and how many of those errors said "database is locked"), and runs found FINISHED in the store afterwards, which
must equal the writers for no run to be lost.
Writes <out>/sqlite_writers.json and .md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import ROOT, env

WRITER = r"""
import json, sys, time
mode, db, name, start_at, batches = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric
from pathlib import Path
result = {"writer": name, "error": None}
time.sleep(max(0.0, start_at - time.time()))
began = time.time()
try:
    mlflow.set_tracking_uri("sqlite:///" + db)
    if mode == "archlab":
        from archlab.tracking.store import _sqlite_experiment
        experiment = _sqlite_experiment(Path(db), "writers")
    else:
        experiment = mlflow.set_experiment("writers")
    with mlflow.start_run(experiment_id=experiment.experiment_id, run_name=name) as run:
        mlflow.log_params({f"p{i}": i for i in range(10)})
        for step in range(batches):
            now = int(time.time() * 1000)
            MlflowClient().log_batch(run.info.run_id, metrics=[
                Metric(k, float(step), now, step) for k in ("loss", "accuracy", "val_loss", "val_accuracy")])
        mlflow.set_tags({"writer": name})
except Exception as exc:
    result["error"] = f"{type(exc).__name__}: {exc}"[:400]
result["seconds"] = round(time.time() - began, 2)
print("RESULT " + json.dumps(result))
"""


def run_writers(mode: str, writers: int, batches: int, workdir: Path, existing: bool = False) -> dict:
    """Start `writers` processes together on one SQLite file; returns errors and runs recorded.

    With `existing`, one writer creates the store first, so only the steady-state contention is measured.
    """
    db = workdir / f"{mode}-{writers}-{'existing' if existing else 'new'}" / "mlflow.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    if existing:
        subprocess.run([sys.executable, "-c", WRITER, mode, str(db), "first", "0", "1"], cwd=ROOT, env=env(),
                       check=True, capture_output=True)
    start_at = time.time() + 8.0  # every process has imported MLflow by then, so they really start together
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, mode, str(db), f"w{i}", str(start_at), str(batches)],
                              cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for i in range(writers)]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
        results.append(json.loads(line[7:]) if line else {"error": f"writer exited {proc.returncode}"})
    errors = [r["error"] for r in results if r["error"]]
    return {"mode": mode, "store": "existing" if existing else "new", "writers": writers, "batches": batches,
            "errors": len(errors), "locked_errors": sum("database is locked" in e for e in errors),
            "error_samples": errors[:3], "finished_runs": _finished_runs(db) - int(existing),
            "max_writer_s": max(r.get("seconds", 0) for r in results)}


def _finished_runs(db: Path) -> int:
    import sqlite3
    from contextlib import closing

    if not db.is_file():
        return 0
    with closing(sqlite3.connect(db, timeout=60)) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def markdown(rows: list[dict], command: str) -> str:
    lines = ["# Concurrent writers on one SQLite MLflow store", "",
             f"`{command}`. Each writer is a separate process; all start together on a fresh database.", "",
             "| settings | store | writers | writers that failed | of which 'database is locked' | runs FINISHED | "
             "slowest writer (s) |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['store']} | {r['writers']} | {r['errors']} | {r['locked_errors']} | "
                     f"{r['finished_runs']} / {r['writers']} | {r['max_writer_s']} |")
    samples = sorted({s for r in rows for s in r["error_samples"]})
    if samples:
        lines += ["", "Errors seen:", ""] + [f"- `{s}`" for s in samples[:6]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,2,4,8")
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--modes", default="mlflow-defaults,archlab")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    import tempfile

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="archlab-writers-"))
    rows = [run_writers(mode, int(n), args.batches, workdir, existing)
            for existing in (False, True) for n in args.writers.split(",") for mode in args.modes.split(",")]
    command = "python -m bench.sqlite_writers " + " ".join(argv if argv is not None else sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sqlite_writers.json").write_text(json.dumps({"command": command.strip(), "rows": rows}, indent=2))
    (args.out / "sqlite_writers.md").write_text(markdown(rows, command.strip()))
    print(markdown(rows, command.strip()))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
