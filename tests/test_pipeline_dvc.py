"""The real `dvc repro` on a temp git+DVC repo: runs, is a no-op when nothing changed, re-runs exactly what a
param change touches, and stops at validate when the data fails the suite."""

import json
import shutil

import pytest

from tests.dvcrepo import SHARED_PARAMS, changed_stages, copy_repo, make_repo, repro_on_a_ray_cluster, run

PARAMS = SHARED_PARAMS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(shared_pipeline, tmp_path_factory):
    """This module's own copy of the session's pipeline: its tests change params and re-run."""
    return copy_repo(shared_pipeline, tmp_path_factory.mktemp("dvc") / "repo")


def test_repro_writes_declared_outputs(repo):
    meta = json.loads((repo / "data/ingested/meta.json").read_text())
    assert meta["count"] == 1797 and meta["seed"] == 7
    assert json.loads((repo / "reports/validation.json").read_text())["success"] is True
    assert (repo / "reports/data_docs/index.html").is_file()
    assert (repo / "reports/ingest_rejected.csv").read_text().strip() == "source_ref,reason"
    lock = (repo / "dvc.lock").read_text()
    assert "ingest:" in lock and "validate:" in lock
    from tests.test_scoring import page_problems

    page = (repo / "reports/evaluation.html").read_text()
    assert page_problems(page) == [] and "<figcaption>training curves</figcaption>" in page


def test_train_stages_record_models_metrics_and_one_pipeline_run(repo):
    import mlflow

    for name in ("baseline", "cnn"):
        assert (repo / f"models/{name}/info.json").is_file()
        assert json.loads((repo / f"metrics/train/{name}.json").read_text())["best_val_accuracy"] > 0.1
        assert (repo / f"plots/train/{name}.csv").is_file()
    mlflow.set_tracking_uri(f"sqlite:///{repo}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["e2e"], output_format="list")
    assert sorted(r.info.run_name for r in runs) == ["baseline", "cnn", "evaluation", "pretrained_head"]
    ids = {r.data.tags["archlab.pipeline_run_id"] for r in runs}
    # built by `archlab repro` (a DVC process per stage): every stage shares the id it handed down; one plain
    # `dvc repro`'s stages share the id of their DVC process (test_metrics_diff_shows_a_changed_architecture)
    assert len(ids) == 1 and ids.pop().startswith("repro-")
    (head,) = [r for r in runs if r.info.run_name == "pretrained_head"]
    assert head.data.tags["archlab.backbone"] == "vgg16" and head.data.tags["archlab.weights_source"] == "hed-bsds500"
    assert len(head.data.tags["archlab.weights_sha256"]) == 64
    assert "BSDS500" in head.data.tags["archlab.weights_description"]
    assert "features" in {i.tags[0].value for i in head.inputs.dataset_inputs}


def test_cnn_param_change_touches_only_the_cnn_stages(repo):
    """train.cnn is read by train@cnn and tune@cnn (which, with tune.trials 0, rewrites the same empty choice)."""
    params = repo / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("cnn: {epochs: 2,", "cnn: {epochs: 3,"))
    try:
        assert changed_stages(repo) == {"tune@cnn", "train@cnn"}
    finally:
        params.write_text(original)


def test_head_param_change_reuses_the_cached_features(repo):
    params = repo / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("hidden_units: 16}", "hidden_units: 32}"))
    try:
        # featurize is not re-run; the head's study (tune.trials 0: the same empty choice) reads its block
        assert changed_stages(repo) == {"tune_head@pretrained_head", "train_head@pretrained_head"}
    finally:
        params.write_text(original)


def test_second_repro_is_a_no_op(repo):
    out = run(["dvc", "repro"], repo).stdout
    assert "didn't change, skipping" in out and "Running stage" not in out
    assert changed_stages(repo) == set()


