"""MLflow wiring: params' URI unless MLFLOW_TRACKING_URI is set, relative SQLite anchored at the project root."""

from archlab import tracking
from tests.conftest import make_params


def test_env_overrides_params(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert tracking.resolve_tracking_uri(make_params()) == "http://127.0.0.1:5999"


def test_relative_sqlite_is_anchored_at_the_root(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.resolve_tracking_uri(make_params(), tmp_path) == f"sqlite:///{tmp_path}/mlflow.db"


def test_experiment_defaults_to_project_name():
    assert tracking.experiment_name(make_params(project={"name": "zoo"})) == "zoo"
    assert tracking.experiment_name(make_params(mlflow={"experiment": "other"})) == "other"


def test_configure_creates_the_experiment_in_a_real_sqlite_store(monkeypatch, tmp_path):
    import mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    experiment_id = tracking.configure(make_params(project={"name": "wiring"}), tmp_path)
    assert (tmp_path / "mlflow.db").is_file()
    assert mlflow.get_experiment(experiment_id).name == "wiring"
    # MLflow's experiment kind: its UI opens the experiment on the training runs, not the GenAI overview
    assert mlflow.get_experiment(experiment_id).tags["mlflow.experimentKind"] == "custom_model_development"


def test_an_error_raised_while_a_stop_is_delivered_ends_the_run_killed(monkeypatch, tmp_path):
    """TensorFlow can turn the SIGTERM handler's KeyboardInterrupt into a TypeError (seen in CI): still KILLED."""
    import mlflow
    import pytest

    from archlab import interrupts, stagekit

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    params = make_params(project={"name": "stopped"})

    def swallowed_stop():
        with tracking.run(params, run_name="t", tags={}, project_root=tmp_path):
            with pytest.raises(KeyboardInterrupt):
                interrupts.request_stop(15)
            raise TypeError("Failed to convert elements of (None, 64) to Tensor")

    monkeypatch.setattr(interrupts, "_requested", [])
    with pytest.raises(SystemExit) as exited:
        stagekit.run(swallowed_stop)
    assert exited.value.code == 130
    (run,) = mlflow.search_runs(experiment_names=["stopped"], output_format="list")
    assert run.info.status == "KILLED"


def test_an_error_without_a_stop_ends_the_run_failed(monkeypatch, tmp_path):
    import mlflow
    import pytest

    from archlab import interrupts

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(interrupts, "_requested", [])
    with pytest.raises(TypeError), tracking.run(make_params(project={"name": "broken"}), run_name="t", tags={},
                                                project_root=tmp_path):
        raise TypeError("a real bug")
    (run,) = mlflow.search_runs(experiment_names=["broken"], output_format="list")
    assert run.info.status == "FAILED"
