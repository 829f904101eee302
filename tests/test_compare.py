"""Repeated cross-validation (`compare`, cv@<arch>): the folds, the two tests behind the verdicts (against values
worked out by hand), the verdict rules, the executor's resume, and a real cross-validation scored into the
leaderboard."""

from __future__ import annotations

import itertools
import json
import shutil

import numpy as np
import pytest

from archlab.compare.folds import repeated_stratified_folds
from archlab.errors import ParamsError
from archlab.evaluation.verdicts import against_best, corrected_t_test, correlated_posterior
from tests.conftest import make_params

# Six paired fold differences (model minus best) of a 5-fold x 2 design... worked by hand:
# mean 0.015; squared deviations 25+25+225+225+25+25 = 550 (x 1e-6), s^2 = 550/5 = 110e-6.
D = np.array([0.01, 0.02, 0.00, 0.03, 0.01, 0.02])


def test_folds_are_stratified_reproducible_disjoint_and_cover_every_row_once_per_repeat():
    y = np.repeat(np.arange(3), [40, 30, 20])
    folds = repeated_stratified_folds(y, folds=5, repeats=2, seed=7)
    assert len(folds) == 10 and [f.key for f in folds[:2]] == ["r0-f0", "r0-f1"]
    for repeat in (0, 1):
        scored = np.concatenate([f.score_rows for f in folds if f.repeat == repeat])
        assert sorted(scored.tolist()) == list(range(len(y)))  # each row held out exactly once a repeat
    for f in folds:
        assert np.bincount(y[f.score_rows]).tolist() == [8, 6, 4]  # each fold has the data's class mix
        parts = [set(f.fit_rows), set(f.stop_rows), set(f.score_rows)]
        assert not (parts[0] & parts[1]) and not (parts[0] | parts[1]) & parts[2]
        assert len(parts[0] | parts[1] | parts[2]) == len(y)
        assert np.bincount(y[f.stop_rows], minlength=3).min() >= 1  # early stopping sees every class
    again = repeated_stratified_folds(y, folds=5, repeats=2, seed=7)
    assert all(np.array_equal(a.score_rows, b.score_rows) and np.array_equal(a.fit_rows, b.fit_rows)
               for a, b in zip(folds, again, strict=True))
    assert not np.array_equal(folds[0].score_rows, folds[5].score_rows)  # a repeat reshuffles
    with pytest.raises(ValueError, match="a class has only 20 samples"):
        repeated_stratified_folds(y, folds=25, repeats=1, seed=0)


def test_corrected_resampled_t_test_against_the_hand_computation():
    """Nadeau & Bengio: var of the mean = (1/J + n_score/n_fit) s^2 = (1/6 + 1/4) x 110e-6 = 45.83e-6; t = 0.015 /
    0.006770 = 2.2156 with 5 degrees of freedom: two-sided p = 0.0776 (t tables: between 2.015 (0.10) and 2.571
    (0.05)). The naive paired t-test (s^2 / J) would say t = 3.503, p = 0.017: "significant" on the same folds."""
    assert corrected_t_test(D, n_fit=4, n_score=1) == pytest.approx(0.0776, abs=5e-4)
    assert corrected_t_test(np.zeros(6), n_fit=4, n_score=1) == 1.0


def test_bayesian_correlated_t_test_against_the_hand_computation():
    """Benavoli et al. 2017 with rho = 1/5: scale^2 = (1/6 + 0.25) x 110e-6 = 45.83e-6 (scale 0.006770); rope 0.01:
    P(better) = P(T5 > (0.01 - 0.015) / 0.006770 = -0.7385) = 0.753, P(worse) = P(T5 < -0.025 / 0.006770 = -3.693)
    = 0.0071 (tables: between 0.005 at 4.032 and 0.01 at 3.365), P(tied) the rest."""
    worse, tied, better = correlated_posterior(D, folds=5, rope=0.01)
    assert better == pytest.approx(0.753, abs=2e-3) and worse == pytest.approx(0.0071, abs=5e-4)
    assert worse + tied + better == pytest.approx(1.0)
    assert correlated_posterior(np.full(6, 0.002), folds=5, rope=0.01) == (0.0, 1.0, 0.0)  # every fold agrees


