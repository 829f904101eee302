"""The train stage's MLflow worker process: the stage never imports MLflow, runs end with the right status, an
error in the worker reaches the stage (and later calls fail fast), an unreachable store stops the stage before
training. Real worker processes, real SQLite store."""

import json
import subprocess
import sys
import time

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from archlab import tracking_worker
from archlab.errors import TrackingUnavailable
from tests.conftest import ROOT, make_params, subprocess_env
from tests.dvcrepo import free_port


@pytest.fixture
def params(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return make_params(project={"name": "worker", "seed": 1})


def _runs(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    return mlflow.search_runs(experiment_names=["worker"], output_format="list")


def test_a_finished_run_holds_what_the_stage_sent(params, tmp_path):
    with tracking_worker.run(params, run_name="w", tags={"archlab.stage": "train"}, project_root=tmp_path) as run:
        run.log_params({"width": 8})
        for epoch in (1, 2, 3):
            run.log_epoch("train", epoch, {"val_loss": 1.0 / epoch})
        run.set_tags({"archlab.device": "CPU"})
        run_id = run.run_id
    assert run.worker_seconds > 0 and run.waited_s < run.worker_seconds + 5
    (found,) = _runs(tmp_path)
    assert found.info.run_id == run_id and found.info.status == "FINISHED"
    assert found.data.params["width"] == "8" and found.data.tags["archlab.device"] == "CPU"
    assert found.data.tags["archlab.stage"] == "train" and found.data.tags["archlab.pipeline_run_id"]
    history = mlflow.MlflowClient().get_metric_history(run_id, "val_loss")
    assert [(m.step, m.value) for m in history] == [(1, 1.0), (2, 0.5), (3, 1.0 / 3)]


def test_an_error_in_the_worker_reaches_the_stage_and_the_run_ends_failed(params, tmp_path):
    with pytest.raises(MlflowException) as error:
        with tracking_worker.run(params, run_name="w", tags={}, project_root=tmp_path) as run:
            run.log_params({"bad?name": 1})  # MLflow refuses the key, in the worker
            run.log_metrics({"m": 1.0})  # queued before the refusal arrived: refused at once, same error
            _ = run.run_id  # the first call that waits raises the refusal
    assert "bad?name" in str(error.value)
    assert any("MLflow worker process" in note for note in getattr(error.value, "__notes__", []))
    (found,) = _runs(tmp_path)
    assert found.info.status == "FAILED" and "m" not in found.data.metrics


def test_a_stop_ends_the_run_killed(params, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with tracking_worker.run(params, run_name="w", tags={}, project_root=tmp_path) as run:
            _ = run.run_id
            raise KeyboardInterrupt("signal 15")
    (found,) = _runs(tmp_path)
    assert found.info.status == "KILLED"


def test_an_unreachable_server_stops_before_any_run(params, tmp_path, monkeypatch):
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.monotonic()
    with pytest.raises(TrackingUnavailable, match=uri):
        with tracking_worker.run(params, run_name="w", tags={}, project_root=tmp_path) as run:
            _ = run.run_id
    assert time.monotonic() - started < 60


@pytest.mark.slow  # a real train stage process (TensorFlow's import, two epochs)
def test_the_train_stage_process_never_imports_mlflow(tmp_path, digits_dataset):
    """The point of the worker: MLflow's import and store opening stay off the stage's critical path."""
    (tmp_path / "validation.json").write_text(json.dumps({"success": True}))
    (tmp_path / "params.yaml").write_text("project: {name: worker, seed: 1}\n"
                                          "train: {architectures: [shallow_mlp], shallow_mlp: {epochs: 2}}\n")
    argv = ["stages/train.py", "--params", str(tmp_path / "params.yaml"), "--arch", "shallow_mlp", "--data",
            str(digits_dataset), "--validation", str(tmp_path / "validation.json"), "--model-dir",
            str(tmp_path / "models/shallow_mlp"), "--metrics", str(tmp_path / "m.json"), "--plots",
            str(tmp_path / "p.csv"), "--checkpoints", str(tmp_path / "ckpt")]
    script = (f"import runpy, sys; sys.argv = {argv!r}; runpy.run_path({str(ROOT / 'stages/train.py')!r}, "
              "run_name='__main__'); print('mlflow imported:', 'mlflow' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=subprocess_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mlflow imported: False" in proc.stdout
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["mlflow_worker_seconds"] > 0
    (found,) = _runs(tmp_path)
    assert found.info.status == "FINISHED" and found.data.metrics["best_val_accuracy"] > 0
    info = json.loads((tmp_path / "models/shallow_mlp/info.json").read_text())
    assert info["run_id"] == found.info.run_id and info["model_uri"].startswith("models:/")
    served = mlflow.pyfunc.load_model(info["model_uri"])  # the logged model serves, though MLflow did not check
    assert list(served.predict(served.metadata.load_input_example()).columns[:2]) == ["label", "class_name"]


def test_a_stage_killed_alone_has_its_run_ended_killed_by_the_worker(tmp_path):
    """SIGKILL gives the stage no chance to end its run; its worker sees the pipe close and ends it KILLED (MLflow's
    own exit hook would have called it FINISHED)."""
    script = ("import sys, time\n"
              "from archlab import tracking_worker\n"
              "from tests.conftest import make_params\n"
              "params = make_params(project={'name': 'worker', 'seed': 1})\n"
              f"with tracking_worker.run(params, run_name='w', tags={{}}, project_root={str(tmp_path)!r}) as run:\n"
              "    print(run.run_id, flush=True)\n"
              "    time.sleep(600)\n")
    stage = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    run_id = stage.stdout.readline().strip()
    assert run_id, stage.stderr.read()
    stage.kill()
    stage.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlflow.db").get_run(
            run_id).info.status == "RUNNING":
        time.sleep(0.2)
    assert mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlflow.db").get_run(run_id).info.status == "KILLED"
