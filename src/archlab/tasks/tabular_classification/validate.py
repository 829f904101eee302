"""Validate for tabular classification: the table expectation suite (Great Expectations): null cells per feature,
classes and their balance."""

from __future__ import annotations

from pathlib import Path

from archlab.tasks.tabular_classification.suite import run_table_suite


def validate(task, dataset, params, docs_dir: Path) -> list:
    return run_table_suite(dataset.images, dataset.manifest, dataset.meta,
                           max_null_fraction=params.validate_.max_null_fraction,
                           min_per_class=params.validate_.min_per_class,
                           max_imbalance_ratio=params.validate_.max_imbalance_ratio,
                           max_conflicting_labels=params.validate_.max_conflicting_labels, docs_dir=docs_dir)
