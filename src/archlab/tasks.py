"""Task types: what a pipeline run learns. The stages are the same for every task; the data adapter, the models
that apply and the metrics differ.

An architecture declares the tasks it supports (`Architecture.tasks`); the train stage of one that does not apply
writes a skip record instead of a model, and the leaderboard lists it with the reason.
"""

from __future__ import annotations

IMAGE = "image_classification"
TABULAR = "tabular_classification"
FORECASTING = "forecasting"
TEXT_TO_IMAGE = "text_to_image"
TASKS = (IMAGE, TABULAR, FORECASTING, TEXT_TO_IMAGE)
CLASSIFICATION = (IMAGE, TABULAR)

INPUTS = {IMAGE: "images (N, H, W, C)", TABULAR: "feature vectors (N, F) of a table",
          FORECASTING: "windows (N, W, 1) of a time series with horizon-long targets",
          TEXT_TO_IMAGE: "captions to generate images from (and the labelled images the judge classifier learns)"}
SOURCES = {IMAGE: ("digits", "image_dir", "npz", "keras"), TABULAR: ("breast_cancer", "wine", "csv"),
           FORECASTING: ("co2", "sunspots", "csv"), TEXT_TO_IMAGE: ("digits", "image_dir", "npz", "keras")}
METRICS = {IMAGE: ("accuracy", "macro_f1"), TABULAR: ("accuracy", "macro_f1"), FORECASTING: ("rmse", "mae", "mase"),
           TEXT_TO_IMAGE: ("caption_match",)}
LOWER_IS_BETTER = {"rmse", "mae", "mase"}


def skip_reason(architecture, task: str) -> str | None:
    """Why `architecture` cannot train on `task`, or None when it can.

    Text-to-image runs every image classifier too: the best of them is the judge that labels generated images.
    """
    if task in architecture.supported_tasks or (task == TEXT_TO_IMAGE and IMAGE in architecture.supported_tasks):
        return None
    supported = ", ".join(architecture.supported_tasks) or "no task"
    return (f"{architecture.name} is built for {supported}; task {task} gives {INPUTS[task]}, "
            f"which it has no builder for")