def test_a_project_without_reports_and_features_runs(repo):
    """No stage depends on a file a user may not have: the scratch project was made without reports/bench.json or
    data/features/ (tests.dvcrepo copies neither), and after `rm -rf reports data/features` `dvc repro` puts back
    the stages' outputs and the claims still cite the benchmark's evidence."""
    shutil.rmtree(repo / "reports")
    shutil.rmtree(repo / "data/features")
    run(["dvc", "repro"], repo)
    assert (repo / "data/features/vgg16/train.npy").is_file() and (repo / "reports/evaluation.html").is_file()
    assert "not measured" not in (repo / "reports/claims.md").read_text().split("RBMs are used", 1)[1].split("\n")[0]
    assert changed_stages(repo) == set()


def test_validate_param_change_touches_only_validate(repo):
    params = repo / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("min_per_class: 5", "min_per_class: 6"))
    try:
        assert changed_stages(repo) == {"validate"}
    finally:
        params.write_text(original)


def test_ingest_param_change_reruns_ingest_and_downstream(repo):
    params = repo / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("seed: 7", "seed: 8"))
    try:
        # the seed is a declared param of ingest, every tune and train stage (weight init), learning_curve (its
        # subsets) and evaluate (bootstrap)
        assert changed_stages(repo) == {"ingest", "tune@baseline", "tune@cnn", "train@baseline", "train@cnn",
                                        "learning_curve", "evaluate", "featurize", "tune_head@pretrained_head",
                                        "train_head@pretrained_head"}
        # ingest and validate really run; what follows them is planned by a dry run (the full re-run of every
        # downstream stage costs a minute and the plan is what is under test)
        out = run(["dvc", "repro", "validate"], repo).stdout
        assert "Running stage 'ingest'" in out and "Running stage 'validate'" in out
        assert json.loads((repo / "data/ingested/meta.json").read_text())["seed"] == 8
        planned = run(["dvc", "repro", "--dry"], repo).stdout
        for stage in ("train@cnn", "train@baseline", "featurize", "evaluate", "register"):
            assert f"Running stage '{stage}'" in planned, stage
    finally:
        params.write_text(original)
        run(["dvc", "repro"], repo)


def test_failed_validation_stops_the_pipeline(tmp_path):
    repo = make_repo(tmp_path, PARAMS.replace("min_per_class: 5", "min_per_class: 500"))
    proc = run(["dvc", "repro"], repo, check=False)
    assert proc.returncode != 0
    assert "critical expectation(s) failed" in proc.stderr
    assert "class_counts.column_values_to_be_between.count" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "validate" in changed_stages(repo)  # not recorded as done in dvc.lock


def test_bad_params_stop_ingest_with_the_key_path(tmp_path):
    repo = make_repo(tmp_path, PARAMS.replace("source: digits", "source: digits, colour_mode: rgb"))
    proc = run(["dvc", "repro"], repo, check=False)
    assert proc.returncode != 0
    assert "ingest.colour_mode: unknown key" in proc.stderr
    assert not (repo / "data/ingested").exists()


def test_evaluate_and_register_complete_the_pipeline(repo):
    board = (repo / "reports/leaderboard.md").read_text()
    assert "baseline" in board and "cnn" in board
    decision = json.loads((repo / "reports/register.json").read_text())
    # earlier tests in this module re-ran the pipeline: the first run promoted, later ones may keep
    assert decision["decision"] in {"promoted", "kept"} and decision["registered_model"] == "e2e"
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repo}/mlflow.db")
    champion = client.get_model_version_by_alias("e2e", "champion")
    assert champion.tags["archlab.architecture"] in {"baseline", "cnn", "pretrained_head"}
    assert set(json.loads((repo / "metrics/evaluate.json").read_text())) == {"baseline", "cnn", "pretrained_head"}


def test_metrics_diff_shows_a_changed_architecture(repo):
    """Runs late in this module: it commits the results, changes train.cnn.epochs and re-runs."""
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "results"], repo)
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("cnn: {epochs: 2,", "cnn: {epochs: 3,"))
    out = run(["dvc", "repro"], repo).stdout
    assert "Running stage 'train@cnn'" in out and "Running stage 'train@baseline'" not in out
    assert "Running stage 'evaluate'" in out and "Running stage 'register'" in out
    diff = json.loads(run(["dvc", "metrics", "diff", "--json"], repo).stdout)
    assert diff["metrics/train/cnn.json"]["epochs_run"] == {"old": 2, "new": 3, "diff": 1}
    assert "metrics/train/baseline.json" not in diff
    assert any(key.startswith("cnn.") for key in diff["metrics/evaluate.json"])
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("e2e").experiment_id],
                              order_by=["attributes.start_time DESC"], max_results=2)  # train@cnn's, evaluate's
    assert sorted(r.info.run_name for r in runs) == ["cnn", "evaluation"]
    ids = {r.data.tags["archlab.pipeline_run_id"] for r in runs}
    assert len(ids) == 1 and ids.pop().startswith("dvc-")  # the stages of one `dvc repro` share its id


