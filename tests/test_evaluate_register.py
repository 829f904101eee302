"""Evaluate and register against a real SQLite MLflow store and registry, with real (small) trained models."""

import json
import shutil

import mlflow
import numpy as np
import pandas as pd
import pytest

from archlab import model_registry as reg
from archlab import promotion, tasks
from archlab.errors import ArchlabError, DataError
from archlab.evaluation.run import evaluate
from archlab.register import register
from archlab.tasks.base import Scorer
from tests.conftest import make_params, project_dir, train_and_evaluate

ARCHS = ["baseline", "shallow_mlp"]


ACCURACY = tasks.get("image_classification").metric("accuracy")


def accuracy_scorer(x_test, y_test) -> Scorer:
    """The registry's re-score on these samples: the share of pyfunc labels equal to `y_test`."""
    return Scorer(inputs=np.asarray(x_test, dtype=np.float32),
                  score=lambda output, metric: float((output["label"].to_numpy() == y_test).mean()))

def _params(project="evalproj", **train_blocks):
    blocks = {"baseline": {"C": 1.0}, "shallow_mlp": {"epochs": 3, "hidden_units": 32}, **train_blocks}
    return make_params(project={"name": project, "seed": 1}, train={"architectures": ARCHS, "feature_heads": [],
                                                                    **blocks},
                       evaluate={"bootstrap_resamples": 200, "latency_calls": 5})


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, digits_session_dataset):
    """Two trained models and their evaluation in a temp project with its own mlflow.db (module-wide)."""
    with project_dir(tmp_path_factory.mktemp("evalproj")) as root:
        params = _params()
        _, results = train_and_evaluate(params, ARCHS, digits_session_dataset, root)
        yield root, params, results, digits_session_dataset


def test_metrics_come_from_the_test_split_only(workspace):
    root, _, results, dataset = workspace
    manifest = pd.read_csv(dataset / "manifest.csv")
    test_ids = set(manifest.loc[manifest["split"] == "test", "id"])
    assert test_ids and not test_ids & set(manifest.loc[manifest["split"] != "test", "id"])
    confusion = pd.read_csv(root / "plots/evaluate/confusion/baseline.csv")
    assert len(confusion) == len(test_ids)  # one row per test sample, no more
    for name in ARCHS:
        assert sum(map(sum, results[name]["confusion_matrix"])) == len(test_ids)


def test_overlapping_test_ids_are_refused(workspace, tmp_path):
    root, params, _, dataset = workspace
    copy = tmp_path / "ingested"
    shutil.copytree(dataset, copy)
    manifest = pd.read_csv(copy / "manifest.csv")
    test_row = manifest.index[manifest["split"] == "test"][0]
    manifest.loc[test_row, "id"] = manifest.loc[manifest["split"] == "train", "id"].iloc[0]
    manifest.to_csv(copy / "manifest.csv", index=False)
    with pytest.raises(DataError, match="test samples also in train/val"):
        evaluate(params, data_dir=copy, models_dir=root / "models", metrics_path=tmp_path / "m.json",
                 plots_dir=tmp_path / "p", leaderboard_path=tmp_path / "l.md", html_path=tmp_path / "e.html",
                 figures_dir=tmp_path / "f")


