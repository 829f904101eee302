"""Section "imbalance": the class_balance methods on the same architectures and the same imbalanced data.

Digits with classes 0-4 cut to 10% of their training samples (`ingest.imbalance`; val and test keep every sample),
then the real pipeline (`dvc repro` in a scratch repo) once per `class_balance` value for every compared
architecture; ingest and validate run once, each later repro re-trains only what the method changed. The scores
are evaluate's: balanced accuracy and the cut classes' mean recall on the full test split.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import pipeline
from bench.tuning import set_params

METHODS = ("none", "class_weight", "smote", "rbm_oversample")
SETUP = {"classes": ["0", "1", "2", "3", "4"], "keep": 0.1}


def compare(ws: Path, archs: list[str], train: dict | None = None, methods: tuple[str, ...] = METHODS) -> dict:
    """Every method for every architecture in `archs`; rows of (architecture, method, scores, stage seconds)."""

    def use(method: str):
        def update(params: dict) -> None:
            params["ingest"]["imbalance"] = SETUP
            params["validate"]["max_imbalance_ratio"] = 20.0  # the imbalance is deliberate here
            params["train"].update(architectures=archs, feature_heads=[], seeds=[])
            params["featurize"]["backbones"] = []
            params["evaluate"]["learning_curve"] = []
            for arch in archs:
                params["train"][arch].update((train or {}).get(arch, {}), class_balance=method)
        return update

    rows, runs = [], {}
    for method in methods:
        set_params(ws, use(method))
        runs[method] = pipeline.cold(ws, "evaluate")
        evaluation = json.loads((ws / "metrics/evaluate.json").read_text())
        for arch in archs:
            info = json.loads((ws / "models" / arch / "info.json").read_text())
            result = evaluation[arch]
            rows.append({"architecture": arch, "class_balance": method,
                         "minority_recall": round(result["minority_recall"], 4),
                         "balanced_accuracy": round(result["balanced_accuracy"], 4),
                         "accuracy": round(result["accuracy"], 4),
                         "synthetic": sum(info.get("class_balance", {}).get("synthetic_per_class", {}).values()),
                         "train_s": runs[method]["stage_seconds"].get(f"train@{arch}")})
    meta = json.loads((ws / "data/ingested/meta.json").read_text())
    setup = (f"{meta['source']}, classes {', '.join(SETUP['classes'])} cut to {SETUP['keep']:.0%} of their "
             f"training samples ({meta['imbalance']['left_out']} left out; val and test whole)")
    return {"architectures": archs, "methods": list(methods), "setup": setup, "rows": rows,
            "split_counts": meta["split_counts"]}


def markdown(result: dict, table) -> list[str]:
    lines = ["", "## Imbalanced classes: class_balance methods", "", result["setup"] + "; scores on the full test "
             "split (minority recall: the mean recall of the cut classes).", ""]
    return lines + table(result["rows"], ["architecture", "class_balance", "minority_recall", "balanced_accuracy",
                                          "accuracy", "synthetic", "train_s"])
