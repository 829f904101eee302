"""`archlab retrain` end to end: a real git+DVC repo, a real SQLite MLflow store, real subprocesses.

One repo lives through a sequence, as a scheduled job's workspace does: first data (promote), a retrain killed
with SIGKILL mid-training (champion untouched), the retrain after it (completes, decides by the rule), a stricter
rule (keep), a drifted batch (stopped, exit 4), a broken class folder (exit 3) and two overlapping jobs (one exits
75). Tests run in file order and each builds on the state the previous one left.
"""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from archlab import tasks
from archlab.promotion import beats
from tests.conftest import subprocess_env
from tests.dvcrepo import image_folder_params, make_repo, run

PARAMS = image_folder_params("rt", 3, shallow_mlp="{hidden_units: 32, epochs: 60, patience: 100, batch_size: 32}")
BATCHES = ["--batches", "4", "--limit", "1000"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("retrain"), PARAMS)


def arrive(repo: Path, batch: int, *extra: str) -> None:
    run(["archlab", "simulate-arrivals", "data/raw", "--batch", str(batch), *BATCHES, *extra], repo)


def retrain(repo: Path, *extra: str):
    return run(["archlab", "retrain", "--json", *extra], repo, check=False)


def report_of(proc) -> dict:
    assert proc.stdout, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def latest_report(repo: Path) -> dict:
    latest = max((repo / "reports/retrain").glob("*.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(latest.read_text())


def aliases(repo: Path) -> dict[str, str]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo}/mlflow.db")
    return {k: str(v) for k, v in client.get_registered_model("rt").aliases.items()}


def runs_with_status(repo: Path, status: str) -> list:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo}/mlflow.db")
    experiment = client.get_experiment_by_name("rt")
    return client.search_runs([experiment.experiment_id], filter_string=f"attributes.status = '{status}'")


def assert_decision_follows_rule(report: dict, min_delta: float) -> None:
    decision = report["decision"]
    if decision["champion_score"] is None:  # no champion yet: the first model is promoted
        assert decision["decision"] == "promoted" and report["champion_before"] is None
        return
    accuracy = tasks.get("image_classification").metric("accuracy")
    expected = "promoted" if beats(decision["challenger_score"], decision["champion_score"], min_delta,
                                   accuracy) else "kept"
    assert decision["decision"] == expected == report["status"], decision


def test_first_retrain_promotes(repo):
    arrive(repo, 1)
    proc = retrain(repo)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = report_of(proc)
    assert report["status"] == "promoted" and report["data"]["arrivals"] == 250
    assert report["stages_run"][:2] == ["ingest", "validate"] and "register" in report["stages_run"]
    assert_decision_follows_rule(report, 0.0)
    assert aliases(repo) == {"champion": report["champion_after"]["version"]}
    assert (repo / "reports/retrain" / f"{report['job_id']}.md").read_text().startswith("# archlab retrain")


def test_retrain_killed_mid_training_leaves_the_champion(repo):
    before = aliases(repo)
    arrive(repo, 2)
    proc = subprocess.Popen(["archlab", "retrain"], cwd=repo, env=subprocess_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = repo / ".archlab/checkpoints"
    deadline = time.monotonic() + 300
    while not any(checkpoints.glob("shallow_mlp-*/*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the retrain ended before training could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)  # the job and every stage under it, as a scheduler's hard stop does
    proc.wait()
    assert aliases(repo) == before
    assert len(runs_with_status(repo, "RUNNING")) == 1  # the killed training run, closed by the next job


def test_retrain_after_the_kill_completes_and_follows_the_rule(repo):
    proc = retrain(repo)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = report_of(proc)
    # the killed job had already ingested batch 2: nothing is new to the workspace, but all of it is new to the
    # champion, so drift is measured on the whole dataset against the champion's training data
    assert report["data"]["arrivals"] == 0 and report["data"]["count_after"] == 500
    assert report["drift"]["compared"].startswith("the whole new dataset (500 samples")
    assert report["drift"]["level"] in ("none", "moderate")
    assert report["drift"]["reference"].startswith("training split of champion")
    assert_decision_follows_rule(report, 0.0)
    assert runs_with_status(repo, "RUNNING") == []
    assert len(runs_with_status(repo, "KILLED")) >= 1


def test_a_stricter_rule_keeps_the_champion(repo):
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("min_delta: 0.0", "min_delta: 0.5"))
    champion = aliases(repo)["champion"]
    arrive(repo, 3)
    proc = retrain(repo)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = report_of(proc)
    assert report["status"] == "kept" and report["data"]["count_after"] == 750
    assert_decision_follows_rule(report, 0.5)
    assert aliases(repo)["champion"] == champion
    assert aliases(repo)["challenger"] == report["decision"]["challenger_version"]


def test_a_drifted_batch_is_stopped_before_training(repo):
    lock_before, registry_before = (repo / "dvc.lock").read_text(), aliases(repo)
    arrive(repo, 4, "--drift", "invert")
    proc = retrain(repo)
    assert proc.returncode == 4, proc.stderr[-3000:]
    assert "drifted beyond the hard limit" in proc.stderr
    report = latest_report(repo)
    assert report["status"] == "blocked by drift" and report["exit_code"] == 4
    assert report["drift"]["scores"]["pixel_psi"] > 0.25 and report["data"]["arrivals"] == 250
    assert (repo / "dvc.lock").read_text() == lock_before and aliases(repo) == registry_before
    assert json.loads((repo / "data/ingested/meta.json").read_text())["count"] == 750
    for path in (repo / "data/raw").glob("*/b004-invert-*.png"):  # the reviewer removes the bad batch
        path.unlink()


def test_invalid_data_exits_3_and_changes_nothing(repo):
    bad = repo / "data/raw/x"
    bad.mkdir()
    shutil.copy(next((repo / "data/raw/0").glob("*.png")), bad / "lonely.png")
    try:
        proc = retrain(repo)
    finally:
        shutil.rmtree(bad)
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert latest_report(repo)["status"] == "invalid data"
    assert json.loads((repo / "data/ingested/meta.json").read_text())["count"] == 750


def test_two_retrains_at_once_one_runs_one_exits_75(repo):
    jobs = [subprocess.Popen(["archlab", "retrain"], cwd=repo, env=subprocess_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [job.communicate(timeout=600)[1] for job in jobs]  # reads both pipes to the end: no deadlock
    results = sorted((job.returncode, err) for job, err in zip(jobs, errors, strict=True))
    (code_a, err_a), (code_b, err_b) = results
    assert code_a == 0, err_a[-3000:]
    assert code_b == 75 and "held by another job (pid" in err_b
    assert latest_report(repo)["status"] == "kept"  # nothing new: up to date, champion kept
    assert runs_with_status(repo, "RUNNING") == []