def test_tune_params_without_trials_leave_the_train_stages_alone(repo):
    """With `tune.trials: 0` a tune setting change re-runs the tune stages, which write the same empty choice:
    dvc.lock's train, evaluate and register entries stay as they were and nothing is trained."""
    import yaml

    def train_entries() -> dict:
        lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
        return {name: entry for name, entry in lock.items() if not name.startswith("tune")}

    before = train_entries()
    params = repo / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("tune: {trials: 0}", "tune: {trials: 0, max_epochs: 5}"))
    try:
        out = run(["dvc", "repro"], repo).stdout
        assert "Running stage 'tune@cnn'" in out and "Running stage 'tune_head@pretrained_head'" in out
        assert "Running stage 'train" not in out and "Running stage 'evaluate'" not in out
        assert train_entries() == before
    finally:
        params.write_text(original)
        run(["dvc", "repro"], repo)


def test_tuning_through_dvc(repo):
    """Runs last: `tune.trials: 1` (a one-epoch trial, on the Ray cluster RAY_ADDRESS names) for every model, the
    feature head included; each tuned/<arch>.yaml feeds its train stage. Seeds and cross-validation through DVC:
    test_pipeline_seeds_cv.py (its own copy, so the two run side by side on the suite's two workers)."""
    import mlflow
    import yaml

    params = repo / "params.yaml"
    tune = "tune: {trials: 1, max_epochs: 1, grace_epochs: 1}"  # trial counts: test_tuning.py
    params.write_text(params.read_text().replace("tune: {trials: 0}", tune))
    out, head_node = repro_on_a_ray_cluster(repo)  # the three tune stages join one Ray head
    for stage in ("tune@baseline", "tune@cnn", "tune_head@pretrained_head", "train@cnn", "train_head@pretrained_head"):
        assert f"Running stage '{stage}'" in out, stage
    assert "Running stage 'featurize'" not in out  # the head's study reads the cached features
    chosen = {name: yaml.safe_load((repo / f"tuned/{name}.yaml").read_text())
              for name in ("baseline", "cnn", "pretrained_head")}
    assert set(chosen["baseline"]) == {"C"} and "learning_rate" in chosen["cnn"]
    assert "hidden_units" in chosen["pretrained_head"]
    assert (repo / "reports/figures/tuning_budget.png").stat().st_size > 5_000  # tuning ran: its budget curve
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repo}/mlflow.db")
    (experiment,) = [e for e in client.search_experiments() if e.name == "e2e"]
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    for name in ("baseline", "cnn", "pretrained_head"):
        (parent,) = [r for r in runs if r.info.run_name == f"tune-{name}"]
        trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert len(trials) == 1 and {r.data.tags["archlab.ray_node_id"] for r in trials} == {head_node}
    for name in ("cnn", "pretrained_head"):  # the train stage this repro ran trained the study's choice
        trained = max((r for r in runs if r.info.run_name == name and r.data.tags.get("archlab.stage") == "train"),
                      key=lambda r: r.info.start_time)
        assert trained.data.params["learning_rate"] == str(chosen[name]["learning_rate"])
    # train@cnn depends on its tuned file: a different choice there makes it (and only it) stale
    tuned = repo / "tuned/cnn.yaml"
    tuned.write_text(yaml.safe_dump({**chosen["cnn"], "dropout": 0.123}))
    status = run(["dvc", "status", "train@cnn", "train@baseline"], repo).stdout
    assert "train@cnn" in status and "modified:           tuned/cnn.yaml" in status
    assert "train@baseline" not in status
