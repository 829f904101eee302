"""Validate for text to image: the image suite, plus the caption checks (every caption names its class)."""

from __future__ import annotations

from pathlib import Path

from archlab.tasks.image_classification import validate as image_validate
from archlab.tasks.text_to_image.suite import run_caption_suite


def validate(task, dataset, params, docs_dir: Path) -> list:
    checks = image_validate.validate(task, dataset, params, docs_dir)
    return checks + run_caption_suite(dataset.manifest, dataset.meta["class_names"], docs_dir=docs_dir)
