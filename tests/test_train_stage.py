"""The train stage end to end in-process, against a real SQLite MLflow store: outputs, run contents, failures."""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from archlab.errors import ParamsError, ValidationFailed
from archlab.training.run import train
from tests.conftest import make_params


@pytest.fixture
def project(tmp_path, digits_dataset, monkeypatch):
    """A temp project root with ingested digits, a passed validation report and its own mlflow.db."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("ARCHLAB_PIPELINE_RUN_ID", "test-pipeline-1")
    report = tmp_path / "validation.json"
    report.write_text(json.dumps({"success": True}))
    return tmp_path


def _train(project, name, dataset, **train_block):
    params = make_params(project={"name": "unit", "seed": 3}, train={"architectures": [name], name: train_block})
    return train(params, name, data_dir=dataset, validation_report=project / "validation.json",
                 model_dir=project / "models" / name, metrics_path=project / "metrics" / f"{name}.json",
                 plots_path=project / "plots" / f"{name}.csv", checkpoint_root=project / "ckpt", project_root=project)


def _runs(project):
    mlflow.set_tracking_uri(f"sqlite:///{project}/mlflow.db")
    return mlflow.search_runs(experiment_names=["unit"], output_format="list")


def test_outputs_and_mlflow_run(project, digits_dataset):
    metrics = _train(project, "shallow_mlp", digits_dataset, epochs=3, hidden_units=32)
    assert json.loads((project / "metrics/shallow_mlp.json").read_text()) == metrics
    assert set(metrics) >= {"best_val_accuracy", "epochs_run", "train_seconds", "param_count"}
    assert metrics["epochs_run"] == 3 and metrics["param_count"] == 64 * 32 + 32 + 32 * 10 + 10
    plot = pd.read_csv(project / "plots/shallow_mlp.csv")
    assert plot["epoch"].tolist() == [1, 2, 3] and plot["val_accuracy"].notna().all()
    assert not (project / "ckpt").exists() or not any((project / "ckpt").iterdir())

    (run,) = _runs(project)
    assert run.info.status == "FINISHED" and run.info.run_name == "shallow_mlp"
    assert run.data.params["hidden_units"] == "32" and run.data.params["epochs"] == "3"
    assert run.data.params["architecture"] == "shallow_mlp" and run.data.params["learning_rate"] == "0.001"
    tags = run.data.tags
    assert tags["archlab.pipeline_run_id"] == "test-pipeline-1"
    assert tags["archlab.family"] == "mlp" and tags["archlab.device"] == "CPU"
    assert tags["archlab.backend"] == "tensorflow" and len(tags["archlab.data_hash"]) == 16
    assert "archlab.git_commit" in tags
    assert run.data.metrics["best_val_accuracy"] == metrics["best_val_accuracy"]
    history = MlflowClient().get_metric_history(run.info.run_id, "val_accuracy")
    assert [m.step for m in history] == [1, 2, 3]
    contexts = {i.tags[0].value for i in run.inputs.dataset_inputs}
    assert contexts == {"training", "validation"}

    info = json.loads((project / "models/shallow_mlp/info.json").read_text())
    assert info["run_id"] == run.info.run_id
    pyfunc = mlflow.pyfunc.load_model(info["model_uri"])
    images = np.load(digits_dataset / "images.npy")[:5].astype(np.float32)
    predicted = pyfunc.predict(images)
    assert list(predicted.columns[:2]) == ["label", "class_name"] and len(predicted) == 5
    from archlab import modelio

    local = modelio.predict_proba(modelio.load(project / "models/shallow_mlp"), images)
    np.testing.assert_array_equal(predicted["label"].to_numpy(), local.argmax(axis=1))
    assert list(pyfunc.metadata.signature.inputs.to_dict()[0]["tensor-spec"]["shape"]) == [-1, 8, 8, 1]


def test_classical_architecture_is_tracked_too(project, digits_dataset):
    metrics = _train(project, "baseline", digits_dataset)
    assert metrics["best_val_accuracy"] > 0.9 and (project / "models/baseline/model.skops").is_file()
    (run,) = _runs(project)
    assert run.info.status == "FINISHED" and run.data.tags["archlab.family"] == "classical"


def test_a_run_that_raises_is_failed_and_leaves_no_outputs(project, digits_dataset):
    with pytest.raises(ParamsError, match="patch_size"):
        _train(project, "transformer", digits_dataset, patch_size=16, epochs=1)
    (run,) = _runs(project)
    assert run.info.status == "FAILED"
    assert not (project / "models/transformer").exists()
    assert not (project / "metrics/transformer.json").exists()
    assert not list((project / "models").glob(".*tmp*"))


def test_training_refuses_data_that_failed_validation(project, digits_dataset):
    (project / "validation.json").write_text(json.dumps({"success": False}))
    with pytest.raises(ValidationFailed, match="failed validation"):
        _train(project, "baseline", digits_dataset)


def test_train_params_errors_name_the_key():
    with pytest.raises(ParamsError) as info:
        make_params(train={"architectures": ["cnn", "resnet"], "cnn": {"filterz": [8]},
                           "lstm": {"units": "many"}, "mystery": {}})
    message = str(info.value)
    assert "train.architectures: unknown architecture 'resnet'" in message
    assert "train.cnn.filterz: unknown key" in message
    assert "train.lstm.units" in message and "'many'" in message
    assert "train.mystery: unknown key" in message


def test_deep_mlp_needs_three_hidden_layers():
    with pytest.raises(ParamsError, match=r"train\.deep_mlp\.hidden_units"):
        make_params(train={"deep_mlp": {"hidden_units": [64, 32]}})


def test_a_classical_architecture_trains_without_importing_keras(tmp_path, digits_dataset):
    """The baseline stage skips Keras and TensorFlow (~4 s of imports, longer than it trains)."""
    import subprocess
    import sys

    from tests.conftest import ROOT, subprocess_env

    (tmp_path / "validation.json").write_text(json.dumps({"success": True}))
    (tmp_path / "params.yaml").write_text("project: {name: classical, seed: 3}\ntrain: {architectures: [baseline]}\n")
    driver = tmp_path / "driver.py"  # runs the stage, then says which heavy modules it imported
    driver.write_text("import runpy, sys\nsys.argv = sys.argv[1:]\ntry:\n    runpy.run_path(sys.argv[0], "
                      "run_name='__main__')\nfinally:\n    print('keras imported:', 'keras' in sys.modules, "
                      "'tensorflow' in sys.modules)\n")
    proc = subprocess.run(
        [sys.executable, str(driver), str(ROOT / "stages/train.py"), "--params", "params.yaml", "--arch", "baseline",
         "--data", str(digits_dataset), "--validation", "validation.json", "--model-dir", "models/baseline",
         "--metrics", "m.json", "--plots", "p.csv", "--checkpoints", "ckpt"],
        cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "keras imported: False False" in proc.stdout
    assert json.loads((tmp_path / "m.json").read_text())["best_val_accuracy"] > 0.85
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    (run,) = mlflow.search_runs(experiment_names=["classical"], output_format="list")
    assert run.data.tags["archlab.backend"] == "scikit-learn" and run.info.status == "FINISHED"
