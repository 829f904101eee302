"""Seed repeats (`train.seeds`): one model and MLflow run per seed, mean and spread of the test score, the paired
test over every seed's predictions, and the median-seed model registered. Real SQLite MLflow store, real models."""

import json
import statistics

import mlflow
import numpy as np
import pytest
from scipy.stats import binomtest

from archlab import model_registry as reg
from archlab import modelio
from archlab.errors import ArchlabError, ParamsError
from archlab.evaluation.scoring import mcnemar_p_value, paired_p_value, seed_summary
from archlab.params import parse_params
from archlab.register import register
from tests.conftest import make_params, project_dir, train_and_evaluate

ARCHS = ["baseline", "shallow_mlp"]
SEEDS = [5, 6, 7]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, digits_session_dataset):
    """Both architectures trained once per seed, evaluated and registered, in a temp project (module-wide)."""
    with project_dir(tmp_path_factory.mktemp("seeds")) as root:
        params = make_params(project={"name": "seeded", "seed": 1},
                             train={"architectures": ARCHS, "feature_heads": [], "seeds": SEEDS,
                                    "baseline": {"C": 1.0}, "shallow_mlp": {"epochs": 3, "hidden_units": 16}},
                             evaluate={"bootstrap_resamples": 200, "latency_calls": 5})
        train_metrics, results = train_and_evaluate(params, ARCHS, digits_session_dataset, root)
        decision = register(params, data_dir=digits_session_dataset, models_dir=root / "models",
                            evaluation_path=root / "metrics/evaluate.json",
                            decision_path=root / "reports/register.json")
        yield root, params, train_metrics, results, decision


@pytest.mark.slow  # the `seeded` fixture: six trainings, the network's on a local Ray
def test_one_model_and_one_mlflow_run_per_seed(seeded):
    root, params, train_metrics, _, _ = seeded
    for name in ARCHS:
        folders = modelio.seed_folders(root / "models" / name)
        assert list(folders) == SEEDS
        assert folders[SEEDS[0]] == root / "models" / name  # the first seed's model is where predict/serve look
        for seed, folder in folders.items():
            assert modelio.read_info(folder)["seed"] == seed
            modelio.model_file(folder)  # a model file in each
        runs = mlflow.search_runs(experiment_names=[f"{params.project.name}"], output_format="list",
                                  filter_string=f"tags.`archlab.architecture` = '{name}' and "
                                                "tags.`archlab.stage` = 'train'")
        assert sorted(int(run.data.tags["archlab.seed"]) for run in runs) == SEEDS
        assert {run.info.status for run in runs} == {"FINISHED"}
        assert {run.data.params["seed"] for run in runs} == {str(s) for s in SEEDS}
        assert {modelio.read_info(f)["run_id"] for f in folders.values()} == {run.info.run_id for run in runs}
        assert train_metrics[name]["seeds"] == len(SEEDS)
        # the network's seeds ran as Ray tasks (side by side: the executor), the classical one's in this process
        nodes = {run.data.tags.get("archlab.ray_node_id") for run in runs}
        if name == "baseline":
            assert nodes == {None}
        else:  # one pipeline id for the stage's seeds, though a Ray worker's parent process is not the stage's
            assert len(nodes) == 1 and None not in nodes and "" not in nodes
            assert len({run.data.tags["archlab.pipeline_run_id"] for run in runs}) == 1
    # The network's seeds start from different weights: their models differ
    weights = [modelio.load(f).get_weights()[0] for f in modelio.seed_folders(root / "models" / "shallow_mlp").values()]
    assert not np.allclose(weights[0], weights[1])


@pytest.mark.slow  # the `seeded` fixture: six trainings, the network's on a local Ray
def test_evaluate_reports_mean_spread_and_the_median_seed(seeded):
    root, _, _, results, _ = seeded
    saved = json.loads((root / "metrics/evaluate.json").read_text())
    for name in ARCHS:
        entry = saved[name]
        scores = [entry["seed_accuracy"][str(s)] for s in SEEDS]
        assert entry["seeds"] == SEEDS
        assert entry["test_accuracy_mean"] == pytest.approx(statistics.fmean(scores))
        assert entry["test_accuracy_std"] == pytest.approx(statistics.stdev(scores))
        assert sorted(scores)[1] == pytest.approx(entry["accuracy"])  # the model scored in full is the median one
        assert entry["seed_accuracy"][str(entry["median_seed"])] == pytest.approx(entry["accuracy"])
    best = max(ARCHS, key=lambda n: results[n]["accuracy"])
    other = next(n for n in ARCHS if n != best)
    assert saved[other]["paired_test"] == "wilcoxon_over_seeds"
    leaderboard = (root / "reports/leaderboard.md").read_text()
    assert "mean ± std over seeds" in leaderboard and "Wilcoxon signed-rank" in leaderboard
    assert f"{saved[best]['test_accuracy_mean']:.4f} ± {saved[best]['test_accuracy_std']:.4f} (n=3)" in leaderboard
    # each seed's run holds its own test score
    client = mlflow.MlflowClient()
    for seed, run_id in results[best]["seed_runs"].items():
        assert client.get_run(run_id).data.metrics["seed_test_accuracy"] == pytest.approx(
            saved[best]["seed_accuracy"][seed])


