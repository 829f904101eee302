"""The retrain job's state on fresh machines, with real parts only: git remotes as bare repos on disk, a DVC remote
folder, a DVC import of a data folder outside the project, and one MLflow store the clones share (a team's server
stand-in). Each "machine" is a fresh `git clone` of the bare remote."""

import json
import sqlite3

import pytest

from tests.dvcrepo import image_folder_params, make_repo, run

pytestmark = pytest.mark.slow

# The smallest pipeline: the classical baseline alone (the state, not the training, is under test here)
PARAMS = image_folder_params("remote", 3, shallow_mlp="{hidden_units: 16, epochs: 3, patience: 3}",
                             keras=False).replace("path: data/raw", "path: data/incoming")


def clone(origin, folder, branch: str = "main"):
    run(["git", "clone", "-q", "--branch", branch, str(origin), str(folder)], folder.parent)
    run(["git", "config", "user.email", "runner@archlab.invalid"], folder)
    run(["git", "config", "user.name", "archlab runner"], folder)
    return folder


def training_runs(store) -> int:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT count(*) FROM runs WHERE name NOT LIKE 'retrain-%'").fetchone()[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The bare git remote holding the project (DVC remote and data import configured), after clone A ran the
    pipeline, pushed its DVC outputs and run cache, and pushed dvc.lock with git."""
    base = tmp_path_factory.mktemp("world")
    origin, store, incoming = base / "origin.git", base / "dvcstore", base / "incoming"
    run(["archlab", "simulate-arrivals", str(incoming), "--batch", "1", "--batches", "2", "--limit", "400"], base)
    run(["git", "init", "-q", "--bare", "--initial-branch", "main", str(origin)], base)
    seed = make_repo(base, PARAMS)
    run(["git", "branch", "-M", "main"], seed)
    run(["archlab", "remote", "add", str(store)], seed)
    run(["dvc", "import-url", str(incoming), "data/incoming"], seed)
    run(["git", "add", "-A"], seed)
    run(["git", "commit", "-q", "-m", "data import and DVC remote"], seed)
    run(["git", "remote", "add", "origin", str(origin)], seed)
    run(["git", "push", "-q", "origin", "main"], seed)
    mlflow_uri = f"sqlite:///{base / 'shared-mlflow.db'}"
    a = clone(origin, base / "a")
    run(["archlab", "remote", "pull"], a)  # nothing pushed yet; the import is fetched from its source
    assert (a / "data/incoming").is_dir()
    run(["dvc", "repro"], a, timeout=900, MLFLOW_TRACKING_URI=mlflow_uri)
    pushed = run(["archlab", "remote", "push"], a)
    run(["git", "add", "-A"], a)
    run(["git", "commit", "-q", "-m", "pipeline run on clone A"], a)
    run(["git", "push", "-q", "origin", "main"], a)
    return {"base": base, "origin": origin, "store": store, "incoming": incoming, "mlflow_uri": mlflow_uri,
            "mlflow_db": base / "shared-mlflow.db", "pushed": pushed.stdout}


def test_a_fresh_clone_pulls_and_retrains_nothing(world, tmp_path):
    assert "pushed to DVC remote archlab" in world["pushed"]
    b = clone(world["origin"], tmp_path / "b")
    run(["archlab", "remote", "pull"], b)
    runs_before = training_runs(world["mlflow_db"])
    proc = run(["dvc", "repro"], b, MLFLOW_TRACKING_URI=world["mlflow_uri"])
    assert "Running stage" not in proc.stdout, proc.stdout
    assert "didn't change" in proc.stdout or "up to date" in proc.stdout
    assert training_runs(world["mlflow_db"]) == runs_before  # no MLflow training run created
    assert run(["dvc", "status"], b).stdout.strip() == "Data and pipelines are up to date."
    assert (b / "models/baseline/info.json").is_file()  # the trained model came from the DVC remote


def test_new_data_at_the_import_is_retrained_on_a_third_clone_and_written_back(world, tmp_path):
    run(["archlab", "simulate-arrivals", str(world["incoming"]), "--batch", "2", "--batches", "2", "--limit", "400"],
        world["base"])
    c = clone(world["origin"], tmp_path / "c")
    run(["archlab", "remote", "pull"], c)  # what the workflow does first
    proc = run(["archlab", "retrain", "--write-back", "--json"], c, timeout=900,
               MLFLOW_TRACKING_URI=world["mlflow_uri"])
    report = json.loads(proc.stdout)
    assert report["imports"] == [{"file": "data/incoming.dvc", "changed": True}]
    assert report["data"]["arrivals"] == 200 and report["data"]["removed"] == 0  # exactly batch 2's images
    assert "train@baseline" in report["stages_run"] and "register" in report["stages_run"]
    decision = report["decision"]
    assert report["status"] == decision["decision"] in ("promoted", "kept")
    assert decision["champion_version"] is not None  # judged against clone A's champion in the shared store
    better = decision["challenger_score"] > decision["champion_score"]
    assert (decision["decision"] == "promoted") == better
    assert report["dvc_push"]["pushed"] is True
    back = report["write_back"]
    branch = f"retrain/{report['job_id']}"
    assert back["committed"] and back["branch"] == branch
    assert {"dvc.lock", "data/incoming.dvc", "metrics/evaluate.json"} <= set(back["files"])
    remote_lock = run(["git", "--git-dir", str(world["origin"]), "show", f"{branch}:dvc.lock"], c).stdout
    assert remote_lock == (c / "dvc.lock").read_text()

    b = clone(world["origin"], tmp_path / "b", branch=branch)
    run(["archlab", "remote", "pull"], b)
    assert run(["dvc", "status"], b).stdout.strip() == "Data and pipelines are up to date."

    branches = run(["git", "--git-dir", str(world["origin"]), "branch", "--list"], c).stdout.split()
    again = json.loads(run(["archlab", "retrain", "--write-back", "--json"], c, timeout=900,
                           MLFLOW_TRACKING_URI=world["mlflow_uri"]).stdout)
    assert again["imports"] == [{"file": "data/incoming.dvc", "changed": False}]
    assert again["stages_run"] == [] and again["write_back"]["committed"] is False
    assert run(["git", "--git-dir", str(world["origin"]), "branch", "--list"], c).stdout.split() == branches
    print(f"retrain on clone C: {report['status']} ({decision['reason']}); stages run {len(report['stages_run'])}; "
          f"commit {back['commit'][:12]} on {branch} with {len(back['files'])} files; second retrain: "
          f"{again['status']}, {again['write_back']['reason']}")


def test_a_refused_push_fails_the_job_loudly(world, tmp_path):
    """The remote refuses the branch (a pre-receive hook, as a protected branch would): exit 1, git's words in
    the report, the registry decision recorded."""
    c = clone(world["origin"], tmp_path / "c")
    run(["archlab", "remote", "pull"], c)
    hook = world["origin"] / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'refusing retrain branches' >&2\nexit 1\n")
    hook.chmod(0o755)
    try:
        (c / "params.yaml").write_text(PARAMS.replace("C: 1.0", "C: 0.5"))  # something to retrain
        proc = run(["archlab", "retrain", "--write-back", "--json"], c, check=False, timeout=900,
                   MLFLOW_TRACKING_URI=world["mlflow_uri"])
    finally:
        hook.unlink()
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "refusing retrain branches" in proc.stderr
    report = json.loads(next((c / "reports/retrain").glob("*.json")).read_text())
    assert report["status"] == "write-back failed" and "refusing retrain branches" in report["write_back"]["error"]
    assert report["decision"]["decision"] in ("promoted", "kept")
