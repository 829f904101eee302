"""The forecasting task: series sources, windows, the chronological split (no future data in training), the
series suite, the forecasters and their errors, and the lower-is-better promotion rule."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from archlab.data.store import read_dataset
from archlab.errors import DataError, ParamsError, ValidationFailed
from archlab.ingest import ingest
from archlab.params import SplitParams
from archlab.tasks.forecasting.errors import forecast_errors
from archlab.tasks.forecasting.series import chronological_split, seasonal_scale, windows
from archlab.validation.run import validate
from tests.conftest import make_params

FORECASTING = {"task": "forecasting", "featurize": {"backbones": []}, "train": {"feature_heads": []},
               "register": {"metric": "rmse"}}


def forecasting_params(ingest_section: dict, **sections):
    return make_params(**FORECASTING, ingest=ingest_section, **sections)


@pytest.fixture(scope="module")
def co2(tmp_path_factory):
    folder = tmp_path_factory.mktemp("co2")
    params = forecasting_params({"source": "co2", "window": 52, "horizon": 4, "season": 52},
                                validate={"min_per_class": 20})
    ingest(params, folder / "ingested", folder / "rejected.csv")
    validate(params, folder / "ingested", folder / "validation.json", folder / "docs")
    return folder, params


def test_windows_pair_each_input_with_the_values_right_after_it():
    values = np.arange(10.0)
    x, y, target_start = windows(values, window=3, horizon=2)
    assert x.shape == (6, 3) and y.shape == (6, 2)
    assert x[0].tolist() == [0, 1, 2] and y[0].tolist() == [3, 4] and target_start[0] == 3
    assert x[-1].tolist() == [5, 6, 7] and y[-1].tolist() == [8, 9]
    with pytest.raises(DataError, match=r"ingest.window \(8\) \+ ingest.horizon \(4\) need at least 12"):
        windows(values, window=8, horizon=4)


@pytest.mark.parametrize(("n", "horizon"), [(100, 1), (100, 4), (257, 7), (40, 3)])
def test_chronological_split_never_trains_on_the_future(n, horizon):
    _, _, target_start = windows(np.arange(float(n)), window=5, horizon=horizon)
    split = chronological_split(target_start, horizon, n, SplitParams(train=0.6, val=0.2, test=0.2))
    end = target_start + horizon - 1
    first = {s: target_start[split == s].min() for s in ("val", "test")}
    assert end[split == "train"].max() < first["val"]  # every train target precedes every val target
    assert end[split == "val"].max() < first["test"]
    assert (split == "").sum() <= 2 * (horizon - 1)  # only windows straddling a cut are dropped
    assert list(split[split != ""]) == sorted(split[split != ""], key=["train", "val", "test"].index)


def test_ingest_co2_interpolates_gaps_and_splits_in_time(co2):
    folder, _ = co2
    dataset = read_dataset(folder / "ingested")
    meta = dataset.meta
    assert meta["task"] == "forecasting" and meta["n_values"] == 2284 and meta["interpolated"] == 59
    assert dataset.images.shape == (meta["count"], 52, 1) and dataset.labels.shape == (meta["count"], 4)
    assert not np.isnan(dataset.images).any()
    rows = dataset.manifest
    train_end = pd.to_datetime(rows.loc[rows["split"] == "train", "target_end"]).max()
    assert train_end < pd.to_datetime(rows.loc[rows["split"] == "val", "target_start"]).min()
    x_train, y_train, _ = dataset.split("train")
    assert np.allclose(x_train[1:, -1, 0], y_train[:-1, 0])  # each window's target continues the series
    series = pd.read_csv(folder / "ingested/series.csv")
    assert meta["mase_scale"] == pytest.approx(seasonal_scale(series.loc[series["split"] == "train", "value"]
                                                              .to_numpy(), 52))


def test_csv_series_is_sorted_by_date_and_bad_rows_are_named(tmp_path):
    dates = pd.date_range("2020-01-01", periods=80, freq="D")
    frame = pd.DataFrame({"day": dates.strftime("%Y-%m-%d"), "sales": np.sin(np.arange(80)) + 5})
    frame.iloc[::-1].to_csv(tmp_path / "s.csv", index=False)  # newest first
    params = forecasting_params({"source": "csv", "path": str(tmp_path / "s.csv"), "date_column": "day",
                                 "value_column": "sales", "window": 8, "horizon": 2, "season": 7})
    meta = ingest(params, tmp_path / "out", tmp_path / "rejected.csv")
    assert meta["first_date"] == "2020-01-01" and meta["n_values"] == 80
    bad = frame.astype(object).copy()
    bad.loc[5, "sales"] = "n/a?"
    bad.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(DataError, match=r"s.csv: row 7 has 'n/a\?' in 'sales', not a number"):
        ingest(params, tmp_path / "out2", tmp_path / "rejected.csv")
    frame.rename(columns={"day": "when"}).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(DataError, match=r"missing column\(s\) \['day'\]"):
        ingest(params, tmp_path / "out3", tmp_path / "rejected.csv")
    assert not (tmp_path / "out2").exists() and not (tmp_path / "out3").exists()


def test_params_check_the_forecasting_settings():
    with pytest.raises(ParamsError, match="register.metric 'accuracy' does not fit task 'forecasting'"):
        make_params(task="forecasting", ingest={"source": "co2"}, featurize={"backbones": []},
                    train={"feature_heads": []}, register={"metric": "accuracy"})
    # no register.metric: the task's first metric, which knows it is lower-is-better
    assert make_params(task="forecasting", ingest={"source": "co2"}, featurize={"backbones": []},
                       train={"feature_heads": []}).task_metric.higher_is_better is False
    with pytest.raises(ParamsError, match=r"ingest.season \(60\) must not exceed ingest.window \(52\)"):
        forecasting_params({"source": "co2", "season": 60})


def test_series_suite_passes_and_catches_a_window_out_of_time_order(co2, tmp_path):
    import shutil

    folder, params = co2
    assert json.loads((folder / "validation.json").read_text())["success"] is True
    broken = tmp_path / "ingested"
    shutil.copytree(folder / "ingested", broken)
    manifest = pd.read_csv(broken / "manifest.csv")
    manifest.loc[manifest.index[-1], "split"] = "train"  # the very last window leaks into training
    manifest.to_csv(broken / "manifest.csv", index=False)
    with pytest.raises(ValidationFailed, match="windows.column_values_to_be_in_set.after_earlier_splits"):
        validate(params, broken, tmp_path / "validation.json", tmp_path / "docs")


def test_forecast_errors_and_mase():
    truth = np.array([[1.0, 2.0], [3.0, 4.0]])
    errors = forecast_errors(truth, truth + np.array([[1.0, -1.0], [3.0, 1.0]]), mase_scale=2.0)
    assert errors["mae"] == pytest.approx(1.5) and errors["rmse"] == pytest.approx(np.sqrt(3.0))
    assert errors["mase"] == pytest.approx(0.75) and errors["mae_by_step"] == pytest.approx([2.0, 1.0])


def test_seasonal_naive_repeats_last_season():
    import archlab.architectures.zoo.seasonal_naive as zoo_file
    from archlab.architectures.seasonal_naive_model import SeasonalNaive

    assert zoo_file.SeasonalNaive is SeasonalNaive  # where models saved before the move name it

    window = np.arange(12.0).reshape(1, 12, 1)
    assert SeasonalNaive(season=4, horizon=2).fit(window).predict(window).tolist() == [[8.0, 9.0]]


def test_lower_error_beats_the_champion():
    from archlab import tasks
    from archlab.promotion import beats

    rmse, mase = (tasks.get("forecasting").metric(name) for name in ("rmse", "mase"))
    accuracy = tasks.get("image_classification").metric("accuracy")
    assert beats(0.4, 0.5, 0.0, rmse) and not beats(0.5, 0.4, 0.0, rmse) and not beats(0.5, 0.5, 0.0, rmse)
    assert not beats(0.45, 0.5, 0.1, mase) and beats(0.9, 0.8, 0.0, accuracy)


@pytest.mark.parametrize("name", ["shallow_mlp", "rnn", "lstm", "transformer"])
def test_forecasting_networks_learn_and_reload(co2, tmp_path, name):
    """Three epochs on co2 windows: the loss falls, and the saved model forecasts the same after reloading."""
    from archlab import modelio
    from archlab.architectures.registry import get
    from archlab.training.data import load_training_data, subset
    from archlab.training.fit import FitContext, prepare_device

    folder, _ = co2
    data = subset(load_training_data(folder / "ingested"), 400, 100)
    arch = get(name)
    block = {"epochs": 3, "patience": 3, "checkpoint_every_s": 0}
    block |= {"units": [8]} if name in ("rnn", "lstm") else {}
    block |= {"embed_dim": 8, "num_heads": 2, "num_layers": 1, "mlp_dim": 8} if name == "transformer" else {}
    arch_params = arch.params(**block)
    prepare_device(arch_params, 0)  # as train@<arch> does: weights not drawn from earlier tests' generator state
    trained = arch.fits["forecasting"](data, arch_params, FitContext(seed=0, checkpoint_dir=tmp_path))
    losses = [row["loss"] for row in trained.history]
    assert losses[-1] < losses[0]
    forecast = modelio.predict_values(trained.model, data.x_val)
    assert forecast.shape == data.y_val.shape
    assert np.abs(forecast - data.y_val).mean() < 5.0  # on co2's scale (~320 ppm), not off by the level
    trained.model.save(tmp_path / "model.keras")
    assert np.allclose(modelio.predict_values(modelio.load(tmp_path / "model.keras"), data.x_val), forecast,
                       atol=1e-4)


WEEKLY = np.array([10.0, 12.0, 14.0, 13.0, 11.0, 3.0, 2.0])  # Monday .. Sunday: a pattern a one-day shift breaks


def daily_csv(path, *, drop: list[int], days: int = 1095, start: str = "2021-01-04"):
    """A daily sales file (one value per weekday of the pattern, plus a slow trend) with some days absent."""
    dates = pd.date_range(start, periods=days, freq="D")
    values = WEEKLY[dates.dayofweek] + 0.01 * np.arange(days)
    keep = np.setdiff1d(np.arange(days), drop)
    pd.DataFrame({"day": dates[keep].strftime("%Y-%m-%d"), "sales": values[keep]}).to_csv(path, index=False)
    return dates, values


def test_a_daily_series_with_absent_days_is_put_on_its_calendar(tmp_path, caplog):
    """20 absent days are inserted and interpolated: every window is 14 consecutive days, so the value 7 steps back
    is the same weekday (read as contiguous, each gap would shift every later season by a day)."""
    drop = list(range(40, 1000, 48))[:20]
    dates, values = daily_csv(tmp_path / "sales.csv", drop=drop)
    params = forecasting_params({"source": "csv", "path": str(tmp_path / "sales.csv"), "date_column": "day",
                                 "value_column": "sales", "window": 14, "horizon": 1, "season": 7})
    with caplog.at_level("INFO", logger="archlab"):
        meta = ingest(params, tmp_path / "ingested", tmp_path / "rejected.csv")
    assert meta["frequency"] == "D" and meta["interpolated"] == 20 and meta["missing_dates"] == 20
    assert meta["n_values"] == 1095 and "20 of 1,095 days interpolated" in caplog.text
    series = pd.read_csv(tmp_path / "ingested" / "series.csv")
    assert series["date"].tolist() == dates.strftime("%Y-%m-%d").tolist()
    real = np.setdiff1d(np.arange(1095), drop)
    assert np.allclose(series["value"].to_numpy()[real], values[real])
    dataset = read_dataset(tmp_path / "ingested")
    target_day = pd.to_datetime(dataset.manifest["target_start"]).to_numpy()
    position = ((target_day - dates[0].to_datetime64()) // np.timedelta64(1, "D")).astype(int)
    clean = ~np.isin(position, drop) & ~np.isin(position - 7, drop)
    assert np.allclose(dataset.labels[clean, 0], values[position[clean]])  # each target is its own date's value
    lag7 = np.asarray(dataset.images)[:, -7, 0]  # the same weekday one week before the target
    assert np.allclose(lag7[clean], values[position[clean]] - 0.07)


def test_irregular_dates_and_long_gaps_are_refused_with_the_dates(tmp_path):
    path = tmp_path / "odd.csv"
    pd.DataFrame({"date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04 10:00", "2024-01-06"],
                  "value": [1.0, 2.0, 3.0, 4.0, 5.0]}).to_csv(path, index=False)
    params = forecasting_params({"source": "csv", "path": str(path), "window": 2, "horizon": 1, "season": 1})
    with pytest.raises(DataError, match=r"irregular dates.*2024-01-04 10:00:00 \(after 2024-01-03"):
        ingest(params, tmp_path / "a", tmp_path / "r.csv")
    daily_csv(tmp_path / "gap.csv", drop=list(range(300, 310)))  # ten days in a row, longer than one season (7)
    params = forecasting_params({"source": "csv", "path": str(tmp_path / "gap.csv"), "date_column": "day",
                                 "value_column": "sales", "window": 14, "horizon": 1, "season": 7})
    with pytest.raises(DataError, match=r"10 days missing in a row, from 2021-10-31.* to 2021-11-09.*allows 7"):
        ingest(params, tmp_path / "b", tmp_path / "r.csv")
    assert not (tmp_path / "b").exists()
    params = forecasting_params({"source": "csv", "path": str(tmp_path / "gap.csv"), "date_column": "day",
                                 "value_column": "sales", "window": 14, "horizon": 1, "season": 7, "max_gap": 10})
    assert ingest(params, tmp_path / "c", tmp_path / "r.csv")["interpolated"] == 10


def test_a_given_frequency_is_checked_against_the_dates(tmp_path):
    daily_csv(tmp_path / "s.csv", drop=[5], days=60)
    params = forecasting_params({"source": "csv", "path": str(tmp_path / "s.csv"), "date_column": "day",
                                 "value_column": "sales", "window": 14, "horizon": 1, "season": 7,
                                 "frequency": "W-MON"})
    with pytest.raises(DataError, match=r"date 2021-01-05.* is not on the ingest.frequency='W-MON' grid"):
        ingest(params, tmp_path / "a", tmp_path / "r.csv")
    bad = forecasting_params({"source": "csv", "path": str(tmp_path / "s.csv"), "date_column": "day",
                              "value_column": "sales", "window": 14, "horizon": 1, "season": 7,
                              "frequency": "fortnight"})
    with pytest.raises(DataError, match="'fortnight' is not a pandas offset alias"):
        ingest(bad, tmp_path / "b", tmp_path / "r.csv")


@pytest.mark.slow
def test_rolling_origin_cross_validation_on_co2_feeds_the_leaderboard(co2, tmp_path):
    """cv@ for series: the seasonal-naive forecast and ridge on the window, 3 rolling-origin folds of co2's train +
    val windows (through Ray, as the stage runs them). Each fold scores the block after its training part by RMSE;
    a score matches a direct refit on the same rows; evaluate shows CV RMSE and the verdicts: ridge (which follows
    co2's trend) best, the seasonal-naive repeat of last year worse, with the rope 1% of ridge's CV RMSE."""
    import dataclasses

    from archlab import modelio
    from archlab.compare.folds import rolling_origin_folds
    from archlab.compare.run import cross_validate
    from archlab.evaluation.run import evaluate
    from archlab.training.data import load_training_data
    from archlab.training.run import train
    from tests.conftest import project_dir

    folder, _ = co2
    names = ["seasonal_naive", "baseline"]
    params = make_params(**{**FORECASTING, "train": {"architectures": names, "feature_heads": []}},
                         ingest={"source": "co2", "window": 52, "horizon": 4, "season": 52},
                         validate={"min_per_class": 20}, project={"name": "cvseries", "seed": 3},
                         compare={"folds": 3, "repeats": 1, "architectures": names}, evaluate={"latency_calls": 5})
    with project_dir(tmp_path):
        cv = {name: cross_validate(params, name, data_dir=folder / "ingested",
                                   validation_report=tmp_path / "validation.json", tuned_path=None,
                                   out_path=tmp_path / "metrics/cv" / f"{name}.json",
                                   resume_root=tmp_path / ".archlab/cv") for name in names}
        for name in names:  # the holdout side, as train@ writes it
            train(params, name, data_dir=folder / "ingested", validation_report=tmp_path / "validation.json",
                  model_dir=tmp_path / "models" / name, metrics_path=tmp_path / f"metrics/train/{name}.json",
                  plots_path=tmp_path / f"plots/{name}.csv", checkpoint_root=tmp_path / "ckpt", project_root=tmp_path)
        results = evaluate(params, data_dir=folder / "ingested", models_dir=tmp_path / "models",
                           metrics_path=tmp_path / "metrics/evaluate.json", plots_dir=tmp_path / "plots/evaluate",
                           leaderboard_path=tmp_path / "reports/leaderboard.md",
                           html_path=tmp_path / "reports/evaluation.html", figures_dir=tmp_path / "reports/figures",
                           cv_dir=tmp_path / "metrics/cv")
    data = load_training_data(folder / "ingested")
    n_rows = len(data.y_train) + len(data.y_val)
    ridge = cv["baseline"]
    assert ridge["metric"] == "rmse" and ridge["higher_is_better"] is False and ridge["n_rows"] == n_rows
    assert sorted(ridge["scores"]) == ["r0-f0", "r0-f1", "r0-f2"] and set(ridge["mae"]) == set(ridge["scores"])
    unscored = [row for row, forecast in enumerate(ridge["out_of_fold"][0]) if forecast is None]
    assert unscored == list(range(n_rows // 4))  # the first block only trains
    last = rolling_origin_folds(n_rows, 3, gap=3)[-1]  # the last fold again, by hand: ridge is deterministic
    x, y = np.concatenate([data.x_train, data.x_val]), np.concatenate([data.y_train, data.y_val])
    from archlab.architectures.registry import get

    arch = get("baseline")
    fold_data = dataclasses.replace(data, x_train=x[last.fit_rows], y_train=y[last.fit_rows],
                                    x_val=x[last.stop_rows], y_val=y[last.stop_rows])
    fitted = arch.fits["forecasting"](fold_data, params.train.arch_params("baseline"), _context(tmp_path))
    error = modelio.predict_values(fitted.model, x[last.score_rows]) - y[last.score_rows]
    assert ridge["scores"]["r0-f2"] == pytest.approx(float(np.sqrt(np.mean(error ** 2))), rel=1e-6)
    assert results["baseline"]["cv_verdict"] == "best" and results["seasonal_naive"]["cv_verdict"] == "worse"
    assert results["seasonal_naive"]["cv_rope"] == pytest.approx(0.01 * ridge["mean"])
    board = (tmp_path / "reports/leaderboard.md").read_text()
    assert "CV RMSE (mean ± std)" in board and "rolling-origin folds (expanding window" in board
    assert json.loads((tmp_path / "metrics/evaluate.json").read_text())["seasonal_naive"]["cv_verdict"] == "worse"


def _context(tmp_path):
    from archlab.training.fit import FitContext

    return FitContext(seed=3, checkpoint_dir=tmp_path / "direct")
