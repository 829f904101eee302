"""Section "compare": the decisive comparison on digits (issue 29). Every architecture of train.architectures,
references included, cross-validated (compare.folds x compare.repeats) by the real pipeline in a scratch repo;
per architecture its CV mean ± std, its verdict against the best with the three probabilities, and its holdout
test score. Then the parallelism: each cv@ stage and the learning_curve stage run again, forced, with Ray held to
one CPU (ARCHLAB_RAY_CPUS=1: one fold at a time), so both walls come from the same run and the same machine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from bench import pipeline
from bench.measure import measure


def set_params(ws: Path, config: dict) -> list[str]:
    """Compare on for every architecture of the workspace's params (quick: fewer, shorter); returns them."""
    path = ws / "params.yaml"
    params = yaml.safe_load(path.read_text())
    archs = config.get("archs") or params["train"]["architectures"]
    params["train"]["architectures"] = archs
    for arch, block in config.get("train", {}).items():
        params["train"][arch].update(block)
    params["compare"].update(folds=config["folds"], repeats=config["repeats"], architectures=archs)
    params["evaluate"].update(config.get("evaluate", {}))
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return archs


def one_at_a_time(ws: Path, stages: list[str]) -> dict[str, float]:
    """Each stage re-run alone and forced, its Ray held to one CPU: the wall of the same work done serially."""
    return {stage: round(measure([pipeline.DVC, "repro", "--force", "--single-item", stage], ws,
                                 ARCHLAB_RAY_CPUS="1").wall_s, 1) for stage in stages}


def rows(ws: Path, archs: list[str]) -> list[dict]:
    evaluation = json.loads((ws / "metrics/evaluate.json").read_text())
    out = []
    for arch in archs:
        row = evaluation.get(arch, {})
        if "cv_mean" not in row:
            continue  # skipped (too large for it, or not built for the task)
        verdict = row["cv_verdict"] if row["cv_verdict"] == "best" else (
            f"{row['cv_verdict']} ({row['cv_p_worse']:.2f} / {row['cv_p_equivalent']:.2f} / {row['cv_p_better']:.2f})")
        out.append({"architecture": arch, "cv": f"{row['cv_mean']:.4f} ± {row['cv_std']:.4f}", "verdict": verdict,
                    "holdout_test_accuracy": round(row["accuracy"], 4), "cv_mean": row["cv_mean"]})
    return sorted(out, key=lambda r: -r["cv_mean"])


def network_vs_svc(ws: Path, archs: list[str]) -> dict | None:
    """The best network by CV mean against svc on the same folds (references and the baseline are not networks)."""
    from archlab.architectures.registry import get
    from archlab.evaluation.verdicts import against_best

    folds = {a: json.loads((ws / f"metrics/cv/{a}.json").read_text()) for a in archs
             if (ws / f"metrics/cv/{a}.json").is_file()}
    folds = {a: f for a, f in folds.items() if not f.get("skipped")}
    networks = [a for a in folds if not get(a).reference and get(a).family != "classical"]
    if "svc" not in folds or not networks:
        return None
    best = max(networks, key=lambda a: folds[a]["mean"])
    verdict = against_best(folds[best]["scores"], folds["svc"]["scores"], folds=folds[best]["folds"],
                           n_fit=folds[best]["n_fit"], n_score=folds[best]["n_score"], rope=0.01)
    return {"network": best, **verdict.as_dict()}


def claim_verdicts(ws: Path) -> dict[str, str]:
    """The two pairwise claims' verdicts, as reports/claims.md states them."""
    text = (ws / "reports/claims.md").read_text()
    found = {}
    for key, start in (("deeper vs shallow", "| Deeper networks"), ("cnn vs dense", "| On images, convolutional")):
        line = next((line for line in text.splitlines() if line.startswith(start)), "")
        match = re.search(r"\*\*(.+?)\*\*", line)
        found[key] = match.group(1) if match else "missing"
    return found


def compare(ws: Path, config: dict) -> dict:
    archs = set_params(ws, config)
    cold = pipeline.cold(ws, "evaluate")
    parallel = {s: v for s, v in cold["stage_seconds"].items() if s.startswith("cv@") or s == "learning_curve"}
    serial = one_at_a_time(ws, list(parallel))
    ratios = {s: round(parallel[s] / serial[s], 2) for s in parallel if serial[s]}
    cv_stages = [s for s in parallel if s.startswith("cv@")]
    return {"folds": config["folds"], "repeats": config["repeats"], "architectures": archs,
            "rows": rows(ws, archs), "network_vs_svc": network_vs_svc(ws, archs), "claims": claim_verdicts(ws),
            "wall_s": cold["wall_s"], "parallel_s": parallel, "one_at_a_time_s": serial, "ratios": ratios,
            "cv_ratio": round(sum(parallel[s] for s in cv_stages) / sum(serial[s] for s in cv_stages), 2)
            if cv_stages else None}


def goals(result: dict, goal) -> list[dict]:
    out = []
    if result["cv_ratio"] is not None:
        out.append(goal("cv stages with every core / one at a time", "<= 0.75", result["cv_ratio"],
                        result["cv_ratio"] <= 0.75, f"{len(result['architectures'])} cv@ stages"))
    if "learning_curve" in result["ratios"]:
        ratio, walls = result["ratios"]["learning_curve"], (result["parallel_s"], result["one_at_a_time_s"])
        out.append(goal("learning_curve stage with every core / one at a time", "<= 0.75", ratio, ratio <= 0.75,
                        f"{walls[0]['learning_curve']} s vs {walls[1]['learning_curve']} s"))
    versus = result["network_vs_svc"]
    if versus is not None:
        out.append(goal(f"best network ({versus['network']}) vs svc: a decided verdict", "not undecided",
                        versus["verdict"], versus["verdict"] != "undecided"))
    for claim, verdict in result["claims"].items():
        out.append(goal(f"claim {claim}: a decided verdict", "holds / does not hold / tied", verdict,
                        verdict not in ("undecided here", "inconclusive here", "not measured", "missing")))
    return out


def markdown(result: dict, table) -> list[str]:
    lines = ["", f"## Cross-validated comparison ({result['folds']} folds x {result['repeats']} repeats, digits)", "",
             "Verdict against the best CV mean: P(worse) / P(tied within rope) / P(better), Bayesian correlated "
             "t-test; holdout: the test split, untouched by the folds.", ""]
    lines += table(result["rows"], ["architecture", "cv", "verdict", "holdout_test_accuracy"])
    lines += ["", "Every core vs one at a time (same run, forced re-runs with ARCHLAB_RAY_CPUS=1), seconds:", ""]
    lines += table([{"stage": s, "every core": result["parallel_s"][s], "one at a time": result["one_at_a_time_s"][s],
                     "ratio": result["ratios"].get(s)} for s in result["parallel_s"]],
                   ["stage", "every core", "one at a time", "ratio"])
    return lines
