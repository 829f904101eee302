"""The claims' verdicts follow the evidence they are given (the end-to-end runs are in test_learning_curve.py and
the pipeline tests): each rule on inputs where the answer is known."""

import numpy as np

from archlab.evaluation import claims
from archlab.summary import summary_lines


def _results(**accuracy):
    return {name: {"accuracy": acc, "param_count": 10} for name, acc in accuracy.items()}


def _correct(n_right: int, n: int = 200) -> list[np.ndarray]:
    return [np.arange(n) < n_right]


def test_a_paired_difference_needs_significance_to_count():
    clear = claims.deep_vs_shallow(_results(deep_mlp=0.95, shallow_mlp=0.80),
                                   {"deep_mlp": _correct(190), "shallow_mlp": _correct(160)}, 0.05)
    assert clear.verdict == claims.HOLDS and "mcnemar" in clear.evidence.lower()
    reverse = claims.cnn_vs_dense(_results(cnn=0.80, shallow_mlp=0.95, deep_mlp=0.90),
                                  {"cnn": _correct(160), "shallow_mlp": _correct(190), "deep_mlp": _correct(180)},
                                  0.05)
    assert reverse.verdict == claims.FAILS and "vs shallow_mlp" in reverse.evidence  # the better dense network
    close = claims.deep_vs_shallow(_results(deep_mlp=0.955, shallow_mlp=0.95),
                                   {"deep_mlp": _correct(191), "shallow_mlp": _correct(190)}, 0.05)
    assert close.verdict == claims.UNSURE
    assert claims.deep_vs_shallow(_results(deep_mlp=0.9), {}, 0.05).verdict == claims.UNMEASURED


def _curve(pre: tuple[float, float, float], scratch: tuple[float, float, float], weights: str = "hed-bsds500"):
    def point(name, fraction, acc, low, high):
        return {"architecture": name, "fraction": fraction, "n_train": int(1000 * fraction), "test_accuracy": acc,
                "ci_low": low, "ci_high": high}

    return {"points": [point("finetune", 0.1, *pre), point("cnn", 0.1, *scratch), point("finetune", 1.0, 0.97, 0, 1),
                       point("cnn", 1.0, 0.98, 0, 1)], "weights": {"finetune": weights}}


def test_the_pretrained_claim_reads_the_intervals_at_the_smallest_share():
    assert claims.pretrained_with_little_data(_curve((0.9, 0.87, 0.93), (0.7, 0.65, 0.75))).verdict == claims.HOLDS
    fails = claims.pretrained_with_little_data(_curve((0.7, 0.65, 0.75), (0.9, 0.87, 0.93)))
    assert fails.verdict == claims.FAILS
    assert "100 training samples" in fails.evidence and "edge detection" in fails.evidence  # the weights caveat
    assert claims.pretrained_with_little_data(_curve((0.8, 0.7, 0.9), (0.82, 0.75, 0.88))).verdict == claims.UNSURE
    imagenet = claims.pretrained_with_little_data(_curve((0.9, 0.87, 0.93), (0.7, 0.65, 0.75), "imagenet"))
    assert "edge detection" not in imagenet.evidence and "finetune imagenet" in imagenet.evidence
    assert claims.pretrained_with_little_data({"points": []}).verdict == claims.UNMEASURED


def _imbalance(recalls: dict[str, dict[str, float]]):
    rows = [{"architecture": arch, "class_balance": method, "minority_recall": r, "balanced_accuracy": r}
            for arch, per in recalls.items() for method, r in per.items()]
    methods = list(next(iter(recalls.values())))
    return {"results": {"imbalance": {"architectures": list(recalls), "methods": methods, "rows": rows,
                                      "setup": "digits cut"}}}


def test_the_rbm_claim_holds_where_rbm_oversample_raises_the_minority_recall():
    good = {"none": 0.5, "class_weight": 0.9, "smote": 0.7, "rbm_oversample": 0.8}
    bad = {"none": 0.5, "class_weight": 0.6, "smote": 0.7, "rbm_oversample": 0.4}
    helped = claims.rbm_for_imbalance(_imbalance({"baseline": good, "cnn": good}))
    assert helped.verdict == claims.HOLDS and "+0.300, +0.300" in helped.evidence
    assert "the best method: class_weight for baseline, class_weight for cnn" in helped.evidence
    assert claims.rbm_for_imbalance(_imbalance({"baseline": bad, "cnn": bad})).verdict == claims.FAILS
    assert claims.rbm_for_imbalance(_imbalance({"baseline": good, "cnn": bad})).verdict == claims.UNSURE
    assert claims.rbm_for_imbalance(None).verdict == claims.UNMEASURED