def test_evaluation_outputs_and_mlflow(workspace):
    root, _, results, _ = workspace
    metrics = json.loads((root / "metrics/evaluate.json").read_text())
    assert set(metrics) == set(ARCHS)
    for name in ARCHS:
        m = metrics[name]
        assert m["accuracy_ci_low"] <= m["accuracy"] <= m["accuracy_ci_high"]
        assert m["latency_ms_batch1"] > 0 and m["throughput_batch256"] > 0 and m["model_size_bytes"] > 0
        assert set(m["per_class"]) == {str(d) for d in range(10)}
    board = (root / "reports/leaderboard.md").read_text()
    assert all(name in board for name in ARCHS) and "best" in board
    html = (root / "reports/evaluation.html").read_text()
    assert "figures/confusion_baseline.png" in html and "figures/misclassified_shallow_mlp.png" in html
    assert (root / "reports/figures/training_curves.png").stat().st_size > 1000
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["evalproj"], output_format="list")
    train_runs = [r for r in runs if r.data.tags.get("archlab.stage") == "train"]
    assert {r.info.run_name for r in train_runs} == set(ARCHS)
    for run in train_runs:
        assert run.data.metrics["test_accuracy"] == pytest.approx(results[run.info.run_name]["accuracy"])
        assert "latency_ms_batch1" in run.data.metrics and "model_size_bytes" in run.data.metrics
        artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "evaluation")}
        assert f"evaluation/confusion_{run.info.run_name}.png" in artifacts
    (summary,) = [r for r in runs if r.data.tags.get("archlab.stage") == "evaluate"]
    assert summary.info.status == "FINISHED"
    assert {a.path for a in mlflow.MlflowClient().list_artifacts(summary.info.run_id, "report")} >= {
        "report/leaderboard.md", "report/evaluation.html"}


def _register(root, params, dataset):
    return register(params, data_dir=dataset, models_dir=root / "models",
                    evaluation_path=root / "metrics/evaluate.json", decision_path=root / "reports/register.json")


def test_registry_champion_rules_and_rollback(workspace):
    root, params, results, dataset = workspace
    project = params.project.name
    first = _register(root, params, dataset)
    assert first["decision"] == "promoted" and first["reason"] == "no champion yet"
    champion = reg.alias_version(project, reg.CHAMPION)
    best = max(results, key=lambda n: results[n]["accuracy"])
    assert champion.tags["archlab.architecture"] == best
    assert float(champion.tags["test_accuracy"]) == pytest.approx(results[best]["accuracy"], abs=1e-4)
    for name in ARCHS:
        version = reg.client().search_model_versions(f"name='{project}-{name}'")[0]
        assert version.tags["data_hash"] and version.tags["git_commit"] and version.description

    again = _register(root, params, dataset)  # same models: the same version, nothing moves
    assert again["decision"] == "kept" and reg.alias_version(project, reg.CHAMPION).version == champion.version

    from archlab.data.store import read_dataset
    from archlab.evaluation.split import test_split

    x_test, y_test, _ = test_split(read_dataset(dataset))
    other = next(name for name in ARCHS if name != best)
    worse = reg.register_version(project, _model_uri(root, other), _run_id(root, other),
                                 description="a weaker challenger", tags={"archlab.architecture": other})
    not_better = promotion.decide_and_apply(project, worse, accuracy_scorer(x_test, y_test), metric=ACCURACY,
                                             min_delta=0.0)
    assert not_better.challenger_score <= not_better.champion_score
    assert not_better.decision == "kept" and "does not beat" in not_better.reason
    assert reg.alias_version(project, reg.CHAMPION).version == champion.version
    assert reg.alias_version(project, reg.CHALLENGER).version == worse.version

    # A better challenger: the champion is re-scored on images where it is wrong and the challenger right.
    champion_labels = mlflow.pyfunc.load_model(f"models:/{project}@champion").predict(
        x_test.astype(np.float32))["label"].to_numpy()
    challenger_labels = mlflow.pyfunc.load_model(f"models:/{project}/{worse.version}").predict(
        x_test.astype(np.float32))["label"].to_numpy()
    favour = (challenger_labels == y_test) & (champion_labels != y_test)
    assert favour.any(), "the two models make identical mistakes; the test needs a disagreement"
    better = promotion.decide_and_apply(project, worse, accuracy_scorer(x_test[favour], y_test[favour]),
                                        metric=ACCURACY, min_delta=0.0)
    assert better.decision == "promoted" and better.challenger_score > better.champion_score
    assert reg.alias_version(project, reg.CHAMPION).version == worse.version
    assert reg.alias_version(project, reg.PREVIOUS).version == champion.version
    assert reg.alias_version(project, reg.CHALLENGER) is None

    promotion.rollback(project)
    assert reg.alias_version(project, reg.CHAMPION).version == champion.version
    assert reg.alias_version(project, reg.PREVIOUS).version == worse.version


