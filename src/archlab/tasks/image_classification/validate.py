"""Validate for image classification (and text-to-image's images): the image expectation suite (Great
Expectations) on the ingested dataset."""

from __future__ import annotations

from pathlib import Path

from archlab.validation.suite import run_suite


def validate(task, dataset, params, docs_dir: Path) -> list:
    """The suite's checks, each with its outcome; data docs into `docs_dir`."""
    return run_suite(dataset.images, dataset.manifest, dataset.meta, min_per_class=params.validate_.min_per_class,
                     max_imbalance_ratio=params.validate_.max_imbalance_ratio,
                     max_conflicting_labels=params.validate_.max_conflicting_labels, docs_dir=docs_dir)
