"""Sections 2 and 4b: `dvc repro` cold, no-op and after one param change; registering the models.

The cold run is the expensive figure (every stage from an empty cache), so its repeat count is its own setting.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.measure import alternated, env, measure, median

RUNNING = re.compile(r"Running stage '([^']+)'")
DVC = str(Path(sys.executable).parent / "dvc")


def stages_run(output: str) -> list[str]:
    return RUNNING.findall(output)


def cold(ws: Path, target: str | None = None) -> dict:
    """A full `dvc repro` from an empty cache (a fresh workspace), with each stage's share of the wall time;
    `target` stops at that stage (with its upstream), for a section that reads nothing the later stages write.

    A stage's seconds run from its "Running stage" line to the next one (the last one to the end), read as DVC
    prints them, so DVC's own bookkeeping between stages is counted with the stage before it.
    """
    started = time.perf_counter()
    marks: list[tuple[str, float]] = []
    with tempfile.TemporaryFile("w+") as errors:
        command = [DVC, "repro", *([target] if target else [])]
        proc = subprocess.Popen(command, cwd=ws, env=env(), stdout=subprocess.PIPE, stderr=errors, text=True)
        for line in proc.stdout:
            marks.extend((name, time.perf_counter()) for name in RUNNING.findall(line))
        proc.wait()
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"dvc repro (in {ws}) exited {proc.returncode}:\n{errors.read()[-3000:]}")
    ends = [t for _, t in marks[1:]] + [started + wall]
    seconds = {name: round(end - begin, 1) for (name, begin), end in zip(marks, ends, strict=True)}
    spans = training_spans(ws)
    total = round(sum(spans.values()), 3)
    finetune, cnn = seconds.get("train@finetune"), seconds.get("train@cnn")
    return {"wall_s": round(wall, 1), "stages": [name for name, _ in marks], "stage_seconds": seconds,
            "training_spans": spans, "training_spans_s": total,
            "span_ratio": round(wall / total, 2) if total else None,
            "finetune_vs_cnn": round(finetune / cnn, 2) if finetune and cnn else None}


def training_spans(ws: Path) -> dict[str, float]:
    """Each trained model's training span in this run (`train_seconds`: build, compile and fit, the work no
    pipeline can skip), from the train stages' metrics files, and the learning_curve stage's subset trainings
    (`learning_curve/<arch>@<share>`; its 1.0 points re-use the pipeline's models and train nothing)."""
    import json

    spans = {}
    for path in sorted((ws / "metrics/train").glob("*.json")):
        metrics = json.loads(path.read_text())
        if "train_seconds" in metrics:
            spans[path.stem] = float(metrics["train_seconds"])
    curve = ws / "metrics/learning_curve.json"
    for point in json.loads(curve.read_text()).get("points", []) if curve.is_file() else []:
        if not point["reused_pipeline_model"]:
            spans[f"learning_curve/{point['architecture']}@{point['fraction']:g}"] = float(point["train_seconds"])
    return spans


def noop(ws: Path, repeats: int) -> dict:
    runs = alternated({"noop": lambda: measure([DVC, "repro"], ws).wall_s}, repeats)["noop"]
    return {"wall_s": round(median(runs), 2), "samples": [round(v, 3) for v in runs], "repeats": repeats}


def one_param(ws: Path, arch: str, key: str, values: list[float]) -> dict:
    """Change `train.<arch>.<key>` to each value in turn (new values: DVC's run cache cannot short-cut them)."""
    path = ws / "params.yaml"
    walls, ran = [], []
    for value in values:
        params = yaml.safe_load(path.read_text())
        params["train"][arch][key] = value
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        sample = measure([DVC, "repro"], ws)
        walls.append(sample.wall_s)
        ran.append(stages_run(sample.stdout))
    return {"param": f"train.{arch}.{key}", "values": values, "wall_s": round(median(walls), 1),
            "samples": [round(w, 1) for w in walls], "stages_run": ran}


def register_cost(ws: Path, project: str, repeats: int) -> dict:
    """The register stage from scratch: the registered models are deleted before each timed run."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{ws / 'mlflow.db'}")
    cmd = [sys.executable, "stages/register.py", "--params", "params.yaml", "--data", "data/ingested", "--models",
           "models", "--evaluation", "metrics/evaluate.json", "--decision", "reports/register.json"]

    def fresh() -> float:
        for model in client.search_registered_models():
            if model.name == project or model.name.startswith(f"{project}-"):
                client.delete_registered_model(model.name)
        return measure(cmd, ws).wall_s

    runs = alternated({"register": fresh}, repeats)["register"]
    from archlab.params import load_params

    n_models = len(load_params(ws / "params.yaml").model_names)
    return {"wall_s": round(median(runs), 2), "samples": [round(v, 2) for v in runs], "models": n_models,
            "per_model_s": round(median(runs) / n_models, 2), "repeats": repeats}
