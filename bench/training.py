"""Sections 1, 4 and 6: archlab's training and inference against bare Keras, and what MLflow costs per run.

Both sides of every comparison run as whole processes, alternated, on the same workspace, in the same benchmark
run: the train stage (`stages/train.py`, MLflow + checkpoints + model logging) against `bench/bare_keras.py`
(the plain script), and `archlab predict` against `bench/bare_predict.py`.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

from bench.measure import alternated, measure, median

PY = sys.executable


def _stage(ws: Path, arch: str) -> dict:
    out = ws / "bench-out" / f"stage-{arch}"
    shutil.rmtree(out, ignore_errors=True)
    sample = measure([PY, "stages/train.py", "--params", "params.yaml", "--arch", arch, "--data", "data/ingested",
                      "--validation", "reports/validation.json", "--model-dir", str(out / "model"),
                      "--metrics", str(out / "metrics.json"), "--plots", str(out / "plot.csv"),
                      "--checkpoints", str(out / "checkpoints")], ws)
    metrics = json.loads((out / "metrics.json").read_text())
    return {"wall": sample.wall_s, "train": metrics["train_seconds"], "mlflow": metrics["mlflow_seconds"],
            "mlflow_worker": metrics.get("mlflow_worker_seconds", 0.0),
            "epochs": metrics["epochs_run"]}


def _bare(ws: Path, arch: str) -> dict:
    sample = measure([PY, "bench/bare_keras.py", "--arch", arch, "--params", "params.yaml", "--data",
                      "data/ingested", "--out", str(ws / "bench-out" / f"bare-{arch}")], ws)
    result = json.loads(sample.stdout.strip().splitlines()[-1])
    return {"wall": sample.wall_s, "train": result["fit_seconds"], "epochs": result["epochs"]}


def overhead(ws: Path, archs: list[str], repeats: int) -> dict:
    """Per architecture: whole-process and training-span wall time of the stage and of the bare script."""
    rows = []
    for arch in archs:
        runs = alternated({"archlab": lambda a=arch: _stage(ws, a), "bare": lambda a=arch: _bare(ws, a)}, repeats)
        stage, bare = runs["archlab"], runs["bare"]
        row = {"architecture": arch, "epochs": stage[0]["epochs"], "bare_epochs": bare[0]["epochs"]}
        for key in ("wall", "train"):
            row[f"archlab_{key}_s"] = round(median([r[key] for r in stage]), 2)
            row[f"bare_{key}_s"] = round(median([r[key] for r in bare]), 2)
            row[f"{key}_ratio"] = round(row[f"archlab_{key}_s"] / row[f"bare_{key}_s"], 3)
        row["fixed_cost_s"] = round((row["archlab_wall_s"] - row["archlab_train_s"])
                                    - (row["bare_wall_s"] - row["bare_train_s"]), 2)
        row["mlflow_s"] = round(median([r["mlflow"] for r in stage]), 3)  # what the stage waited for
        row["mlflow_worker_s"] = round(median([r["mlflow_worker"] for r in stage]), 3)  # overlapped, in the worker
        row["mlflow_share_of_train"] = round(row["mlflow_s"] / row["archlab_train_s"], 4)
        row["mlflow_share_of_wall"] = round(row["mlflow_s"] / row["archlab_wall_s"], 4)
        row["samples"] = {"archlab": stage, "bare": bare}
        rows.append(row)
    return {"rows": rows, "repeats": repeats}


def inference(ws: Path, arch: str, n_images: int, repeats: int) -> dict:
    """`archlab predict` (CLI, archlab's loader and pyfunc-style output) against load + `model.predict`."""
    images = np.load(ws / "data/ingested/images.npy")
    batch = np.resize(images, (n_images, *images.shape[1:]))  # repeats rows if the dataset is smaller
    array = ws / "bench-out" / f"x{n_images}.npy"
    np.save(array, batch)
    model_dir = ws / "bench-out" / f"stage-{arch}" / "model"
    model_file = next(model_dir.glob("*.keras"))
    bin_dir = Path(PY).parent
    runs = alternated({
        "archlab": lambda: measure([str(bin_dir / "archlab"), "predict", str(array), "--model", str(model_dir),
                                    "--json"], ws).wall_s,
        "bare": lambda: measure([PY, "bench/bare_predict.py", str(model_file), str(array)], ws).wall_s,
    }, repeats)
    archlab_s, bare_s = median(runs["archlab"]), median(runs["bare"])
    return {"architecture": arch, "images": n_images, "archlab_s": round(archlab_s, 2), "bare_s": round(bare_s, 2),
            "ratio": round(archlab_s / bare_s, 3), "samples": runs, "repeats": repeats}
