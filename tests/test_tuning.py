"""Equal-budget studies through Ray Tune + Optuna: the budget every trial gets, the user's config tried first, and
real studies of two architectures on a two-node local Ray cluster (trials on both nodes, a finished study resumed
rather than re-run)."""

from __future__ import annotations

import json

import pytest

from archlab.architectures.registry import get
from archlab.tuning.study import Budget, _defaults_in_space, epoch_budget, run_study, trial_params

CNN_BLOCK = {"filters": [32, 64], "dense_units": 128, "dropout": 0.3, "learning_rate": 0.001, "batch_size": 64,
             "convs_per_block": 2, "epochs": 100, "patience": 10}


def test_every_phase_of_a_trial_gets_the_same_epoch_budget():
    budget = Budget(trials=4, max_epochs=7)
    cnn = trial_params(get("cnn"), CNN_BLOCK, {"filters": json.dumps([16, 32]), "dropout": 0.1}, budget)
    assert cnn.epochs == 7 and cnn.filters == [16, 32] and cnn.dropout == 0.1 and cnn.patience == 10
    finetune = trial_params(get("finetune"), {}, {"fine_tune_lr": 1e-5}, budget)
    assert (finetune.head_epochs, finetune.epochs, finetune.fine_tune_lr) == (7, 7, 1e-5)
    assert epoch_budget(get("finetune"), budget) == 14 and epoch_budget(get("autoencoder"), budget) == 14
    assert epoch_budget(get("cnn"), budget) == 7 and epoch_budget(get("baseline"), budget) == 7


def test_the_users_own_config_is_the_first_point_only_when_inside_the_space():
    cnn = get("cnn")
    first = _defaults_in_space(cnn.search, CNN_BLOCK)
    assert first == {"learning_rate": 0.001, "batch_size": 64, "filters": "[32, 64]", "convs_per_block": 2,
                     "dense_units": 128, "dropout": 0.3}
    assert _defaults_in_space(cnn.search, {**CNN_BLOCK, "dense_units": 4096}) is None
    assert _defaults_in_space(cnn.search, {**CNN_BLOCK, "filters": [8, 8]}) is None


