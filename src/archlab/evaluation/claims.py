"""The course's claims about architectures, checked on this run's own numbers: `reports/claims.md` and a section of
`reports/evaluation.html`, written by the evaluate stage.

Every verdict is computed here from the run's results (test scores, paired tests, the learning curve) and from the
benchmark's measured sections (`archlab.evaluation.benchmark_evidence`, which `make bench` writes from
reports/bench.json: class balancing on imbalanced digits, epoch time against sequence length). Nothing is
written in by hand: a claim without evidence in this run says "not measured" and how to measure it. Verdicts:
"holds here", "does not hold here", "inconclusive here" (a difference the paired test or the intervals cannot tell
from chance), "not measured"; with cross-validation (compare) the pairwise claims are
decided on the fold scores instead: holds, does not hold, "tied within rope here", or "undecided here" with what
would decide it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

HOLDS, FAILS, UNSURE, UNMEASURED = "holds here", "does not hold here", "inconclusive here", "not measured"
TIED, UNDECIDED = "tied within rope here", "undecided here"  # with cross-validation (compare)
CV_WORDS = {"better": HOLDS, "worse": FAILS, "tied within rope": TIED, "undecided": UNDECIDED}
DENSE = ("shallow_mlp", "deep_mlp")
PRETRAINED = ("pretrained_head", "finetune")
SCRATCH = ("cnn", "baseline", "shallow_mlp", "deep_mlp")


@dataclass
class Claim:
    claim: str
    verdict: str
    evidence: str
    figure: str | None = None  # the figure behind the evidence, relative to the project


def _paired(a: str, b: str, results: dict, correct: dict, alpha: float) -> tuple[str, str]:
    """Verdict that `a` beats `b`, and the sentence with the numbers: on their cross-validation folds when compare
    ran for both (`archlab.evaluation.cross_validation.compare_pair`), else on the test split (paired test over
    seeds)."""
    from archlab.evaluation.cross_validation import compare_pair
    from archlab.evaluation.scoring import paired_p_value

    on_folds = compare_pair(results[a], results[b])
    if on_folds is not None:
        return CV_WORDS[on_folds[0]], on_folds[1]

    p, test = paired_p_value(correct[a], correct[b])
    acc_a, acc_b = results[a]["accuracy"], results[b]["accuracy"]
    words = f"{a} {acc_a:.4f} vs {b} {acc_b:.4f} test accuracy ({acc_a - acc_b:+.4f}; {test} p={p:.3g}"
    words += f", alpha {alpha})"
    if p >= alpha:
        return UNSURE, words
    return (HOLDS if acc_a > acc_b else FAILS), words


def deep_vs_shallow(results: dict, correct: dict, alpha: float) -> Claim:
    claim = "Deeper networks learn better representations than shallow ones (deep_mlp vs shallow_mlp)."
    if not {"deep_mlp", "shallow_mlp"} <= results.keys():
        return Claim(claim, UNMEASURED, "train.architectures lacks deep_mlp or shallow_mlp")
    verdict, words = _paired("deep_mlp", "shallow_mlp", results, correct, alpha)
    return Claim(claim, verdict, words + f"; parameters {results['deep_mlp']['param_count']:,} vs "
                                         f"{results['shallow_mlp']['param_count']:,}")


def cnn_vs_dense(results: dict, correct: dict, alpha: float) -> Claim:
    claim = "On images, convolutional networks beat dense networks (cnn vs the better of shallow_mlp, deep_mlp)."
    dense = [n for n in DENSE if n in results]
    if "cnn" not in results or not dense:
        return Claim(claim, UNMEASURED, "train.architectures lacks cnn or both dense networks")
    best_dense = max(dense, key=lambda n: results[n]["accuracy"])
    verdict, words = _paired("cnn", best_dense, results, correct, alpha)
    return Claim(claim, verdict, words)


def pretrained_with_little_data(curve: dict | None) -> Claim:
    """Pretrained (pretrained_head, finetune) against trained-from-scratch models at the smallest share of the
    learning curve: holds when the best pretrained model's bootstrap interval lies above the best scratch model's."""
    claim = "Pre-trained models achieve high performance with limited data."
    points = (curve or {}).get("points") or []
    names = {p["architecture"] for p in points}
    if not points or not names & set(PRETRAINED) or not names & set(SCRATCH):
        return Claim(claim, UNMEASURED, "needs evaluate.learning_curve with a pretrained and a from-scratch "
                                        "architecture in evaluate.learning_curve_architectures")
    smallest = min(p["fraction"] for p in points)
    at = {p["architecture"]: p for p in points if p["fraction"] == smallest}
    best_pre = max((n for n in at if n in PRETRAINED), key=lambda n: at[n]["test_accuracy"])
    best_scratch = max((n for n in at if n in SCRATCH), key=lambda n: at[n]["test_accuracy"])
    pre, scratch = at[best_pre], at[best_scratch]
    words = (f"with {pre['n_train']} training samples ({smallest:g} of the split): {best_pre} "
             f"{pre['test_accuracy']:.4f} [{pre['ci_low']:.3f}, {pre['ci_high']:.3f}] vs {best_scratch} "
             f"{scratch['test_accuracy']:.4f} [{scratch['ci_low']:.3f}, {scratch['ci_high']:.3f}] test accuracy")
    if pre["ci_low"] > scratch["ci_high"]:
        verdict = HOLDS
    elif scratch["ci_low"] > pre["ci_high"]:
        verdict = FAILS
    else:
        verdict = UNSURE
    full = {p["architecture"]: p["test_accuracy"] for p in points if p["fraction"] == max(x["fraction"]
                                                                                          for x in points)}
    words += "; with all of it: " + ", ".join(f"{n} {a:.4f}" for n, a in sorted(full.items(), key=lambda i: -i[1]))
    weights = curve.get("weights") or {}
    if weights:
        words += "; pretrained weights: " + ", ".join(f"{n} {w}" for n, w in weights.items())
        if "hed-bsds500" in weights.values():
            words += (" (hed-bsds500: VGG16 fine-tuned for edge detection on BSDS500, the only weights available "
                      "offline; ImageNet weights need a download and may change the verdict)")
    return Claim(claim, verdict, words, figure="reports/figures/learning_curve.png")


def rbm_for_imbalance(bench: dict | None) -> Claim:
    """rbm_oversample against none, class_weight and smote on the same architectures (bench section `imbalance`):
    holds when it raises the cut classes' recall over no balancing for every architecture, does not hold when it
    raises it for none of them; the evidence also names the best method per architecture."""
    claim = "RBMs are used for handling imbalanced datasets (rbm_oversample against none, class_weight, smote)."
    section = ((bench or {}).get("results") or {}).get("imbalance")
    if not section or "rbm_oversample" not in section.get("methods", []) or "none" not in section["methods"]:
        return Claim(claim, UNMEASURED, "run `python -m bench.run --sections imbalance --merge --out reports`")
    lines, gains, best = [], [], []
    for arch in section["architectures"]:
        mine = {r["class_balance"]: r for r in section["rows"] if r["architecture"] == arch}
        gains.append(mine["rbm_oversample"]["minority_recall"] - mine["none"]["minority_recall"])
        best.append(f"{max(mine, key=lambda m: mine[m]['minority_recall'])} for {arch}")
        lines.append(f"{arch}: " + ", ".join(f"{m} {r['minority_recall']:.3f}/{r['balanced_accuracy']:.3f}"
                                             for m, r in mine.items()))
    verdict = HOLDS if all(g > 0 for g in gains) else (FAILS if all(g <= 0 for g in gains) else UNSURE)
    words = (f"{section['setup']}; cut classes' recall / balanced accuracy on the full test split (one split, one "
             "seed): " + "; ".join(lines) + ". rbm_oversample changed the cut classes' recall over no balancing by "
             + ", ".join(f"{g:+.3f}" for g in gains) + "; the best method: " + ", ".join(best))
    return Claim(claim, verdict, words)


def transformer_speed(bench: dict | None) -> Claim:
    """Transformer against SimpleRNN and LSTM epoch time as the sequence grows (bench section `sequence_speed`):
    holds when the transformer is fastest at the longest length measured on some device."""
    claim = "Transformers are fully parallelizable, so they train faster than RNNs."
    section = ((bench or {}).get("results") or {}).get("sequence_speed")
    if not section:
        return Claim(claim, UNMEASURED, "run `python -m bench.run --sections sequence_speed --merge --out reports`")
    lines, verdicts = [], []
    for device, per_arch in section["seconds_per_epoch"].items():
        # the longest length every architecture finished (None: it failed there, e.g. out of memory)
        done = set.intersection(*({k for k, v in times.items() if v is not None} for times in per_arch.values()))
        if not done:
            continue
        longest = str(max(int(k) for k in done))
        at = {arch: times[longest] for arch, times in per_arch.items()}
        fastest = min(at, key=at.get)
        verdicts.append(fastest == "transformer")
        failed = sorted(f"{a} at {k}" for a, times in per_arch.items() for k, v in times.items() if v is None)
        lines.append(f"{device}, length {longest}: " + ", ".join(f"{a} {s:.2f} s" for a, s in at.items())
                     + (f" (failed: {', '.join(failed)})" if failed else ""))
    if not verdicts:
        return Claim(claim, UNMEASURED, "no length where every architecture finished an epoch")
    verdict = HOLDS if all(verdicts) else (FAILS if not any(verdicts) else UNSURE)
    return Claim(claim, verdict, f"seconds per epoch ({section['setup']}): " + "; ".join(lines),
                 figure=section.get("figure"))


def curve_figure(curve: dict, path: Path) -> Path | None:
    """Test accuracy against training samples (log scale), a line per architecture, its bootstrap band shaded."""
    if not curve.get("points"):
        return None
    from archlab.figures import band_chart

    series = {}
    for name in curve["architectures"]:
        points = [p for p in curve["points"] if p["architecture"] == name]
        series[name] = ([p["n_train"] for p in points], [p["test_accuracy"] for p in points],
                        [p["ci_low"] for p in points], [p["ci_high"] for p in points])
    return band_chart(series, path, xlabel="training samples (log scale)", ylabel="test accuracy",
                      title="Learning curves: test accuracy against training-set size")


def build(results: dict, correct: dict, curve: dict | None, bench: dict | None, alpha: float,
          dataset: str = "digits") -> list[Claim]:
    """Every claim on this run's evidence; the two measured by the benchmark say so when `dataset` (the run's
    source) is not the digits the benchmark ran on."""
    benchmarked = [rbm_for_imbalance(bench), transformer_speed(bench)]
    if dataset != "digits":
        for claim in benchmarked:
            if claim.verdict != UNMEASURED:
                claim.evidence = f"measured by the benchmark on digits, not on {dataset}: {claim.evidence}"
    return [deep_vs_shallow(results, correct, alpha), cnn_vs_dense(results, correct, alpha),
            pretrained_with_little_data(curve), *benchmarked]


def markdown(claims: list[Claim], dataset: str) -> str:
    lines = [f"# The course's claims, checked on {dataset}", "",
             "Built by the evaluate stage from this run's metrics and the benchmark's measured sections "
             "(measured on digits by `make bench`); nothing here is written by hand.", "",
             "| claim | verdict | evidence |", "|---|---|---|"]
    lines += [f"| {c.claim} | **{c.verdict}** | {c.evidence}"
              + (f" (figure: {c.figure})" if c.figure else "") + " |" for c in claims]
    return "\n".join(lines) + "\n"


def html_section(claims: list[Claim]) -> str:
    rows = "".join(f"<tr><td style='text-align:left'>{html.escape(c.claim)}</td><td><b>{html.escape(c.verdict)}"
                   f"</b></td><td style='text-align:left'>{html.escape(c.evidence)}</td></tr>" for c in claims)
    return f"<h2>The course's claims, checked here</h2><table><tr><th>claim</th><th>verdict</th><th>evidence</th>" \
           f"</tr>{rows}</table>"


def unmeasured(task_name: str) -> list[Claim]:
    """Every claim "not measured": a task whose evaluation has no classifiers to compare (forecasting)."""
    why = f"task {task_name} trains no image or table classifiers to compare"
    return [Claim(c.claim, UNMEASURED, why) for c in build({}, {}, None, None, 0.05)]
