"""Team mode: a real `mlflow server` on PostgreSQL (127.0.0.1:5432, a fresh database per test module) serving the
artifacts itself; the pipeline, the registry and `archlab retrain` run against it with no code change, and a server
that is down stops a job in seconds with its address named."""

import json
import subprocess
import time
import uuid

import pytest

from tests.conftest import subprocess_env
from tests.dvcrepo import free_port, image_folder_params, make_repo, run, wait_for_health

PARAMS = image_folder_params("team", 5, shallow_mlp="{hidden_units: 16, epochs: 3, patience: 3}")
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"  # psycopg2 is the driver installed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database():
    import psycopg2

    name = f"archlab_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield f"{PG}/{name}"
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    port = free_port()
    artifacts = tmp_path_factory.mktemp("server-artifacts")
    proc = subprocess.Popen(["mlflow", "server", "--backend-store-uri", database, "--artifacts-destination",
                             str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    uri = f"http://127.0.0.1:{port}"
    wait_for_health(uri, proc)
    yield {"uri": uri, "artifacts": artifacts, "database": database}
    proc.terminate()
    proc.wait(timeout=30)


def test_retrain_runs_the_pipeline_and_registry_against_the_server(server, tmp_path):
    import psycopg2
    from mlflow import MlflowClient

    repo = make_repo(tmp_path, PARAMS)
    run(["archlab", "simulate-arrivals", "data/raw", "--batch", "1", "--batches", "2", "--limit", "400"], repo)
    proc = run(["archlab", "retrain", "--json"], repo, check=False, MLFLOW_TRACKING_URI=server["uri"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["status"] == "promoted"
    assert not (repo / "mlflow.db").exists()  # nothing went to the embedded store
    client = MlflowClient(tracking_uri=server["uri"])
    experiment = client.get_experiment_by_name("team")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs if not r.info.run_name.startswith("retrain-")) == [
        "baseline", "evaluation", "shallow_mlp"]
    assert {r.info.status for r in runs} == {"FINISHED"}
    champion = client.get_model_version_by_alias("team", "champion")
    assert champion.version == report["champion_after"]["version"]
    assert list(server["artifacts"].rglob("data_profile.json"))  # artifacts served by the server, stored there
    dsn = server["database"].replace("postgresql+psycopg2://", "postgresql://")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE experiment_id = %s", (experiment.experiment_id,))
        assert cur.fetchone()[0] == len(runs)  # the runs live in PostgreSQL


def test_a_server_that_is_down_stops_the_job_in_seconds(tmp_path):
    repo = make_repo(tmp_path, PARAMS)
    run(["archlab", "simulate-arrivals", "data/raw", "--batch", "1", "--batches", "2", "--limit", "400"], repo)
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    proc = run(["archlab", "retrain"], repo, check=False, MLFLOW_TRACKING_URI=dead)
    assert time.monotonic() - started < 60
    assert proc.returncode == 5, proc.stderr[-3000:]
    assert f"MLflow tracking server {dead} is not reachable" in proc.stderr
    assert not (repo / "data/ingested").exists() and not (repo / "models").exists()
