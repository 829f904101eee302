"""Team mode: a real `mlflow server` on PostgreSQL (127.0.0.1:5432, a fresh database per test module) serving the
artifacts itself; the pipeline, the registry and `archlab retrain` run against it with no code change, and a server
that is down stops a job in seconds with its address named."""

import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from tests.conftest import subprocess_env
from tests.dvcrepo import free_port, image_folder_params, make_repo, run, wait_for_health

# The retrain jobs run the classical baseline alone (the store, registry, artifacts and faults are under test, not
# the training): a Keras model's runs and artifacts on the server are the queued experiments' below
PARAMS = image_folder_params("team", 5, shallow_mlp="{}", keras=False)
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


def start_server(database: str, artifacts, port: int) -> subprocess.Popen:
    """`mlflow server` on PostgreSQL serving its own artifacts, answering /health when this returns."""
    proc = subprocess.Popen(["mlflow", "server", "--backend-store-uri", database, "--artifacts-destination",
                             str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # killed as a group: the gunicorn/uvicorn workers go too
    wait_for_health(f"http://127.0.0.1:{port}", proc)
    return proc


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    port = free_port()
    artifacts = tmp_path_factory.mktemp("server-artifacts")
    proc = start_server(database, artifacts, port)
    uri = f"http://127.0.0.1:{port}"
    yield {"uri": uri, "artifacts": artifacts, "database": database}
    os.killpg(proc.pid, signal.SIGTERM)
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
        "baseline", "evaluation"]
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


def test_a_server_killed_mid_training_fails_the_stage_cleanly_and_a_rerun_completes(server, tmp_path,
                                                                                  digits_dataset):
    import sys

    from mlflow import MlflowClient

    from tests.conftest import ROOT

    (tmp_path / "validation.json").write_text(json.dumps({"success": True}))
    (tmp_path / "params.yaml").write_text(
        "project: {name: midrun, seed: 1}\n"
        "train: {architectures: [shallow_mlp], shallow_mlp: {epochs: 12, patience: 1000, batch_size: 8, "
        "checkpoint_every_s: 0}}\n")
    command = [sys.executable, str(ROOT / "stages/train.py"), "--params", str(tmp_path / "params.yaml"),
               "--arch", "shallow_mlp", "--data", str(digits_dataset), "--validation",
               str(tmp_path / "validation.json"), "--model-dir", str(tmp_path / "models/shallow_mlp"),
               "--metrics", str(tmp_path / "m.json"), "--plots", str(tmp_path / "p.csv"),
               "--checkpoints", str(tmp_path / "ckpt")]
    port = free_port()
    own = start_server(server["database"], server["artifacts"], port)  # a second server on the same store: killed
    uri = f"http://127.0.0.1:{port}"
    try:
        stage = subprocess.Popen(command, cwd=tmp_path, env=subprocess_env(MLFLOW_TRACKING_URI=uri),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and stage.poll() is None:
            found = list((tmp_path / "ckpt").glob("*/train/history.jsonl"))
            if found and len(found[0].read_text().splitlines()) >= 3:
                break
            time.sleep(0.1)
        os.killpg(own.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        _, stderr = stage.communicate(timeout=180)
        took = time.monotonic() - killed_at
    finally:
        if own.poll() is None:
            os.killpg(own.pid, signal.SIGKILL)
        own.wait()
    assert stage.returncode == 5, stderr[-3000:]
    assert f"MLflow tracking server {uri} stopped answering during this run" in stderr
    assert "Traceback" not in stderr
    assert took < 90
    assert not any((tmp_path / "models").iterdir()) and not (tmp_path / "m.json").exists()  # nothing published

    restarted = start_server(server["database"], server["artifacts"], port)
    try:
        rerun = subprocess.run(command, cwd=tmp_path, env=subprocess_env(MLFLOW_TRACKING_URI=uri),
                               capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        assert "resuming train from epoch" in rerun.stderr
        client = MlflowClient(tracking_uri=uri)
        runs = client.search_runs([client.get_experiment_by_name("midrun").experiment_id])
        assert sorted(r.info.status for r in runs) == ["FINISHED", "KILLED"]
        assert json.loads((tmp_path / "m.json").read_text())["epochs_run"] == 12
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=30)


def test_queued_experiments_run_in_parallel_against_the_server(server, tmp_path):
    from mlflow import MlflowClient

    from tests.dvcrepo import digits_params, run_queued_experiments
    from tests.test_parallel_experiments import max_overlap

    repo = make_repo(tmp_path, digits_params("teamqueue"))
    status = run_queued_experiments(repo, ["train.baseline.C=0.1", "train.baseline.C=1.0"], jobs=2,
                                    MLFLOW_TRACKING_URI=server["uri"])
    assert status.count("Success") == 2, status
    assert not (repo / "mlflow.db").exists()
    client = MlflowClient(tracking_uri=server["uri"])
    runs = client.search_runs([client.get_experiment_by_name("teamqueue").experiment_id])
    baseline = [r for r in runs if r.info.run_name == "baseline"]
    assert sorted(r.data.params["C"] for r in baseline) == ["0.1", "1.0"]
    assert len({r.data.tags["archlab.dvc_experiment"] for r in baseline}) == 2
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert max_overlap(runs) >= 2  # the two pipelines really overlapped on the server


def _race_clone(root, server_uri: str, C: float, dataset):
    """A clone with its own params, lock file and one trained baseline (C sets how good it is), on the server."""
    import yaml

    from archlab.params import load_params
    from tests.conftest import project_dir, train_and_evaluate

    root.mkdir()
    (root / "params.yaml").write_text(yaml.safe_dump({
        "project": {"name": "race", "seed": 1}, "mlflow": {"tracking_uri": server_uri},
        "train": {"architectures": ["baseline"], "feature_heads": [], "baseline": {"C": C}},
        "evaluate": {"bootstrap_resamples": 100, "latency_calls": 5, "learning_curve": []},
        "register": {"min_delta": 0.0}}))
    with project_dir(root):
        train_and_evaluate(load_params(root / "params.yaml"), ["baseline"], dataset, root)
    return root


def _register_stage(root, dataset, decision, lock_uri: str, server_uri: str, log) -> subprocess.Popen:
    """The register stage of one clone as a process of its own, its stderr (the lock messages) into `log`."""
    from tests.conftest import ROOT

    command = ["python", str(ROOT / "stages/register.py"), "--params", "params.yaml", "--data", str(dataset),
               "--models", "models", "--evaluation", "metrics/evaluate.json", "--decision", str(decision)]
    with open(log, "w") as stderr:
        return subprocess.Popen(command, cwd=root, env=subprocess_env(MLFLOW_TRACKING_URI=server_uri,
                                                                        ARCHLAB_LOCK_URI=lock_uri),
                                stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def _wait_until_all_wait_for_the_lock(logs: dict, procs: dict, timeout: float = 300) -> None:
    """Until every register process has said it is waiting for the promotion lock (the test holds it)."""
    deadline = time.monotonic() + timeout
    while not all("waiting for the promotion lock" in path.read_text() for path in logs.values()):
        for name, proc in procs.items():
            assert proc.poll() is None, f"{name} exited {proc.returncode} before waiting: {logs[name].read_text()}"
        assert time.monotonic() < deadline, {name: path.read_text()[-2000:] for name, path in logs.items()}
        time.sleep(0.2)


def test_two_clones_promoting_at_once_move_champion_one_at_a_time(server, tmp_path, digits_session_dataset):
    """Two clones (separate folders, so separate file locks) run the register stage at the same moment against one
    PostgreSQL-backed server with ARCHLAB_LOCK_URI, twice. Before each round @champion is a weak model, and the test
    holds the promotion lock until both stages are waiting for it, so every round overlaps by construction (no timing
    guess; more rounds would only repeat it). Every round exactly one decision replaces the weak champion; the other
    was made against the new champion (it re-read the aliases) and promotes only when strictly better; @previous
    names the model the final champion replaced; both aliases load and predict."""
    import mlflow
    import psycopg2
    from mlflow import MlflowClient

    from archlab import model_registry as reg
    from archlab.data.store import read_dataset
    from archlab.evaluation.split import test_split
    from archlab.promotion_lock import advisory_key

    uri, lock_uri = server["uri"], server["database"]
    clones = {name: _race_clone(tmp_path / name, uri, C, digits_session_dataset)
              for name, C in (("a", 1.0), ("b", 0.002), ("weak", 1e-5))}
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    weak_info = json.loads((clones["weak"] / "models/baseline/info.json").read_text())
    weak = reg.register_version("race", weak_info["model_uri"], weak_info["run_id"], description="weak",
                                tags={"archlab.architecture": "baseline"})
    x_test, _, _ = test_split(read_dataset(digits_session_dataset))
    holder = psycopg2.connect(lock_uri.replace("postgresql+psycopg2://", "postgresql://"))
    holder.autocommit = True
    for round_ in range(2):
        client.set_registered_model_alias("race", "champion", weak.version)
        for alias in ("previous", "challenger"):
            reg.delete_alias("race", alias)
        logs = {name: tmp_path / f"{name}-{round_}.log" for name in ("a", "b")}
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (advisory_key("race"),))
        try:
            procs = {name: _register_stage(clones[name], digits_session_dataset, tmp_path / f"{name}-{round_}.json",
                                           lock_uri, uri, logs[name]) for name in ("a", "b")}
            _wait_until_all_wait_for_the_lock(logs, procs)
        finally:
            with holder.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (advisory_key("race"),))
        for name, proc in procs.items():
            assert proc.wait(timeout=300) == 0, logs[name].read_text()[-3000:]
        decisions = {name: json.loads((tmp_path / f"{name}-{round_}.json").read_text()) for name in procs}
        assert all("PostgreSQL advisory lock" in d["lock"] for d in decisions.values())
        first = [d for d in decisions.values() if d["champion_version"] == str(weak.version)]
        assert len(first) == 1, f"round {round_}: {decisions}"  # exactly one decision saw the weak champion
        first = first[0]
        second = next(d for d in decisions.values() if d is not first)
        assert first["decision"] == "promoted"
        assert second["champion_version"] == first["challenger_version"]  # judged against the new champion
        assert second["champion_score"] == pytest.approx(first["challenger_score"])
        strictly_better = second["challenger_score"] > first["challenger_score"]
        assert second["decision"] == ("promoted" if strictly_better else "kept"), second
        champion = client.get_model_version_by_alias("race", "champion")
        previous = client.get_model_version_by_alias("race", "previous")
        final, replaced = (second, first) if strictly_better else (first, None)
        assert champion.version == final["challenger_version"]
        assert previous.version == (replaced["challenger_version"] if replaced else str(weak.version))
        for version in (champion.version, previous.version):  # never an alias on a model that fails to load
            frame = mlflow.pyfunc.load_model(f"models:/race/{version}").predict(x_test[:5].astype("float32"))
            assert len(frame) == 5
    holder.close()