def test_min_delta_blocks_a_small_win(workspace):
    assert promotion.beats(0.951, 0.950, min_delta=0.0, metric=ACCURACY)
    assert not promotion.beats(0.951, 0.950, min_delta=0.01, metric=ACCURACY)
    assert not promotion.beats(0.95, 0.95, min_delta=0.0, metric=ACCURACY)


def test_a_challenger_that_fails_to_load_moves_no_alias(workspace, tmp_path):
    root, params, _, dataset = workspace
    project = "brokenproj"
    copy = tmp_path / "model_copy"
    shutil.copytree(root / "models/shallow_mlp", copy)
    broken = reg.register_version(project, _model_uri(root, "shallow_mlp"), _run_id(root, "shallow_mlp"),
                                  description="x", tags={"archlab.architecture": "shallow_mlp"})
    from archlab.data.store import read_dataset
    from archlab.evaluation.split import test_split

    x_test, y_test, _ = test_split(read_dataset(dataset))
    reg.set_alias(project, reg.CHAMPION, broken.version)
    # Corrupt what the registry serves: the logged model's weights file.
    store = _artifact_files(root, "model.keras")
    assert store, "found no logged model.keras to corrupt"
    for path in store:
        path.write_bytes(b"not a model")
    with pytest.raises(ArchlabError, match="unusable, no alias moved"):
        promotion.decide_and_apply(project, broken, accuracy_scorer(x_test, y_test), metric=ACCURACY, min_delta=0.0)
    assert reg.alias_version(project, reg.CHAMPION).version == broken.version  # untouched
    for path in store:  # restore for other tests
        shutil.copy2(copy / "model.keras", path)


def _artifact_files(root, name):
    return [p for p in (root / "mlruns").rglob(name)] if (root / "mlruns").exists() else []


def _model_uri(root, name):
    return json.loads((root / f"models/{name}/info.json").read_text())["model_uri"]


def _run_id(root, name):
    return json.loads((root / f"models/{name}/info.json").read_text())["run_id"]


def test_a_champion_moved_while_it_was_scored_makes_the_promotion_start_over(workspace):
    """A person moves @champion in the UI (no lock) while a promotion scores the old one: the decision made against
    the old champion is dropped, the new champion is scored, and the aliases read back as the final decision says."""
    root, params, results, dataset = workspace
    from archlab.data.store import read_dataset
    from archlab.evaluation.split import test_split

    project = "movedproj"
    x_test, y_test, _ = test_split(read_dataset(dataset))
    weak, strong = sorted(ARCHS, key=lambda n: results[n]["accuracy"])
    versions = {name: reg.register_version(project, _model_uri(root, name), _run_id(root, name), description=name,
                                           tags={"archlab.architecture": name}) for name in ARCHS}
    first_champion = reg.register_version(project, _model_uri(root, weak), _run_id(root, weak), description=weak,
                                          tags={"archlab.architecture": weak})
    reg.set_alias(project, reg.CHAMPION, first_champion.version)
    calls = []

    def score(output, metric):
        calls.append(len(calls))
        if len(calls) == 2:  # the second score is the champion's: a person moves the alias meanwhile
            reg.set_alias(project, reg.CHAMPION, versions[strong].version)
        return float((output["label"].to_numpy() == y_test).mean())

    challenger = versions[strong] if versions[strong].version != first_champion.version else versions[weak]
    scorer = Scorer(inputs=np.asarray(x_test, dtype=np.float32), score=score)
    decision = promotion.decide_and_apply(project, challenger, scorer, metric=ACCURACY, min_delta=0.0)
    assert decision.attempts == 2
    assert decision.champion_version == str(versions[strong].version)  # judged against the champion now serving
    assert decision.decision == "kept" and decision.challenger_version == decision.champion_version
    assert reg.alias_version(project, reg.CHAMPION).version == versions[strong].version
    assert reg.alias_version(project, reg.PREVIOUS) is None  # nothing replaced by this job
