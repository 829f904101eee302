"""The validate stage's logic: run the suite, write the metric and Data Docs, stop on a critical failure."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from archlab.data.store import read_dataset
from archlab.errors import ValidationFailed
from archlab.params import Params
from archlab.tasks import FORECASTING, TABULAR, TEXT_TO_IMAGE
from archlab.validation.suite import run_suite, summarise
from archlab.validation.table_suite import run_table_suite

log = logging.getLogger(__name__)


def validate(params: Params, dataset_dir: str | Path, report_path: str | Path, docs_dir: str | Path) -> dict:
    """Validate an ingested dataset.

    Args:
        params: validated params (section `validate`).
        dataset_dir: the ingest stage's output folder.
        report_path: reports/validation.json (evaluated/passed/failed counts per expectation).
        docs_dir: folder for the Great Expectations Data Docs HTML.

    Returns:
        The summary written to `report_path`.

    Raises:
        ValidationFailed: a critical expectation failed; the message lists each one with sample bad values.
    """
    dataset = read_dataset(dataset_dir)
    docs_dir, report_path = Path(docs_dir), Path(report_path)
    shutil.rmtree(docs_dir, ignore_errors=True)
    limits = {"min_per_class": params.validate_.min_per_class,
              "max_imbalance_ratio": params.validate_.max_imbalance_ratio, "docs_dir": docs_dir}
    if dataset.task == TABULAR:
        checks = run_table_suite(dataset.images, dataset.manifest, dataset.meta,
                                 max_null_fraction=params.validate_.max_null_fraction, **limits)
    elif dataset.task == FORECASTING:
        import pandas as pd

        from archlab.ingest_series import SERIES
        from archlab.validation.series_suite import run_series_suite

        checks = run_series_suite(pd.read_csv(Path(dataset_dir) / SERIES), dataset.manifest,
                                  min_windows=params.validate_.min_per_class, docs_dir=docs_dir)
    else:
        checks = run_suite(dataset.images, dataset.manifest, dataset.meta, **limits)
        if dataset.task == TEXT_TO_IMAGE:
            from archlab.validation.caption_suite import run_caption_suite

            checks += run_caption_suite(dataset.manifest, dataset.meta["class_names"], docs_dir=docs_dir)
    summary = summarise(checks)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(summary, indent=2) + "\n")
    for check in checks:
        if not check.success and not check.critical:
            log.warning("non-critical expectation failed: %s (e.g. %s)", check.key, check.unexpected)
    failed = [c for c in checks if not c.success and c.critical]
    if failed:
        lines = [f"{c.key} (e.g. {c.unexpected})" for c in failed]
        raise ValidationFailed(f"{dataset_dir}: {len(failed)} critical expectation(s) failed; training must not "
                               f"start. Details in {report_path} and {docs_dir}/index.html\n  " + "\n  ".join(lines))
    log.info("validation passed: %d expectations, %d non-critical warnings", summary["evaluated"], summary["failed"])
    return summary