@pytest.mark.parametrize(("shift", "noise", "expected"), [(0.05, 0.005, "better"), (-0.05, 0.005, "worse"),
                                                           (0.0005, 0.002, "tied within rope"),
                                                           (0.0, 0.03, "undecided")])
def test_the_verdict_follows_the_posterior(shift, noise, expected):
    rng = np.random.default_rng(0)
    best = {f"r{r}-f{f}": 0.9 + rng.normal(0, 0.01) for r in range(5) for f in range(10)}
    model = {key: score + shift + rng.normal(0, noise) for key, score in best.items()}
    verdict = against_best(model, best, folds=10, n_fit=900, n_score=100, rope=0.01)
    assert verdict.word == expected, verdict
    with pytest.raises(ValueError, match="fold keys differ"):
        against_best({"r0-f0": 0.9}, {"r0-f1": 0.9}, folds=2, n_fit=1, n_score=1, rope=0.01)


@pytest.mark.parametrize(("n_rows", "folds", "horizon"), [(400, 4, 4), (131, 3, 1), (1000, 5, 12)])
def test_rolling_origin_folds_never_fit_a_target_they_stop_on_or_score(n_rows, folds, horizon):
    """Windows of a series (stride 1, a target of `horizon` values each): in every fold every fitted target ends
    before the first early-stopping target, and every stopping target before the first scored one; the scored
    blocks follow each other to the end, the first block only trains, and the fit part grows fold by fold."""
    from archlab.compare.folds import rolling_origin_folds
    from archlab.tasks.forecasting.series import windows

    _, y, target_start = windows(np.arange(float(n_rows + 5 + horizon - 1)), window=5, horizon=horizon)
    assert len(y) == n_rows
    cut = rolling_origin_folds(n_rows, folds, gap=horizon - 1)
    assert [f.key for f in cut] == [f"r0-f{i}" for i in range(folds)]
    ends = target_start + horizon - 1  # the time step of each window's last target value
    for f in cut:
        assert ends[f.fit_rows].max() < target_start[f.stop_rows].min()
        assert ends[f.stop_rows].max() < target_start[f.score_rows].min()
        assert f.fit_rows[0] == 0 and len(f.stop_rows) >= 1
    scored = np.concatenate([f.score_rows for f in cut])
    assert scored.tolist() == list(range(n_rows // (folds + 1), n_rows))  # consecutive blocks, each row once
    assert all(len(a.fit_rows) < len(b.fit_rows) for a, b in itertools.pairwise(cut))  # the origin rolls forward
    with pytest.raises(ValueError, match=r"train \+ val holds only 40 windows.*use fewer folds"):
        rolling_origin_folds(40, folds=9, gap=3)


def test_an_error_metric_is_turned_around_and_its_rope_is_relative(tmp_path):
    """Three forecasters' fold RMSEs (lower is better): the best is the lowest mean; the rope 0.01 becomes 1% of
    its RMSE (0.02 at 2.0), so a model 0.5% above it on every fold is tied and one 10% above is worse; the
    leaderboard's method note says how the rope was scaled."""
    from archlab.evaluation.cross_validation import add_verdicts, method_note

    rng = np.random.default_rng(1)
    base = 2.0 + rng.normal(0, 0.05, 5)
    (tmp_path / "cv").mkdir()
    for name, factor in (("lstm", 1.0), ("ridge", 1.005), ("mlp", 1.10)):
        scores = {f"r0-f{i}": float(v * factor + rng.normal(0, 0.001)) for i, v in enumerate(base)}
        (tmp_path / "cv" / f"{name}.json").write_text(json.dumps({
            "architecture": name, "metric": "rmse", "higher_is_better": False, "design": "rolling-origin folds",
            "folds": 5, "repeats": 1, "n_fit": 800, "n_score": 200, "scores": scores,
            "mean": float(np.mean(list(scores.values()))), "std": float(np.std(list(scores.values()), ddof=1))}))
    results = {name: {"architecture": name} for name in ("lstm", "ridge", "mlp")}
    assert add_verdicts(results, tmp_path / "cv", rope=0.01) == "lstm"
    assert results["lstm"]["cv_rope"] == pytest.approx(0.01 * results["lstm"]["cv_mean"])
    assert results["ridge"]["cv_verdict"] == "tied within rope" and results["mlp"]["cv_verdict"] == "worse"
    assert results["mlp"]["cv_mean_difference"] < 0  # turned around: negative is worse for every metric
    assert "rolling-origin folds (5x1" in method_note(results)
    assert "rope 0.01 of the best model's CV rmse (0.0" in method_note(results)


def test_compare_params_say_what_is_missing():
    with pytest.raises(ParamsError, match="compare.architectures is empty"):
        make_params(compare={"folds": 5})
    with pytest.raises(ParamsError, match=r"compare.architectures \['lstm'\] are not in train.architectures"):
        make_params(train={"architectures": ["baseline"]}, compare={"folds": 5, "architectures": ["lstm"]})
    with pytest.raises(ParamsError, match="task 'text_to_image' cannot be cross-validated"):
        make_params(task="text_to_image", ingest={"source": "digits"}, featurize={"backbones": []},
                    train={"architectures": ["baseline"], "feature_heads": []}, register={"metric": "caption_match"},
                    compare={"folds": 3, "architectures": ["baseline"]})
    series = {"task": "forecasting", "ingest": {"source": "co2"}, "featurize": {"backbones": []},
              "train": {"architectures": ["baseline"], "feature_heads": []}}
    with pytest.raises(ParamsError, match="compare.repeats is 2: a series' rolling-origin folds have one order"):
        make_params(**series, compare={"folds": 3, "repeats": 2, "architectures": ["baseline"]})
    assert make_params(**series, compare={"folds": 3, "architectures": ["baseline"]}).compare.folds == 3


def _cv(params, name, dataset, root, resume_root=None):
    from archlab.compare.run import cross_validate

    return cross_validate(params, name, data_dir=dataset, validation_report=root / "validation.json",
                          tuned_path=None, out_path=root / "metrics/cv" / f"{name}.json",
                          resume_root=resume_root or root / ".archlab/cv")


@pytest.mark.slow
def test_cross_validation_resumes_its_finished_folds_and_feeds_the_leaderboard(digits_dataset, tmp_path):
    """baseline and knn, 3 folds x 2 repeats on digits' train + val (the test split unread). A stage killed after
    four of knn's folds leaves them saved: the re-run keeps those four (one marked) and runs the other two. The
    evaluate stage then shows both CV columns and a verdict, and logs them; with a rope of 10 points the two are
    tied, and register puts the faster of them (tie_break: latency) to the promotion rule."""
    import mlflow

    from archlab.compare.executor import run_jobs
    from archlab.compare.folds import repeated_stratified_folds
    from archlab.compare.run import cv_rows, fit_fold, resume_dir
    from archlab.evaluation.run import evaluate
    from archlab.register import register
    from archlab.training.data import load_training_data
    from archlab.training.run import train
    from tests.conftest import project_dir

    names = ["baseline", "knn"]
    params = make_params(project={"name": "cv", "seed": 3}, train={"architectures": names, "feature_heads": []},
                         compare={"folds": 3, "repeats": 2, "rope": 0.1, "architectures": names},
                         evaluate={"bootstrap_resamples": 100, "latency_calls": 5})
    data = load_training_data(digits_dataset)
    x, y = cv_rows(data)
    folds = repeated_stratified_folds(y, 3, 2, seed=3)
    items = [f.job() for f in folds]
    shared = {"x": x, "y": y, "data": data, "name": "knn", "arch_params": params.train.arch_params("knn"),
              "task": params.task, "seed": 3}
    done = resume_dir(tmp_path / ".archlab/cv", params, "knn", params.train.arch_params("knn"), data.dataset_hash)
    run_jobs(fit_fold, shared, items[:4], done_dir=done, cpus=1, gpus=0, label="cv@knn")  # the killed stage's part
    saved = json.loads((done / "r0-f1.json").read_text())
    marked = round(saved["score"], 3) + 0.0001234  # a score no re-run gives (k-NN re-runs give the same score)
    (done / "r0-f1.json").write_text(json.dumps(saved | {"score": marked}))
    with project_dir(tmp_path):
        knn = _cv(params, "knn", digits_dataset, tmp_path)
        baseline = _cv(params, "baseline", digits_dataset, tmp_path)
        for name in names:  # the holdout side, as train@ writes it
            train(params, name, data_dir=digits_dataset, validation_report=tmp_path / "validation.json",
                  model_dir=tmp_path / "models" / name, metrics_path=tmp_path / f"metrics/train/{name}.json",
                  plots_path=tmp_path / f"plots/{name}.csv", checkpoint_root=tmp_path / "ckpt", project_root=tmp_path)
        results = evaluate(params, data_dir=digits_dataset, models_dir=tmp_path / "models",
                           metrics_path=tmp_path / "metrics/evaluate.json", plots_dir=tmp_path / "plots/evaluate",
                           leaderboard_path=tmp_path / "reports/leaderboard.md",
                           html_path=tmp_path / "reports/evaluation.html", figures_dir=tmp_path / "reports/figures",
                           cv_dir=tmp_path / "metrics/cv")
        decision = register(params, data_dir=digits_dataset, models_dir=tmp_path / "models",
                            evaluation_path=tmp_path / "metrics/evaluate.json",
                            decision_path=tmp_path / "reports/register.json")
        mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
        runs = {r.info.run_name: r for r in mlflow.search_runs(experiment_names=["cv"], output_format="list")}
    assert knn["scores"]["r0-f1"] == marked and sorted(knn["scores"]) == [i["key"] for i in items]  # resumed
    assert not done.exists()  # the saved folds go once the output is written
    n_rows = len(y)
    assert knn["n_rows"] == baseline["n_rows"] == n_rows == len(data.y_train) + len(data.y_val)
    assert all(sorted(r for r, label in enumerate(oof) if label is not None) == list(range(n_rows))
               for oof in baseline["out_of_fold"])
    assert baseline["metric"] == "accuracy" and baseline["higher_is_better"] and set(baseline["log_loss"]) == set(
        baseline["scores"])
    assert 0.9 < baseline["mean"] < 1.0 and baseline["std"] > 0
    board = (tmp_path / "reports/leaderboard.md").read_text()
    assert "CV accuracy (mean ± std)" in board and "repeated stratified k-fold (3x2" in board
    best = results["knn"]["cv_best"]
    other = "baseline" if best == "knn" else "knn"
    assert results[best]["cv_verdict"] == "best"
    assert results[other]["cv_verdict"] in {"worse", "undecided", "tied within rope", "better"}
    assert results[other]["cv_p_worse"] + results[other]["cv_p_equivalent"] + results[other]["cv_p_better"] == \
        pytest.approx(1.0)
    stored = json.loads((tmp_path / "metrics/evaluate.json").read_text())
    assert stored[other]["cv_verdict"] == results[other]["cv_verdict"]
    assert runs["knn"].data.metrics["cv_mean"] == pytest.approx(knn["mean"])
    assert runs["evaluation"].data.tags["archlab.cv_best_architecture"] == best
    assert results[other]["cv_verdict"] == "tied within rope"
    faster = min(names, key=lambda n: stored[n]["latency_ms_batch1"])
    assert set(decision["tie"]["tied"]) == set(names)
    assert decision["tie"]["chosen"] == faster == decision["challenger_architecture"]
    assert "register.tie_break: latency" in decision["tie"]["reason"]
    shutil.rmtree(tmp_path / "metrics/cv")  # compare off: the same evaluation without CV columns
    with project_dir(tmp_path):
        plain = evaluate(params, data_dir=digits_dataset, models_dir=tmp_path / "models",
                         metrics_path=tmp_path / "metrics/evaluate.json", plots_dir=tmp_path / "plots/evaluate",
                         leaderboard_path=tmp_path / "reports/leaderboard.md",
                         html_path=tmp_path / "reports/evaluation.html", figures_dir=tmp_path / "reports/figures",
                         cv_dir=tmp_path / "metrics/cv")
    assert "cv_mean" not in plain["knn"] and "CV accuracy" not in (tmp_path / "reports/leaderboard.md").read_text()


@pytest.mark.slow
def test_a_killed_cv_stage_resumes_with_the_folds_it_had_finished(tmp_path, digits_dataset):
    """SIGKILL to the whole cv@ stage (its local Ray included) once a fold's score is saved; the re-run keeps that
    fold (marked after the kill, so a re-trained one would show) and runs only the others."""
    import subprocess
    import sys

    import yaml

    from tests.conftest import ROOT, start_and_kill_when, subprocess_env

    (tmp_path / "params.yaml").write_text(yaml.safe_dump({
        "project": {"name": "cvkill", "seed": 5},
        "train": {"architectures": ["shallow_mlp"], "feature_heads": [],
                  "shallow_mlp": {"hidden_units": 16, "epochs": 12, "patience": 1000}},
        "compare": {"folds": 4, "repeats": 1, "architectures": ["shallow_mlp"]}}))
    (tmp_path / "validation.json").write_text(json.dumps({"success": True}))
    command = [sys.executable, str(ROOT / "stages" / "cv.py"), "--params", "params.yaml", "--arch", "shallow_mlp",
               "--data", str(digits_dataset), "--validation", "validation.json", "--out", "metrics/cv/shallow_mlp.json"]
    saved = tmp_path / ".archlab" / "cv"
    start_and_kill_when(command, tmp_path, lambda: sorted(saved.glob("*/r0-f*.json")))
    finished = sorted(saved.glob("*/r0-f*.json"))
    assert 1 <= len(finished) < 4 and not (tmp_path / "metrics/cv/shallow_mlp.json").exists()
    marked = finished[0]
    marked.write_text(json.dumps(json.loads(marked.read_text()) | {"score": 0.25}))

    second = subprocess.run(command, cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"{len(finished)} of 4 jobs finished before" in second.stderr, second.stderr[-3000:]
    result = json.loads((tmp_path / "metrics/cv/shallow_mlp.json").read_text())
    assert sorted(result["scores"]) == ["r0-f0", "r0-f1", "r0-f2", "r0-f3"]
    assert result["scores"][marked.stem] == 0.25
    assert all(0.5 < score <= 1.0 for key, score in result["scores"].items() if key != marked.stem)
    assert not any(saved.iterdir())  # the saved folds go once the output is written


def test_the_advisor_against_the_mcnemar_sample_size_worked_by_hand():
    """Connor (1987): n = (1.96 sqrt(psi) + 0.8416 sqrt(psi - delta^2))^2 / delta^2. For psi = 0.05, delta = 0.02:
    (1.96 x 0.22361 + 0.8416 x 0.22271)^2 / 0.0004 = 0.6257^2 / 0.0004 = 978.8 -> 979 test samples; so 979 samples
    detect a 2-point gap at that disagreement, and 269 (digits' test split) only gaps near 3 points at 3%."""
    from archlab.evaluation.advisor import advice, detectable_gap, samples_needed

    assert samples_needed(0.02, 0.05) == 979
    assert detectable_gap(979, 0.05) == pytest.approx(0.02, abs=1e-4)
    assert detectable_gap(269, 0.03) == pytest.approx(0.0295, abs=5e-4)
    assert samples_needed(0.0, 0.05) is None and detectable_gap(100, 0.0) is None
    best = np.ones(269, dtype=bool)
    runner_up = best.copy()
    runner_up[:6], best[6:8] = False, False  # 8 disagreements, a gap of 4 samples (1.49 points)
    line = advice("cnn", "shallow_mlp", best, runner_up, alpha=0.05)
    assert "disagree on 3.0% of the 269 test samples" in line and "1.49 points" in line
    assert f"about {samples_needed(4 / 269, 8 / 269):,} test samples, or cross-validation" in line


def test_register_breaks_a_cv_tie_by_the_chosen_rule_and_ignores_holdout_only_ties():
    from archlab.register import challenger
    from archlab.tasks.classification import CLASSIFICATION_METRICS

    metric = CLASSIFICATION_METRICS[0]
    evaluation = {
        "cnn": {"accuracy": 0.985, "latency_ms_batch1": 0.9, "model_size_bytes": 400_000, "cv_verdict": "best"},
        "svc": {"accuracy": 0.981, "latency_ms_batch1": 0.3, "model_size_bytes": 900_000,
                "cv_verdict": "tied within rope"},
        "knn": {"accuracy": 0.978, "latency_ms_batch1": 0.2, "model_size_bytes": 300_000, "cv_verdict": "worse"}}
    names = list(evaluation)
    assert challenger(names, evaluation, metric, "latency")[0] == "svc"  # knn is faster, but not tied
    assert challenger(names, evaluation, metric, "size")[0] == "cnn"
    chosen, tie = challenger(names, evaluation, metric, "score")
    assert chosen == "cnn" and tie["tied"] == ["cnn", "svc"] and "register.tie_break: score" in tie["reason"]
    holdout_only = {name: {k: v for k, v in row.items() if k != "cv_verdict"} for name, row in evaluation.items()}
    assert challenger(names, holdout_only, metric, "latency") == ("cnn", None)  # compare off: today's rule


def test_what_would_decide_an_undecided_pair_worked_by_hand():
    """d = [.01, .03, .01, .03, .02, .02]: mean 0.02, s^2 = 4 x 1e-4 / 5 = 8e-5, 0.01 past the rope's edge. With J
    scores of 5-fold, scale^2 = (1/J + 1/4) x 8e-5: at J = 8, 1.8946 x 0.005477 = 0.01038 > 0.01; at J = 9,
    1.8595 x 0.005375 = 0.00999 <= 0.01: 9 scores, two repeats. Doubling the spread (s^2 = 3.2e-4) puts even the
    floor 1.645 x sqrt(3.2e-4 / 4) = 0.0147 past the distance: only more data decides it."""
    from archlab.evaluation.verdicts import what_would_decide

    assert what_would_decide(np.array([0.01, 0.03, 0.01, 0.03, 0.02, 0.02]), folds=5, rope=0.01) == \
        "about 2 repeats of 5-fold (9 fold scores) if the spread stays as it is"
    assert what_would_decide(np.array([0.0, 0.04, 0.0, 0.04, 0.02, 0.02]), folds=5, rope=0.01).startswith(
        "more data: at 5 folds no number of repeats would")


def test_the_critical_difference_diagram_needs_three_models_with_folds(tmp_path):
    from archlab.evaluation.cross_validation import critical_difference

    rng = np.random.default_rng(0)
    keys = [f"r{r}-f{f}" for r in range(2) for f in range(5)]
    results = {name: {"cv_folds": {"scores": {k: 0.9 + shift + rng.normal(0, 0.01) for k in keys}}}
               for name, shift in (("svc", 0.05), ("cnn", 0.04), ("baseline", 0.0))}
    results["holdout_only"] = {}  # no fold scores: not in the diagram
    figure = critical_difference(results, tmp_path / "critical_difference.png")
    assert figure is not None and figure.stat().st_size > 5_000
    del results["svc"]
    assert critical_difference(results, tmp_path / "two.png") is None and not (tmp_path / "two.png").exists()


def test_the_tuning_budget_curve_uses_the_unbiased_expected_maximum_worked_by_hand(tmp_path):
    """Losses [1, 2, 3, 4]: the best of 2 trials drawn without replacement is 1 in three of the six pairs, 2 in two,
    3 in one: 10 / 6. One trial: the mean (2.5); all four: the minimum (1). Pruned trials are left out of the
    curve and counted in its label; a study with no finished trial (tune.trials 0) draws nothing."""
    from archlab.evaluation.tuning_budget import curve, expected_best, figure, read_studies

    assert expected_best([4, 1, 3, 2], 2) == pytest.approx(10 / 6)
    assert expected_best([4, 1, 3, 2], 1) == pytest.approx(2.5) and expected_best([4, 1, 3, 2], 4) == 1.0
    points = curve([4, 1, 3, 2], resamples=200)
    assert points["trials"] == [1, 2, 3, 4] and points["expected"][1] == pytest.approx(10 / 6)
    assert all(low <= mid + 1e-9 and mid <= high + 1e-9 for low, mid, high in
               zip(points["low"], points["expected"], points["high"], strict=True))
    # more trials never hurt:
    assert all(a >= b for a, b in zip(points["expected"], points["expected"][1:], strict=False))
    tuned = tmp_path / "tuned"
    tuned.mkdir()
    trials = [{"status": "FINISHED", "best_val_loss": v, "epochs": 5} for v in (0.4, 0.2, 0.3)]
    trials += [{"status": "PRUNED", "best_val_loss": 0.9, "epochs": 1}]
    (tuned / "cnn.trials.json").write_text(json.dumps({"architecture": "cnn", "trials": trials}))
    (tuned / "knn.trials.json").write_text(json.dumps({"architecture": "knn", "trials": []}))
    assert read_studies(tuned) == {"cnn": {"finished": [0.4, 0.2, 0.3], "pruned": 1, "ran": 4}}
    assert figure(tuned, tmp_path / "tuning_budget.png").stat().st_size > 5_000
    (tuned / "cnn.trials.json").unlink()
    assert figure(tuned, tmp_path / "none.png") is None and figure(None, tmp_path / "none.png") is None