@pytest.mark.slow  # the `seeded` fixture: six trainings, the network's on a local Ray
def test_register_takes_the_median_seed_model(seeded):
    root, params, _, results, _ = seeded
    for name in ARCHS:
        median = modelio.seed_folder(root / "models" / name, results[name]["median_seed"])
        version = max(reg.client().search_model_versions(f"name = '{params.project.name}-{name}'"),
                      key=lambda v: int(v.version))
        assert version.run_id == modelio.read_info(median)["run_id"]
        assert version.tags["archlab.seed"] == str(results[name]["median_seed"])


@pytest.mark.slow  # the `seeded` fixture: six trainings, the network's on a local Ray
def test_a_seed_that_was_not_trained_is_named(seeded):
    root, _, _, _, _ = seeded
    with pytest.raises(ArchlabError, match=r"no model trained with seed 99; seeds there: \['5', '6', '7'\]"):
        modelio.seed_folder(root / "models" / "baseline", 99)


def test_seed_params_are_checked():
    with pytest.raises(ParamsError, match=r"train.seeds.*each seed once; repeated: \[3\]"):
        parse_params({"train": {"seeds": [3, 4, 3]}})
    with pytest.raises(ParamsError, match="task forecasting scores one model per architecture"):
        parse_params({"task": "forecasting", "ingest": {"source": "co2"}, "featurize": {"backbones": []},
                      "train": {"architectures": ["seasonal_naive"], "feature_heads": [], "seeds": [1, 2]}})
    params = parse_params({"project": {"seed": 9}})
    assert params.train.seed_list(params.project.seed) == [9]  # no seeds: one model, as before


def test_paired_test_over_seeds():
    rng = np.random.default_rng(0)
    a = rng.random(400) < 0.9
    b = rng.random(400) < 0.9
    # one seed each: exactly McNemar
    assert paired_p_value([a], [b]) == (mcnemar_p_value(a, b), "mcnemar")
    assert mcnemar_p_value(a, b) == pytest.approx(
        binomtest(int(np.sum(a & ~b)), int(np.sum(a ^ b)), 0.5).pvalue)
    # the same predictions for every seed: no evidence either way
    assert paired_p_value([a, a, a], [a, a, a]) == (1.0, "wilcoxon_over_seeds")
    # a model right on every sample against one right on ~60%: a clear difference
    weak = [rng.random(400) < 0.6 for _ in range(3)]
    strong = [np.ones(400, dtype=bool)] * 3
    p, test = paired_p_value(strong, weak)
    assert test == "wilcoxon_over_seeds" and p < 1e-6
    # two draws of the same 90% model: no significant difference
    same = [[rng.random(400) < 0.9 for _ in range(3)] for _ in range(2)]
    assert paired_p_value(*same)[0] > 0.01


def test_seed_summary_median_and_ties():
    assert seed_summary({1: 0.90, 2: 0.95, 3: 0.92})["median_seed"] == 3
    assert seed_summary({1: 0.90, 2: 0.95, 3: 0.92, 4: 0.99})["median_seed"] == 3  # lower middle of four
    assert seed_summary({1: 0.9, 2: 0.9, 3: 0.9})["median_seed"] == 2  # ties: the middle of train.seeds' order
    summary = seed_summary({1: 0.5, 2: 1.0})
    assert summary["test_accuracy_mean"] == 0.75 and summary["test_accuracy_std"] == pytest.approx(0.125 ** 0.5)


@pytest.mark.slow  # the `seeded` fixture: six trainings, the network's on a local Ray
def test_the_terminal_leaderboard_shows_the_spread_only_with_seeds(seeded):
    from archlab import leaderboard_view

    root, _, _, results, _ = seeded
    rows = leaderboard_view.from_metrics_file(root / "metrics/evaluate.json")
    text = leaderboard_view.render(rows)
    assert "seeds mean" in text and f"{results['baseline']['test_accuracy_mean']:.4f}" in text
    one_seed = [{k: v for k, v in row.items() if not k.startswith("test_accuracy_")} for row in rows]
    assert "seeds mean" not in leaderboard_view.render(one_seed)
