"""Each task's example params file (params/<task>.yaml) through the real `dvc repro`, shrunk to tiny epochs."""

from __future__ import annotations

import json

import mlflow
import pytest
import yaml

from tests.conftest import ROOT
from tests.dvcrepo import copy_repo, make_repo, run

pytestmark = pytest.mark.slow


def example_params(task: str, **train_overrides: dict) -> str:
    """params/<task>.yaml with some train blocks replaced (the file itself must stay valid)."""
    params = yaml.safe_load((ROOT / "params" / f"{task}.yaml").read_text())
    params["train"].update(train_overrides)
    params["evaluate"].update({"bootstrap_resamples": 200, "latency_calls": 5})
    return yaml.safe_dump(params, sort_keys=False)


@pytest.fixture(scope="module")
def tabular_repo(tmp_path_factory):
    # The classical models only (no stage imports TensorFlow): Keras models on tables through DVC are the CSV
    # project's below (table_csv_repo), so this one is the shipped example file, its imputation and its skip.
    text = example_params("tabular", architectures=["baseline", "rbm", "cnn"],
                          rbm={"n_components": 32, "n_iter": 20, "C": 100.0})
    repo = make_repo(tmp_path_factory.mktemp("tabular"), text)
    run(["dvc", "repro"], repo)
    return repo


def test_tabular_example_runs_every_stage_and_registers_a_champion(tabular_repo):
    meta = json.loads((tabular_repo / "data/ingested/meta.json").read_text())
    assert meta["task"] == "tabular_classification" and meta["source"] == "breast_cancer"
    assert json.loads((tabular_repo / "reports/validation.json").read_text())["success"] is True
    evaluation = json.loads((tabular_repo / "metrics/evaluate.json").read_text())
    assert sorted(evaluation) == ["baseline", "rbm"]  # cnn skipped, not scored
    assert all(result["accuracy"] > 0.85 for result in evaluation.values())
    decision = json.loads((tabular_repo / "reports/register.json").read_text())
    assert decision["decision"] == "promoted" and decision["challenger_architecture"] != "cnn"
    assert run(["dvc", "status"], tabular_repo).stdout.strip().endswith("up to date.")