def test_the_speed_claim_compares_epoch_times_at_the_longest_sequence():
    def bench(transformer_at_1024: float):
        times = {"rnn": {"16": 0.1, "1024": 5.0}, "lstm": {"16": 0.2, "1024": 9.0},
                 "transformer": {"16": 0.3, "1024": transformer_at_1024}}
        return {"results": {"sequence_speed": {"seconds_per_epoch": {"cpu": times}, "setup": "synthetic"}}}

    assert claims.transformer_speed(bench(2.0)).verdict == claims.HOLDS
    slow = claims.transformer_speed(bench(30.0))
    assert slow.verdict == claims.FAILS and "length 1024" in slow.evidence and "transformer 30.00 s" in slow.evidence


def test_the_claims_file_lists_every_claim_and_the_summary_prints_the_verdicts(tmp_path):
    checked = claims.build(_results(deep_mlp=0.95, shallow_mlp=0.80),
                           {"deep_mlp": _correct(190), "shallow_mlp": _correct(160)}, None, None, 0.05)
    text = claims.markdown(checked, "digits")
    assert text.count("\n| ") == 1 + 5  # header and one row per claim
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/claims.md").write_text(text)
    (tmp_path / "data/ingested").mkdir(parents=True)
    (tmp_path / "data/ingested/meta.json").write_text(
        '{"task": "image_classification", "source": "digits", "count": 3, "n_classes": 2, "image_shape": [8, 8, 1],'
        ' "split_counts": {"train": 1, "val": 1, "test": 1}, "rejected": 0}')
    lines = summary_lines(tmp_path)
    verdicts = [line.strip() for line in lines[lines.index("The course's claims on this data (reports/claims.md):")
                                               + 1:]]
    assert verdicts[0].startswith("holds here: Deeper networks") and len(verdicts) == 5
    assert sum(v.startswith("not measured") for v in verdicts) == 4


def _with_folds(results: dict, **shifts: float) -> dict:
    """Results rows with cross-validation fold scores: a shared base per fold plus each model's shift and noise."""
    rng = np.random.default_rng(1)
    base = {f"r{r}-f{f}": 0.95 + rng.normal(0, 0.01) for r in range(2) for f in range(5)}
    for name, (shift, noise) in shifts.items():
        scores = {k: v + shift + rng.normal(0, noise) for k, v in base.items()}
        results[name] |= {"architecture": name, "cv_mean": float(np.mean(list(scores.values()))), "cv_rope": 0.01,
                          "cv_design": "5x2", "cv_folds": {"scores": scores, "folds": 5, "n_fit": 800,
                                                           "n_score": 200}}
    return results


def test_with_cross_validation_the_pairwise_claims_are_decided_on_the_folds():
    """The holdout says "inconclusive" for all three pairs (one test split, a 0.5-point gap); the folds decide: a
    clear 5-point gain holds, a 0.1-point one is a tie within the 0.01 rope, a noisy one stays undecided and says
    what would decide it."""
    correct = {"deep_mlp": _correct(191), "shallow_mlp": _correct(190), "cnn": _correct(191)}
    holds = _with_folds(_results(deep_mlp=0.955, shallow_mlp=0.95), deep_mlp=(0.05, 0.002), shallow_mlp=(0, 0.002))
    verdict = claims.deep_vs_shallow(holds, correct, 0.05)
    assert verdict.verdict == claims.HOLDS and "CV accuracy (5x2" in verdict.evidence
    tied = _with_folds(_results(deep_mlp=0.955, shallow_mlp=0.95), deep_mlp=(0.001, 0.001), shallow_mlp=(0, 0.001))
    assert claims.deep_vs_shallow(tied, correct, 0.05).verdict == claims.TIED
    noisy = _with_folds(_results(cnn=0.955, shallow_mlp=0.95), cnn=(0.01, 0.03), shallow_mlp=(0, 0.001))
    undecided = claims.cnn_vs_dense(noisy, correct, 0.05)
    assert undecided.verdict == claims.UNDECIDED and "would decide it: " in undecided.evidence
    half = _with_folds(_results(deep_mlp=0.955, shallow_mlp=0.95), deep_mlp=(0.05, 0.002))  # one side has no folds
    assert claims.deep_vs_shallow(half, correct, 0.05).verdict == claims.UNSURE  # the holdout's paired test


def test_the_benchmark_claims_say_when_the_data_is_not_digits():
    bench = _imbalance({"baseline": {"none": 0.5, "rbm_oversample": 0.8}})
    on_digits = claims.build({}, {}, None, bench, 0.05, "digits")[3]
    on_cifar = claims.build({}, {}, None, bench, 0.05, "image_dir")[3]
    assert "not on" not in on_digits.evidence
    assert on_cifar.evidence.startswith("measured by the benchmark on digits, not on image_dir: ")
