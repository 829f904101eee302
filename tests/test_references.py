"""The references (svc, knn, random_forest, gradient_boosting): the models a practitioner tries first, in the zoo
like every entry, marked on the leaderboard and in MLflow, and skipped, with the reason, above their size limit.
Their image fits are in test_architectures.py (every image classifier), their table fits in test_tabular.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archlab.architectures.registry import registry
from archlab.errors import ParamsError
from archlab.params import load_params
from tests.conftest import ROOT, make_params, project_dir, train_and_evaluate

REFERENCES = {"svc", "knn", "random_forest", "gradient_boosting"}


def test_the_references_are_marked_and_in_the_image_and_table_examples():
    assert {name for name, arch in registry().items() if arch.reference} == REFERENCES
    for path in ("params.yaml", "params/tabular.yaml"):
        assert REFERENCES <= set(load_params(ROOT / path).train.architectures), path
    assert "gradient_boosting" in load_params(ROOT / "params/forecasting.yaml").train.architectures


def test_knn_refuses_loss_weights_naming_the_block():
    with pytest.raises(ParamsError) as info:
        make_params(train={"knn": {"class_balance": "class_weight"}})
    assert "train.knn" in str(info.value) and "smote" in str(info.value)


def test_a_reference_over_its_size_limit_is_skipped_and_the_others_are_marked(digits_dataset, tmp_path):
    """svc with max_train_samples 100 on digits' ~1,260 training images: skipped by train@ and tune@ with the
    reason; knn trains, is tagged and labelled a reference; the baseline is not."""
    import mlflow

    from archlab.tuning.run import tune

    names = ["baseline", "knn", "svc"]
    params = make_params(project={"name": "refs", "seed": 1},
                         train={"architectures": names, "feature_heads": [], "svc": {"max_train_samples": 100}},
                         tune={"trials": 2}, evaluate={"bootstrap_resamples": 100, "latency_calls": 5})
    with project_dir(tmp_path):
        tuned = tune(params, "svc", data_dir=digits_dataset, validation_report=tmp_path / "validation.json",
                     out_path=tmp_path / "tuned/svc.yaml", storage_root=tmp_path / ".archlab/tune",
                     project_root=tmp_path)
        metrics, results = train_and_evaluate(params, names, digits_dataset, tmp_path)
        mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
        runs = mlflow.search_runs(experiment_names=["refs"], output_format="list")
    from archlab.training.data import load_training_data

    n_train = len(load_training_data(digits_dataset).y_train)
    limit = f"{n_train} training samples exceed train.svc.max_train_samples (100)"
    assert tuned == {} and limit in (tmp_path / "tuned/svc.yaml").read_text()
    assert metrics["svc"]["skipped"] and limit in json.loads((tmp_path / "models/svc/info.json").read_text())["reason"]
    assert set(results) == {"baseline", "knn"}
    assert results["knn"]["reference"] is True and results["baseline"]["reference"] is False
    assert results["knn"]["accuracy"] > 0.95 and results["knn"]["param_count"] == n_train * 64  # it keeps the data
    board = (tmp_path / "reports/leaderboard.md").read_text()
    assert "| knn (reference) |" in board and "| baseline |" in board and f"- svc: {limit}" in board
    assert "Test-size advisor: knn and baseline disagree on" in board
    tags = {run.info.run_name: run.data.tags for run in runs}
    assert tags["knn"]["archlab.reference"] == "true" and tags["baseline"]["archlab.reference"] == "false"
    assert tags["evaluation"]["archlab.references"] == "knn"
    assert "svc" not in tags and not any(name.startswith("tune-") for name in tags)  # nothing trained or tuned


def test_gradient_boosting_forecasts_a_trending_series_from_its_last_value(tmp_path):
    """co2 rises out of the training range in the later stretches: trees on raw levels would cap the forecast at
    the old maximum; on changes from the last value they beat the flat last-value forecast, and reload the same."""
    from archlab import modelio
    from archlab.architectures.registry import get
    from archlab.ingest import ingest
    from archlab.training.data import load_training_data
    from archlab.training.fit import FitContext
    from tests.test_forecasting import forecasting_params

    params = forecasting_params({"source": "co2", "window": 52, "horizon": 4, "season": 52})
    ingest(params, tmp_path / "ingested", tmp_path / "rejected.csv")
    data = load_training_data(tmp_path / "ingested")
    arch = get("gradient_boosting")
    trained = arch.fits["forecasting"](data, arch.params(max_iter=50), FitContext(seed=0, checkpoint_dir=tmp_path))
    forecast = modelio.predict_values(trained.model, data.x_val)
    last_value = np.repeat(data.x_val[:, -1].reshape(-1, 1), data.y_val.shape[1], axis=1)
    assert forecast.shape == data.y_val.shape
    assert np.abs(forecast - data.y_val).mean() < 0.8 * np.abs(last_value - data.y_val).mean()
    assert data.y_val.max() > data.y_train.max()  # the val stretch is above every training target
    reloaded = modelio.load(modelio.save(trained.model, trained.kind, tmp_path / "model"))
    assert np.allclose(modelio.predict_values(reloaded, data.x_val), forecast)