@pytest.fixture(scope="module")
def two_node_cluster():
    """A head and a worker node, one CPU each, as `ray start --head` plus one `ray start --address` would give."""
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, logging_level="WARNING", log_to_driver=False)
    cluster.wait_for_nodes()
    try:
        yield {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.mark.slow
def test_two_architectures_tuned_on_both_nodes_of_a_cluster(two_node_cluster, tiny_data, tmp_path):
    """shallow_mlp (epochs, ASHA) and baseline (one pass) get the same number of trials; their trials ran on both
    nodes; every trial is accounted for; the best config is the trial with the lowest val loss; running the study
    again resumes the finished one instead of training anew."""
    assert len(two_node_cluster) == 2
    budget = Budget(trials=3, max_epochs=1, grace_epochs=1)  # one-epoch trials: the scheduling is under test
    results = {name: run_study(name, "image_classification", tiny_data, block, budget, tmp_path / name)
               for name, block in (("shallow_mlp", {"hidden_units": 256, "dropout": 0.2}), ("baseline", {"C": 1.0}))}
    nodes = set()
    for name, result in results.items():
        assert len(result.trials) == 3, name
        assert {t.status for t in result.trials} <= {"FINISHED", "PRUNED"}, [t.error for t in result.trials]
        assert all(t.node_id in two_node_cluster for t in result.trials)
        nodes |= {t.node_id for t in result.trials}
        assert result.best_val_loss == min(t.best_val_loss for t in result.trials)
        get(name).params.model_validate(result.best_config)
    assert nodes == two_node_cluster
    mlp = results["shallow_mlp"]
    assert all(t.epochs == 1 for t in mlp.trials)
    defaults = {"hidden_units": 256, "dropout": 0.2, "learning_rate": 0.001, "batch_size": 64}
    assert any(t.config == defaults for t in mlp.trials), [t.config for t in mlp.trials]  # the user's, tried first
    again = run_study("baseline", "image_classification", tiny_data, {"C": 1.0}, budget, tmp_path / "baseline")
    assert sorted(t.trial_id for t in again.trials) == sorted(t.trial_id for t in results["baseline"].trials)
    assert again.best_config == results["baseline"].best_config


@pytest.mark.slow
def test_a_stage_without_ray_address_starts_its_own_ray_beside_a_running_cluster(two_node_cluster, tmp_path,
                                                                                  digits_session_dataset):
    """The cluster above named itself in /tmp/ray/ray_current_cluster (as any `ray start` does); a study in a
    process without RAY_ADDRESS must not join it: that cluster's owner may stop it or take a node away mid-study
    (the flaky suite this fixed: a quick-bench tune stage joined another test's cluster and lost its trials)."""
    import subprocess
    import sys

    import ray
    from ray._private.utils import read_ray_address, write_ray_address

    from tests.conftest import subprocess_env

    # The file is machine-wide: the other xdist worker's Rays rewrite or remove it at any time. Advertise the
    # fixture's cluster again (as its `ray start` did) just before the study starts, and compare the study's Ray with
    # the fixture's own address rather than with whatever the file says afterwards.
    cluster_gcs = ray.get_runtime_context().gcs_address  # this process joined the fixture's cluster
    write_ray_address(cluster_gcs)
    assert read_ray_address() == cluster_gcs

    code = ("import sys, json, ray; from pathlib import Path; "
            "from archlab.training.data import load_training_data, subset; "
            "from archlab.tuning.study import Budget, run_study; "
            "data = subset(load_training_data(Path(sys.argv[1])), n_train=200, n_val=60); "
            "result = run_study('baseline', 'image_classification', data, {'C': 1.0}, "
            "Budget(trials=1, max_epochs=1, grace_epochs=1), Path(sys.argv[2])); "
            "print(json.dumps({'nodes': [t.node_id for t in result.trials], "
            "'gcs': ray.get_runtime_context().gcs_address}))")
    env = subprocess_env()
    env.pop("RAY_ADDRESS", None)
    out = subprocess.run([sys.executable, "-c", code, str(digits_session_dataset), str(tmp_path / "study")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["nodes"] and not set(seen["nodes"]) & two_node_cluster
    assert seen["gcs"] != cluster_gcs


@pytest.mark.slow
def test_cross_validation_folds_land_on_both_nodes_with_the_local_scores(two_node_cluster, tmp_path,
                                                                         digits_session_dataset):
    """The cv@ executor on the same two-node cluster (the driver joined it, as RAY_ADDRESS does for a stage): the
    folds of knn ran on both nodes and scored exactly what they score in one local process (k-NN has no
    randomness; a Keras fold matches to float tolerance only)."""
    from archlab.compare.executor import run_jobs
    from archlab.compare.folds import repeated_stratified_folds
    from archlab.compare.run import cv_rows, fit_fold
    from archlab.training.data import load_training_data
    from tests.conftest import make_params

    params = make_params(train={"architectures": ["knn"], "feature_heads": []})
    data = load_training_data(digits_session_dataset)
    x, y = cv_rows(data)
    items = [f.job() for f in repeated_stratified_folds(y, folds=4, repeats=1, seed=0)]
    shared = {"x": x, "y": y, "data": data, "name": "knn", "arch_params": params.train.arch_params("knn"),
              "task": params.task, "seed": 0}
    on_cluster = run_jobs(fit_fold, shared, items, done_dir=tmp_path / "cluster", cpus=1, gpus=0, label="cv@knn")
    assert {fold["node_id"] for fold in on_cluster} == two_node_cluster
    local = [fit_fold(shared, item) for item in items]
    assert [fold["score"] for fold in on_cluster] == [fold["score"] for fold in local]
    assert [fold["predicted"] for fold in on_cluster] == [fold["predicted"] for fold in local]


def _stage_args(project, dataset, name):
    report = project / "validation.json"
    report.write_text(json.dumps({"success": True}))
    return dict(data_dir=dataset, validation_report=report, out_path=project / "tuned" / f"{name}.yaml",
                storage_root=project / ".archlab" / "tune", project_root=project)


def test_no_trials_writes_an_empty_choice_without_importing_ray_tensorflow_or_pandas(tmp_path, digits_dataset):
    """`tune.trials: 0` (the default): train@<arch> gets params.yaml as written, and the stage costs no engine."""
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    code = ("import sys, json; from pathlib import Path; from archlab.params import load_params; "
            "from archlab.tuning.run import tune; "
            "args = {k: Path(v) for k, v in json.loads(sys.argv[1]).items()}; "
            "print(tune(load_params(Path('params.yaml')), 'cnn', **args), "
            "'ray' in sys.modules, 'tensorflow' in sys.modules, 'mlflow' in sys.modules, 'pandas' in sys.modules)")
    args = {k: str(v) for k, v in _stage_args(tmp_path, digits_dataset, "cnn").items()}
    out = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True,
                         env=subprocess_env(), check=True)
    assert out.stdout.split() == ["{}", "False", "False", "False", "False"], out.stderr[-2000:]
    text = (tmp_path / "tuned" / "cnn.yaml").read_text()
    assert "nothing tuned (tune.trials is 0)" in text and text.rstrip().endswith("{}")
    assert json.loads((tmp_path / "tuned" / "cnn.trials.json").read_text())["trials"] == []


def test_the_command_line_does_not_import_ray_or_optuna():
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    probe = "import sys, archlab.cli; print(sorted(m for m in ('ray', 'optuna', 'tensorflow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=subprocess_env(),
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_stage_records_every_trial_in_mlflow_and_train_uses_its_choice(two_node_cluster, tmp_path,
                                                                           digits_dataset, monkeypatch):
    """One parent run and `trials` child runs (params, status); tuned/baseline.yaml holds the best C, and
    train@baseline trains with it."""
    import mlflow
    import yaml

    from archlab.training.run import train
    from archlab.tuning.run import tune
    from archlab.tuning.tuned import tuned_arch_params
    from tests.conftest import make_params

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    params = make_params(project={"name": "tuning", "seed": 5},
                         train={"architectures": ["baseline"], "baseline": {"C": 1.0, "max_iter": 300}},
                         tune={"trials": 3, "max_epochs": 2})
    args = _stage_args(tmp_path, digits_dataset, "baseline")
    chosen = tune(params, "baseline", **args)
    stored = yaml.safe_load(args["out_path"].read_text())
    assert stored == chosen and set(chosen) == {"C"} and 1e-3 <= chosen["C"] <= 1e3
    trials = json.loads((tmp_path / "tuned" / "baseline.trials.json").read_text())["trials"]  # the budget curve's
    assert len(trials) == 3 and {t["status"] for t in trials} == {"FINISHED"}
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["tuning"], output_format="list")
    (parent,) = [r for r in runs if r.info.run_name == "tune-baseline"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert parent.info.status == "FINISHED" and len(children) == 3
    assert {c.info.status for c in children} == {"FINISHED"} and all("C" in c.data.params for c in children)
    assert all(c.data.tags["archlab.trial_status"] == "FINISHED" and c.data.tags["archlab.ray_node_id"]
               for c in children)
    assert parent.data.metrics["best_val_loss"] == min(c.data.metrics["val_loss"] for c in children)
    assert tuned_arch_params(params, "baseline", args["out_path"]).C == chosen["C"]
    assert not any(args["storage_root"].iterdir())  # the study's folder goes once it is recorded
    train(params, "baseline", data_dir=digits_dataset, validation_report=args["validation_report"],
          model_dir=tmp_path / "models" / "baseline", metrics_path=tmp_path / "metrics.json",
          plots_path=tmp_path / "plots.csv", checkpoint_root=tmp_path / "ckpt", project_root=tmp_path,
          tuned_path=args["out_path"])
    (trained,) = [r for r in mlflow.search_runs(experiment_names=["tuning"], output_format="list")
                  if r.info.run_name == "baseline"]
    assert float(trained.data.params["C"]) == pytest.approx(chosen["C"])


@pytest.mark.slow
def test_failing_trials_are_recorded_and_a_study_where_all_fail_says_why(two_node_cluster, tiny_data, tmp_path):
    """A config that cannot train (weights file missing) fails each trial once, without retries; the study's
    error names the trials and the first cause."""
    from archlab.errors import ArchlabError

    budget = Budget(trials=2, max_epochs=1, max_failures=2)
    with pytest.raises(ArchlabError) as info:
        run_study("finetune", "image_classification", tiny_data, {"weights": str(tmp_path / "missing.weights.h5")},
                  budget, tmp_path / "study")
    assert "all 2 trials failed" in str(info.value) and "missing.weights.h5" in str(info.value)


@pytest.mark.slow
def test_a_worker_node_lost_mid_sweep_costs_only_its_running_trial(tiny_data, tmp_path):
    """The worker node is removed as soon as a trial reports from it; Ray retries the trial running there on the
    head, and the study still ends with every trial accounted for (none FAILED)."""
    import threading
    import time

    import ray
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker = cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, logging_level="WARNING", log_to_driver=False)
    cluster.wait_for_nodes()
    try:
        worker_id = worker.node_id
        budget = Budget(trials=3, max_epochs=12, grace_epochs=12, max_failures=2)  # no pruning: trials run long
        outcome = {}
        block = {"hidden_units": 64, "dropout": 0.2, "patience": 100}
        study = threading.Thread(target=lambda: outcome.update(result=run_study(
            "shallow_mlp", "image_classification", tiny_data, block, budget, tmp_path / "study")))
        study.start()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and study.is_alive():
            reports = [p.read_text() for p in (tmp_path / "study").glob("*/result.json")]
            if any(worker_id in text for text in reports):
                cluster.remove_node(worker, allow_graceful=False)
                break
            time.sleep(0.2)
        else:
            pytest.fail("no trial reported from the worker node before the study ended")
        study.join(timeout=600)
        result = outcome["result"]
        assert len(result.trials) == 3
        assert {t.status for t in result.trials} == {"FINISHED"}, [(t.status, t.error) for t in result.trials]
        assert all(t.node_id != worker_id or t.epochs == 12 for t in result.trials)  # none left half-done there
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.mark.slow
def test_a_killed_tune_stage_resumes_its_study_when_run_again(tmp_path, digits_dataset):
    """SIGKILL to the whole stage (its local Ray included) once the study's saved state holds an ended trial; the
    next run of the same stage restores the study, keeps the trials that had ended, runs the rest and records all
    of them under one new parent run. The killed run writes no tuned/ file."""
    import subprocess
    import sys

    import mlflow
    import yaml

    from tests.conftest import ROOT, start_and_kill_when, subprocess_env

    trials = 4  # two run at a time on 2 cores: the kill comes while two or three are still to run
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({
        "project": {"name": "resume", "seed": 3},
        "train": {"architectures": ["shallow_mlp"], "shallow_mlp": {"hidden_units": 32, "patience": 1000}},
        "tune": {"trials": trials, "max_epochs": 20, "grace_epochs": 20}}))  # no pruning: every trial runs long
    (tmp_path / "validation.json").write_text(json.dumps({"success": True}))
    command = [sys.executable, str(ROOT / "stages" / "tune.py"), "--params", "params.yaml", "--arch", "shallow_mlp",
               "--data", str(digits_dataset), "--validation", "validation.json", "--out", "tuned/shallow_mlp.yaml"]
    studies = tmp_path / ".archlab" / "tune"

    def saved_ended() -> set[str]:
        """Trial ids the study's last saved state (what a restore reads) holds as ended."""
        states = sorted(studies.glob("*/experiment_state-*.json"))
        try:
            trial_data = json.loads(states[-1].read_text())["trial_data"] if states else []
        except (json.JSONDecodeError, OSError):
            return set()  # caught mid-write: the next poll reads it whole
        return {t["trial_id"] for t in (json.loads(row[0]) for row in trial_data) if t["status"] == "TERMINATED"}

    ended_before = start_and_kill_when(command, tmp_path, saved_ended)
    assert 1 <= len(ended_before) < trials
    assert not (tmp_path / "tuned" / "shallow_mlp.yaml").exists()

    second = subprocess.run(command, cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    resumed = [line for line in second.stderr.splitlines() if "resuming the study" in line]
    assert resumed, second.stderr[-3000:]
    assert f": {len(ended_before)} trials had ended" in resumed[0]
    chosen = yaml.safe_load((tmp_path / "tuned" / "shallow_mlp.yaml").read_text())
    assert "hidden_units" in chosen
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["resume"], output_format="list")
    parents = sorted((r for r in runs if r.info.run_name == "tune-shallow_mlp"), key=lambda r: r.info.start_time)
    assert [p.info.status for p in parents] == ["KILLED", "FINISHED"]  # the killed one closed as an orphan
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[-1].info.run_id]
    assert len(children) == trials and {c.data.tags["archlab.trial_status"] for c in children} == {"FINISHED"}
    assert ended_before <= {c.data.tags["archlab.trial_id"] for c in children}  # kept, under their own ids
    assert not any(studies.iterdir())  # the study folder goes once the study is recorded
