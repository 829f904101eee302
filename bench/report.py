"""reports/bench.json and reports/bench.md: the goals table first, then every section's figures."""

from __future__ import annotations

import json
from pathlib import Path


def goal(name: str, target: str, measured, met: bool | None, note: str = "") -> dict:
    return {"goal": name, "target": target, "measured": measured, "met": met, "note": note}


def goals(results: dict) -> list[dict]:
    """Each goal of the benchmark issue with its measured figure (None where a section did not run)."""
    out = []
    for row in results.get("overhead", {}).get("rows", []):
        out.append(goal(f"training overhead {row['architecture']} (whole process)", "<= 1.15", row["wall_ratio"],
                        row["wall_ratio"] <= 1.15, f"{row['archlab_wall_s']} s vs {row['bare_wall_s']} s"))
        out.append(goal(f"fixed per-stage cost over bare Keras, {row['architecture']}", "<= 2 s",
                        row["fixed_cost_s"], row["fixed_cost_s"] <= 2.0,
                        "(stage wall - training span) - (bare wall - bare training span)"))
        out.append(goal(f"training overhead {row['architecture']} (training span)", "<= 1.10", row["train_ratio"],
                        row["train_ratio"] <= 1.10, f"{row['archlab_train_s']} s vs {row['bare_train_s']} s"))
        long_run = row["archlab_train_s"] >= 60
        out.append(goal(f"MLflow share of {row['architecture']} training", "< 3% (runs of a minute or more)",
                        f"{100 * row['mlflow_share_of_train']:.1f}%",
                        row["mlflow_share_of_train"] < 0.03 if long_run else None,
                        f"{row['mlflow_s']} s waiting for MLflow ({row.get('mlflow_worker_s', '-')} s in its worker, "
                        "overlapped)"
                        + ("" if long_run else f"; a {row['archlab_train_s']} s run: reported, not judged")))
    pipeline = results.get("pipeline", {})
    if "cold" in pipeline:
        cold = pipeline["cold"]
        out.append(goal("full dvc repro, empty cache", "<= 2x the sum of its training spans", cold.get("span_ratio"),
                        cold.get("span_ratio") is not None and cold["span_ratio"] <= 2.0,
                        f"{cold['wall_s']} s wall, {cold.get('training_spans_s')} s training spans, "
                        f"{len(cold['stages'])} stages"))
        if cold.get("finetune_vs_cnn") is not None:
            out.append(goal("train@finetune stage / train@cnn stage", "<= 3x", cold["finetune_vs_cnn"],
                            cold["finetune_vs_cnn"] <= 3.0, f"{cold['stage_seconds'].get('train@finetune')} s vs "
                                                            f"{cold['stage_seconds'].get('train@cnn')} s"))
    if "noop" in pipeline:
        out.append(goal("no-op dvc repro", "< 2 s", pipeline["noop"]["wall_s"], pipeline["noop"]["wall_s"] < 2))
    if "one_param" in pipeline:
        change = pipeline["one_param"]
        arch = change["param"].split(".")[1]
        # tune@: with trials 0 a no-op write. learning_curve depends on the whole models/ folder (dvc.yaml: coarse on
        # purpose), so any architecture's new model re-runs it, on the curve or not.
        expected = {f"tune@{arch}", f"train@{arch}", "learning_curve", "evaluate", "register"}
        ran = [set(r) for r in change["stages_run"]]
        out.append(goal(f"change {change['param']}", " + ".join(sorted(expected)) + " only",
                        sorted(ran[0]), all(r == expected for r in ran), f"{change['wall_s']} s"))
    scaling = results.get("scaling")
    if scaling:
        for stage, exponent in scaling["growth"].items():
            out.append(goal(f"{stage} time growth", "at most linear (exponent <= 1)", exponent, exponent <= 1.0))
        largest = max(r["images"] for r in scaling["rows"])
        peak = max(r["peak_rss_mb"] for r in scaling["rows"] if r["images"] == largest)
        out.append(goal(f"peak memory at {largest} images", "< 2048 MiB", peak, peak < 2048))
    if "startup" in results:
        out.append(goal("archlab --help", "< 1 s", results["startup"]["help_s"], results["startup"]["help_s"] < 1.0))
    if "inference" in results:
        inf = results["inference"]
        out.append(goal(f"archlab predict on {inf['images']} images / bare model.predict", "(reported)",
                        inf["ratio"], None, f"{inf['archlab_s']} s vs {inf['bare_s']} s"))
    if "tuning" in results:
        from bench import tuning

        out += tuning.goals(results["tuning"], goal)
    if "compare" in results:
        from bench import compare

        out += compare.goals(results["compare"], goal)
    return out