def test_tabular_leaderboard_reports_imputation_and_the_skipped_architecture(tabular_repo):
    imputation = json.loads((tabular_repo / "metrics/evaluate.json").read_text())["rbm"]["imputation"]
    assert imputation["imputed_cells"] > 100
    assert imputation["imputation_rmse"] < imputation["mean_imputation_rmse"]
    leaderboard = (tabular_repo / "reports/leaderboard.md").read_text()
    assert "## Imputation of the masked cells" in leaderboard and "Task: tabular_classification" in leaderboard
    assert "- cnn: cnn is built for image_classification" in leaderboard
    mlflow.set_tracking_uri(f"sqlite:///{tabular_repo}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["archlab-tabular"], output_format="list")
    assert sorted(r.info.run_name for r in runs) == ["baseline", "evaluation", "rbm"]
    assert {r.data.tags["archlab.task"] for r in runs} == {"tabular_classification"}
    (summary,) = [r for r in runs if r.info.run_name == "evaluation"]
    assert summary.data.tags["archlab.skipped_architectures"] == "cnn"
    (rbm,) = [r for r in runs if r.info.run_name == "rbm"]
    assert rbm.data.metrics["test_imputation_rmse"] == pytest.approx(imputation["imputation_rmse"])


@pytest.fixture(scope="module")
def forecasting_repo(tmp_path_factory):
    text = example_params("forecasting", architectures=["seasonal_naive", "baseline", "lstm", "cnn"],
                          lstm={"units": [8], "epochs": 3, "patience": 3})
    repo = make_repo(tmp_path_factory.mktemp("forecasting"), text)
    run(["dvc", "repro"], repo)
    return repo


def test_forecasting_example_ranks_by_rmse_against_seasonal_naive(forecasting_repo):
    evaluation = json.loads((forecasting_repo / "metrics/evaluate.json").read_text())
    assert sorted(evaluation) == ["baseline", "lstm", "seasonal_naive"]
    assert evaluation["baseline"]["rmse"] < evaluation["seasonal_naive"]["rmse"]  # co2's trend defeats last year
    assert len(evaluation["lstm"]["mae_by_step"]) == 4
    leaderboard = (forecasting_repo / "reports/leaderboard.md").read_text()
    assert "Ranked by rmse" in leaderboard and "| seasonal_naive |" in leaderboard and "- cnn: " in leaderboard
    assert (forecasting_repo / "reports/figures/forecast.png").stat().st_size > 10_000
    decision = json.loads((forecasting_repo / "reports/register.json").read_text())
    best = min(evaluation, key=lambda n: evaluation[n]["rmse"])
    assert decision["metric"] == "rmse" and decision["challenger_architecture"] == best
    assert decision["challenger_score"] == pytest.approx(evaluation[best]["rmse"], rel=1e-4)  # via the registry


def test_archlab_predict_answers_with_the_registered_forecaster_and_tabular_champion(forecasting_repo,
                                                                                     tabular_repo):
    import numpy as np
    import pandas as pd

    from archlab.data.store import read_dataset

    windows = read_dataset(forecasting_repo / "data/ingested").split("test")[0][:2, :, 0]  # (N, W) is accepted
    np.save(forecasting_repo / "windows.npy", windows)
    out = run(["archlab", "predict", "windows.npy", "--json"], forecasting_repo).stdout
    rows = json.loads(out)
    assert len(rows) == 2 and sorted(k for k in rows[0] if k.startswith("t+")) == ["t+1", "t+2", "t+3", "t+4"]
    assert abs(rows[0]["t+1"] - windows[0, -1]) < 5.0  # co2 moves little in a week
    dataset = read_dataset(tabular_repo / "data/ingested")
    pd.DataFrame(dataset.split("test")[0][:3], columns=dataset.meta["feature_names"]).to_csv(
        tabular_repo / "rows.csv", index=False)
    predicted = json.loads(run(["archlab", "predict", "rows.csv", "--json"], tabular_repo).stdout)
    champion = json.loads((tabular_repo / "reports/register.json").read_text())["challenger_architecture"]
    local = json.loads(run(["archlab", "predict", "rows.csv", "--model", champion, "--json"], tabular_repo).stdout)
    assert len(predicted) == 3 and [r["label"] for r in predicted] == [r["label"] for r in local]
    refused = run(["archlab", "retrain"], tabular_repo, check=False)
    assert refused.returncode == 2 and "supports image_classification only" in refused.stderr


@pytest.fixture(scope="module")
def text_to_image_repo(tmp_path_factory):
    small = {"embed_dim": 32, "num_heads": 2, "num_layers": 1, "mlp_dim": 64, "noise_copies": 2, "patience": 10}
    text = example_params("text_to_image", architectures=["baseline", "cross_attention", "caption_blind"],
                          cross_attention=small | {"epochs": 10}, caption_blind=small | {"epochs": 3})
    repo = make_repo(tmp_path_factory.mktemp("t2i"), text)
    run(["dvc", "repro"], repo)
    return repo


def test_text_to_image_example_judges_generators_against_the_caption_blind_control(text_to_image_repo):
    evaluation = json.loads((text_to_image_repo / "metrics/evaluate.json").read_text())
    assert evaluation["cross_attention"]["judge"] == "baseline" == evaluation["caption_blind"]["judge"]
    reads, blind = evaluation["cross_attention"]["caption_match"], evaluation["caption_blind"]["caption_match"]
    assert reads > blind + 0.4 and blind < 0.3
    leaderboard = (text_to_image_repo / "reports/leaderboard.md").read_text()
    assert "## Text-to-image: caption match" in leaderboard and "| caption_blind | no |" in leaderboard
    assert (text_to_image_repo / "reports/figures/generated.png").stat().st_size > 5_000
    decision = json.loads((text_to_image_repo / "reports/register.json").read_text())
    assert decision["metric"] == "caption_match" and decision["challenger_architecture"] == "cross_attention"
    assert decision["challenger_score"] == pytest.approx(reads, abs=1e-9)  # re-scored through the registry
    mlflow.set_tracking_uri(f"sqlite:///{text_to_image_repo}/mlflow.db")
    (run_,) = mlflow.search_runs(experiment_names=["archlab-text-to-image"], output_format="list",
                                 filter_string="attributes.run_name = 'cross_attention'")
    assert run_.data.metrics["test_caption_match"] == pytest.approx(reads)


@pytest.fixture(scope="module")
def image_repo(shared_pipeline, tmp_path_factory):
    """The session's digits pipeline (tests.dvcrepo.SHARED_PARAMS), copied: predict writes its inputs here."""
    return copy_repo(shared_pipeline, tmp_path_factory.mktemp("images") / "repo")


@pytest.fixture(scope="module")
def table_csv_repo(tmp_path_factory):
    """A user's CSV: an id column, a text category, string class names, through DVC with the classical baseline and
    the table transformer (its categories as tokens). Every tabular architecture learning the same CSV, saving,
    reloading and answering raw rows is test_tabular.py's
    `test_every_tabular_architecture_trains_on_categories_and_predicts_raw_rows` (in process: the stages' wiring
    does not differ between Keras models)."""
    from tests.test_tabular import customers_csv

    quick = {"epochs": 20, "patience": 20, "learning_rate": 0.01}
    text = yaml.safe_dump({
        "task": "tabular_classification", "project": {"name": "archlab-customers", "seed": 1},
        "ingest": {"source": "csv", "path": "data/raw/customers.csv", "label_column": "status",
                   "id_column": "customer_id"},
        "validate": {"min_per_class": 5},
        "train": {"architectures": ["baseline", "transformer"], "feature_heads": [], "seeds": [],
                  "baseline": {"C": 1.0},
                  "transformer": {"embed_dim": 8, "num_heads": 2, "num_layers": 1, "mlp_dim": 16, **quick}},
        "featurize": {"backbones": []}, "tune": {"trials": 0},
        "compare": {"folds": 0, "repeats": 1, "rope": 0.01, "architectures": []},
        "evaluate": {"bootstrap_resamples": 200, "latency_calls": 5},
        "register": {"metric": "accuracy", "min_delta": 0.0}}, sort_keys=False)
    folder = tmp_path_factory.mktemp("customers")
    repo = make_repo(folder, text)
    customers_csv(repo / "data/raw/customers.csv")
    run(["dvc", "repro"], repo)
    return repo


def test_a_csv_table_with_ids_and_categories_runs_through_dvc_and_registers(table_csv_repo):
    evaluation = json.loads((table_csv_repo / "metrics/evaluate.json").read_text())
    assert sorted(evaluation) == ["baseline", "transformer"]
    assert all(result["accuracy"] >= 0.8 for result in evaluation.values()), evaluation
    manifest = (table_csv_repo / "data/ingested/manifest.csv").read_text()
    assert "C00000" in manifest.splitlines()[1] or "C0" in manifest
    assert json.loads((table_csv_repo / "reports/register.json").read_text())["decision"] == "promoted"


def _predict_inputs(task: str, repo) -> tuple[list[str], int]:
    """Input files `archlab predict` takes for a task's champion, written into the repo; and how many answers."""
    import numpy as np
    import pandas as pd

    from archlab.data.store import read_dataset

    if task == "image_classification":
        np.save(repo / "images.npy", read_dataset(repo / "data/ingested").split("test")[0][:3])
        return ["images.npy"], 3
    if task == "tabular_classification":
        pd.DataFrame({"customer_id": ["new-1", "new-2", "new-3", "new-4"], "colour": ["red", "green", "violet", None],
                      "signup": ["2024-02-29", "2023-12-01", None, "2024-07-04"],
                      "newsletter": ["yes", "no", "no", "yes"],
                      "size": [9.0, 12.0, 10.0, 11.0], "weight": [70.0, None, 65.0, 80.0],
                      "status": ["?", "?", "?", "?"]}).to_csv(repo / "table.csv", index=False)
        return ["table.csv"], 4
    if task == "forecasting":
        np.save(repo / "windows.npy", read_dataset(repo / "data/ingested").split("test")[0][:2])
        return ["windows.npy"], 2
    (repo / "captions.txt").write_text("a handwritten seven\nthe digit 3\n")
    return ["captions.txt"], 2


TASK_REPOS = {"image_classification": "image_repo", "tabular_classification": "table_csv_repo",
              "forecasting": "forecasting_repo", "text_to_image": "text_to_image_repo"}


@pytest.mark.parametrize("task", sorted(TASK_REPOS))
def test_leaderboard_and_predict_answer_for_every_task(task, request):
    """`archlab leaderboard` (metrics file and MLflow) ranks by the task's own metric in its direction, and
    `archlab predict` answers one row per input with the registered champion, plain and --json."""
    from archlab import tasks

    repo = request.getfixturevalue(TASK_REPOS[task])
    metric = tasks.get(task).metrics[0]
    evaluation = json.loads((repo / "metrics/evaluate.json").read_text())
    rows = json.loads(run(["archlab", "leaderboard", "--json"], repo).stdout)
    ranked = sorted((n for n in evaluation if metric.name in evaluation[n]),
                    key=lambda n: metric.sort_key(evaluation[n][metric.name]))
    assert rows[0][metric.name] == evaluation[ranked[0]][metric.name] and len(rows) == len(ranked)  # ties: latency
    assert [metric.sort_key(r[metric.name]) for r in rows] == sorted(metric.sort_key(r[metric.name]) for r in rows)
    assert all(r[metric.name] == pytest.approx(evaluation[r["architecture"]][metric.name]) for r in rows)
    plain = run(["archlab", "leaderboard"], repo).stdout
    assert all(name in plain for name in ranked) and (metric.label or metric.name) in plain
    from_mlflow = json.loads(run(["archlab", "leaderboard", "--from-mlflow", "--json"], repo).stdout)
    assert [r["architecture"] for r in from_mlflow] == [r["architecture"] for r in rows]
    inputs, expected = _predict_inputs(task, repo)
    answers = json.loads(run(["archlab", "predict", *inputs, "--json"], repo).stdout)
    assert len(answers) == expected
    lines = run(["archlab", "predict", *inputs], repo).stdout.strip().splitlines()
    if task == "text_to_image":
        assert sum(1 for k in answers[0] if k.startswith("px_")) == 64
        assert lines[0] == "a handwritten seven:" and len(lines) == expected * 9  # a caption, then 8 rows of shades
    else:
        assert len(lines) == expected
    if task == "tabular_classification":
        assert [a["input"] for a in answers] == ["new-1", "new-2", "new-3", "new-4"]
        assert answers[0]["class_name"] == "churned" and lines[0].startswith("new-1\tchurned")
    if task == "forecasting":
        assert sorted(k for k in answers[0] if k.startswith("t+")) == ["t+1", "t+2", "t+3", "t+4"]
    if task == "image_classification":
        assert {a["class_name"] for a in answers} <= {str(i) for i in range(10)}
