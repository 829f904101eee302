"""The validate stage's logic: run the suite, write the metric and Data Docs, stop on a critical failure."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from archlab import tasks
from archlab.data.store import read_dataset
from archlab.errors import ValidationFailed
from archlab.params import Params
from archlab.validation import duplicates
from archlab.validation.suite import summarise

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
    checks = tasks.part(params.task, "validate").validate(tasks.get(params.task), dataset, params, docs_dir)
    summary = summarise(checks)
    if any(check.table == "duplicates" for check in checks):
        summary["duplicates"] = duplicates.duplicate_stats(dataset.manifest)
        for line in duplicates.describe(summary["duplicates"]):
            log.warning("%s", line)
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
