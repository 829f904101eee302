"""Task types: what a pipeline run learns. The stages are the same for every task; the data adapter, the models
that apply and the metrics differ.

An architecture declares the tasks it supports (`Architecture.tasks`); the train stage of one that does not apply
writes a skip record instead of a model, and the leaderboard lists it with the reason.
"""

from __future__ import annotations

IMAGE = "image_classification"
TABULAR = "tabular_classification"
TASKS = (IMAGE, TABULAR)

INPUTS = {IMAGE: "images (N, H, W, C)", TABULAR: "feature vectors (N, F) of a table"}
IMAGE_SOURCES = ("digits", "image_dir", "npz", "keras")
TABLE_SOURCES = ("breast_cancer", "wine", "csv")


def skip_reason(architecture, task: str) -> str | None:
    """Why `architecture` cannot train on `task`, or None when it can."""
    if task in architecture.supported_tasks:
        return None
    supported = ", ".join(architecture.supported_tasks)
    return (f"{architecture.name} is built for {supported}; task {task} gives {INPUTS[task]}, "
            f"which it has no builder for")