def _table(rows: list[dict], columns: list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return lines


def markdown(doc: dict) -> str:
    mark = {True: "yes", False: "**no**", None: "-"}
    lines = ["# archlab benchmark", "", f"- Command: `{doc['command']}`", f"- Started: {doc['started']}, took "
             f"{doc['duration_s']:.0f} s", f"- Machine: {doc['machine']['cores']} cores, "
             f"{doc['machine']['memory_gib']} GiB, {doc['machine']['os']}, Python {doc['machine']['python']}",
             f"- Packages: {', '.join(f'{k} {v}' for k, v in doc['machine']['packages'].items())}",
             "- Timings are medians of alternated runs within this run; compare ratios, not absolute times across "
             "runs.", "", "## Goals", ""]
    lines += _table([{**g, "met": mark[g["met"]]} for g in doc["goals"]], ["goal", "target", "measured", "met", "note"])
    res = doc["results"]
    if "overhead" in res:
        lines += ["", f"## Training: archlab stage vs bare Keras ({res['overhead']['repeats']} alternated runs)", ""]
        lines += _table(res["overhead"]["rows"], ["architecture", "epochs", "archlab_wall_s", "bare_wall_s",
                                                  "wall_ratio", "archlab_train_s", "bare_train_s", "train_ratio",
                                                  "fixed_cost_s", "mlflow_s", "mlflow_worker_s"])
    if "pipeline" in res:
        p = res["pipeline"]
        lines += ["", "## Pipeline", ""]
        if "cold" in p:
            lines.append(f"- Cold `dvc repro` (empty cache; one run, ~6 min each): {p['cold']['wall_s']} s, "
                         f"stages: {', '.join(p['cold']['stages'])}")
            by_time = sorted(p["cold"].get("stage_seconds", {}).items(), key=lambda item: -item[1])
            if by_time:
                lines.append("- Cold run, seconds per stage (slowest first): "
                             + ", ".join(f"{name} {seconds}" for name, seconds in by_time))
            if p["cold"].get("training_spans"):
                spans = sorted(p["cold"]["training_spans"].items(), key=lambda item: -item[1])
                lines.append("- Training spans in the same run (build + compile + fit, the work no pipeline can skip): "
                             f"{p['cold']['training_spans_s']} s in all, so the cold run is {p['cold']['span_ratio']}x "
                             "them; " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in spans))
            if p["cold"].get("finetune_vs_cnn") is not None:
                lines.append(f"- train@finetune stage / train@cnn stage: {p['cold']['finetune_vs_cnn']}x")
        if "noop" in p:
            lines.append(f"- No-op `dvc repro`: median {p['noop']['wall_s']} s of {p['noop']['samples']}")
        if "one_param" in p:
            lines.append(f"- `{p['one_param']['param']}` changed to {p['one_param']['values']} (one run per value): "
                         f"median "
                         f"{p['one_param']['wall_s']} s; stages run each time: {p['one_param']['stages_run']}")
        if "register" in p:
            r = p["register"]
            lines.append(f"- Register stage from an empty registry: {r['wall_s']} s for {r['models']} models "
                         f"({r['per_model_s']} s per model; samples {r['samples']})")
    if "scaling" in res:
        lines += ["", "## Scaling (28x28 shifted digits)", ""]
        lines += _table(res["scaling"]["rows"], ["images", "stage", "wall_s", "ms_per_image", "peak_rss_mb",
                                                 "repeats"])
        lines += ["", f"Growth exponent between the two largest sizes: {res['scaling']['growth']}"]
    if "startup" in res:
        s = res["startup"]
        lines += ["", "## Start-up", "", f"- `archlab --help`: median {s['help_s']} s of {s['samples']}",
                  f"- heavy modules imported by `import archlab.cli`: {s['heavy_imports'] or 'none'}"]
    if "inference" in res:
        i = res["inference"]
        lines += ["", "## Inference", "", f"- `archlab predict` on {i['images']} images with {i['architecture']}: "
                  f"{i['archlab_s']} s; load + `model.predict`: {i['bare_s']} s; ratio {i['ratio']}"]
    if "imbalance" in res:
        from bench import imbalance

        lines += imbalance.markdown(res["imbalance"], _table)
    if "sequence_speed" in res:
        from bench import sequence_speed

        lines += sequence_speed.markdown(res["sequence_speed"], _table)
    if "tuning" in res:
        from bench import tuning

        lines += tuning.markdown(res["tuning"], _table)
    if "compare" in res:
        from bench import compare

        lines += compare.markdown(res["compare"], _table)
    return "\n".join(lines) + "\n"


def gpu_markdown(gpu: dict) -> str:
    lines = ["# archlab on a GPU", ""]
    if gpu.get("gpu") is None:
        lines += [f"No GPU machine was lent to this task: {gpu['why']}", ""]
    cpu = gpu.get("cpu")
    if cpu:
        lines += [f"CPU here ({cpu['backend']} backend, {cpu['device']}, {cpu['images']} images, batch "
                  f"{cpu['batch_size']}): seconds per epoch", ""]
        lines += _table(cpu["rows"], ["architecture", "mixed_precision", "epoch_s"])
    if gpu.get("gpu"):
        g = gpu["gpu"]
        lines += ["", f"GPU ({g['backend']} backend, {g['device']}): seconds per epoch", ""]
        lines += _table(g["rows"], ["architecture", "mixed_precision", "epoch_s"])
    return "\n".join(lines) + "\n"


def write(out: Path, doc: dict) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "bench.json", out / "bench.md"]
    paths[0].write_text(json.dumps(doc, indent=2) + "\n")
    paths[1].write_text(markdown(doc))
    if "gpu" in doc["results"]:
        paths.append(out / "bench_gpu.md")
        paths[2].write_text(gpu_markdown(doc["results"]["gpu"]))
    return paths
