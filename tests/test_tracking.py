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
