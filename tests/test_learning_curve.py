"""The learning_curve stage: nested stratified subsets, each architecture trained on them and scored on the whole
test split, the pipeline's own model as the 1.0 point; evaluate draws the figure and checks the claims."""

import json
import subprocess
import sys

import mlflow
import numpy as np
import pytest

from archlab.data.store import read_dataset
from archlab.learning_curve import learning_curve, nested_subsets
from archlab.training.data import load_training_data
from tests.conftest import make_params, project_dir, subprocess_env, train_and_evaluate

FRACTIONS = [0.2, 0.5, 1.0]
ARCHS = ["baseline", "shallow_mlp"]


def test_subsets_are_nested_stratified_and_reproducible():
    y = np.repeat(np.arange(4), [40, 20, 10, 3])
    subsets = nested_subsets(y, [0.1, 0.25, 0.5, 1.0], seed=3)
    assert np.array_equal(subsets[1.0], np.arange(len(y)))
    previous = np.array([], dtype=int)
    for fraction in (0.1, 0.25, 0.5, 1.0):
        rows = subsets[fraction]
        assert set(previous) <= set(rows)  # the smaller share is inside the larger one
        counts = np.bincount(y[rows], minlength=4)
        assert counts.tolist() == [max(1, round(fraction * n)) for n in (40, 20, 10, 3)]
        previous = rows
    again = nested_subsets(y, [0.1, 0.25, 0.5, 1.0], seed=3)
    assert all(np.array_equal(again[f], subsets[f]) for f in subsets)
    assert not np.array_equal(nested_subsets(y, [0.25], seed=4)[0.25], subsets[0.25])


def test_an_empty_list_writes_an_off_record_without_training(tmp_path, digits_session_dataset):
    code = ("import sys, json; from pathlib import Path; from tests.conftest import make_params; "
            "from archlab.learning_curve import learning_curve; "
            "out = learning_curve(make_params(), data_dir=Path(sys.argv[1]), models_dir=Path('m'), "
            "tuned_dir=Path('t'), features_root=Path('f'), out_path=Path(sys.argv[2])); "
            "print(out, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(digits_session_dataset), str(tmp_path / "lc.json")],
                         capture_output=True, text=True, env=subprocess_env(), check=True)
    assert out.stdout.strip().endswith("False"), out.stderr[-2000:]
    assert json.loads((tmp_path / "lc.json").read_text()) == {"fractions": [], "architectures": [], "points": []}


@pytest.fixture(scope="module")
def curve(tmp_path_factory, digits_session_dataset):
    """Two architectures trained as the pipeline does, their learning curve, then evaluate with it."""
    with project_dir(tmp_path_factory.mktemp("curve")) as root:
        params = make_params(project={"name": "curve", "seed": 2},
                             train={"architectures": ARCHS, "feature_heads": [], "baseline": {"C": 1.0},
                                    "shallow_mlp": {"epochs": 3, "hidden_units": 16}},
                             evaluate={"bootstrap_resamples": 200, "latency_calls": 5, "learning_curve": FRACTIONS,
                                       "learning_curve_architectures": ["baseline", "shallow_mlp", "cnn"]})
        train_and_evaluate(params, ARCHS, digits_session_dataset, root)  # the models the 1.0 point reuses
        result = learning_curve(params, data_dir=digits_session_dataset, models_dir=root / "models",
                                tuned_dir=root / "tuned", features_root=root / "features",
                                out_path=root / "metrics/learning_curve.json")
        from archlab.evaluation.run import evaluate

        evaluate(params, data_dir=digits_session_dataset, models_dir=root / "models",
                 metrics_path=root / "metrics/evaluate.json", plots_dir=root / "plots/evaluate",
                 leaderboard_path=root / "reports/leaderboard.md", html_path=root / "reports/evaluation.html",
                 figures_dir=root / "reports/figures", claims_path=root / "reports/claims.md",
                 learning_curve_path=root / "metrics/learning_curve.json")
        yield root, params, result


@pytest.mark.slow  # the `curve` fixture trains every architecture at every share
def test_every_architecture_is_scored_at_every_share_on_the_whole_test_split(curve, digits_session_dataset):
    root, _, result = curve
    assert result == json.loads((root / "metrics/learning_curve.json").read_text())
    assert result["architectures"] == ARCHS  # cnn is listed but not trained in this run: no curve for it
    y_train = load_training_data(digits_session_dataset).y_train
    n_test = len(read_dataset(digits_session_dataset).split("test")[1])
    assert result["n_test"] == n_test
    assert [(p["architecture"], p["fraction"]) for p in result["points"]] == [(a, f) for a in ARCHS for f in FRACTIONS]
    for point in result["points"]:
        assert point["n_train"] == len(nested_subsets(y_train, FRACTIONS, 2)[point["fraction"]])
        assert point["ci_low"] <= point["test_accuracy"] <= point["ci_high"]
        assert point["reused_pipeline_model"] == (point["fraction"] == 1.0)
    full = {p["architecture"]: p for p in result["points"] if p["fraction"] == 1.0}
    evaluation = json.loads((root / "metrics/evaluate.json").read_text())
    for name in ARCHS:  # the 1.0 point is the pipeline's own model: the leaderboard's very score
        assert full[name]["test_accuracy"] == pytest.approx(evaluation[name]["accuracy"])
        info = json.loads((root / "models" / name / "info.json").read_text())
        assert full[name]["train_seconds"] == pytest.approx(info["train_seconds"])
    small = {p["architecture"]: p["test_accuracy"] for p in result["points"] if p["fraction"] == 0.2}
    assert all(0.1 < acc < full[name]["test_accuracy"] + 0.05 for name, acc in small.items())


@pytest.mark.slow  # the `curve` fixture trains every architecture at every share
def test_evaluate_draws_the_curve_and_writes_the_claims(curve):
    root, params, _ = curve
    figure = root / "reports/figures/learning_curve.png"
    assert figure.stat().st_size > 10_000
    html = (root / "reports/evaluation.html").read_text()
    assert "figures/learning_curve.png" in html and "claims, checked here" in html
    claims = (root / "reports/claims.md").read_text()
    for claim in ("Deeper networks", "convolutional networks", "Pre-trained models", "RBMs", "Transformers"):
        assert claim in claims
    # deep_mlp and cnn are not in this run; no pretrained model in the curve; the benchmark's two claims cite the
    # evidence shipped with the code (archlab.evaluation.benchmark_evidence), measured on digits
    assert claims.count("**not measured**") == 3
    for claim in ("RBMs", "Transformers"):
        row = next(line for line in claims.splitlines() if claim in line)
        assert "**not measured**" not in row, row
    run = mlflow.search_runs(experiment_names=[params.project.name], output_format="list",
                             filter_string="tags.`archlab.stage` = 'evaluate'")[0]
    artifacts = [a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "report")]
    assert "report/learning_curve.png" in artifacts
