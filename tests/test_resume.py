"""A training stage killed with SIGKILL resumes from its last epoch when re-run; the orphaned MLflow run is
marked KILLED, not left RUNNING. Real subprocesses, real SQLite store."""

import json
import os
import signal
import subprocess
import sys
import time

import mlflow
import pandas as pd
import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow
EPOCHS = 30


def _command(tmp_path, dataset):
    return [sys.executable, str(ROOT / "stages/train.py"), "--params", str(tmp_path / "params.yaml"),
            "--arch", "shallow_mlp", "--data", str(dataset), "--validation", str(tmp_path / "validation.json"),
            "--model-dir", str(tmp_path / "models/shallow_mlp"), "--metrics", str(tmp_path / "m.json"),
            "--plots", str(tmp_path / "p.csv"), "--checkpoints", str(tmp_path / "ckpt")]


def test_killed_training_resumes_from_its_checkpoint(tmp_path, digits_dataset):
    (tmp_path / "validation.json").write_text(json.dumps({"success": True}))
    (tmp_path / "params.yaml").write_text(
        "project: {name: resume, seed: 1}\n"
        f"train: {{architectures: [shallow_mlp], shallow_mlp: {{epochs: {EPOCHS}, patience: 1000, batch_size: 8, "
        f"checkpoint_every_s: 0}}}}\n")  # a backup every epoch: the kill below lands after some
    env = subprocess_env(ARCHLAB_PIPELINE_RUN_ID="resume-test")
    env.pop("MLFLOW_TRACKING_URI", None)
    # its own process group: the kill below takes the stage and its MLflow worker at once, so no process is left
    # to end the run and the re-run's orphan check must
    first = subprocess.Popen(_command(tmp_path, digits_dataset), cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    history = None
    while time.monotonic() < deadline and first.poll() is None:
        found = list((tmp_path / "ckpt").glob("*/train/history.jsonl"))
        if found and len(found[0].read_text().splitlines()) >= 4:
            history = found[0]
            break
        time.sleep(0.05)
    assert history is not None, "training never reached epoch 4 (or ended first)"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before_kill = len(history.read_text().splitlines())
    assert done_before_kill < EPOCHS
    assert not (tmp_path / "models/shallow_mlp").exists() and not (tmp_path / "m.json").exists()

    second = subprocess.run(_command(tmp_path, digits_dataset), cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "resuming train from epoch" in second.stderr
    assert "marked KILLED" in second.stderr
    plot = pd.read_csv(tmp_path / "p.csv")
    assert plot["epoch"].tolist() == list(range(1, EPOCHS + 1))  # the epochs before the kill are kept
    assert json.loads((tmp_path / "m.json").read_text())["epochs_run"] == EPOCHS
    assert not (tmp_path / "ckpt").exists() or not any((tmp_path / "ckpt").iterdir())

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["resume"], output_format="list")
    assert sorted(run.info.status for run in runs) == ["FINISHED", "KILLED"]
    finished = next(run for run in runs if run.info.status == "FINISHED")
    steps = [m.step for m in mlflow.MlflowClient().get_metric_history(finished.info.run_id, "val_accuracy")]
    assert steps == list(range(1, EPOCHS + 1))


def test_sigterm_marks_the_run_killed(tmp_path, digits_dataset):
    (tmp_path / "validation.json").write_text(json.dumps({"success": True}))
    (tmp_path / "params.yaml").write_text(
        "project: {name: term, seed: 1}\n"
        "train: {architectures: [shallow_mlp], shallow_mlp: {epochs: 500, patience: 1000, batch_size: 8}}\n")
    env = subprocess_env()
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.Popen(_command(tmp_path, digits_dataset), cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not list((tmp_path / "ckpt").glob("*/train/history.jsonl")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    (run,) = mlflow.search_runs(experiment_names=["term"], output_format="list")
    assert run.info.status == "KILLED"
    assert not (tmp_path / "models/shallow_mlp").exists()
