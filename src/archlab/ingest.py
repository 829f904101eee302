"""The ingest stage's logic: a configured source in, one normalised, split dataset folder out.

The task reads its own sources (`Task.ingest`); this module keeps what every task's ingest shares: the list of
rejected samples and the dataset's fingerprint.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from pathlib import Path

import pandas as pd

from archlab import tasks
from archlab.data.source import Rejected
from archlab.params import Params

log = logging.getLogger(__name__)
SHOWN_REJECTS = 20


def write_rejected(path: Path, rejected: list[Rejected]) -> None:
    """reports/ingest_rejected.csv: one row per unusable file or sample, with the reason (header-only if none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source_ref", "reason"])
        writer.writerows((r.ref, r.reason) for r in rejected)
    for r in rejected[:SHOWN_REJECTS]:
        log.warning("rejected %s: %s", r.ref, r.reason)
    if len(rejected) > SHOWN_REJECTS:
        log.warning("... and %d more rejected samples, listed in %s", len(rejected) - SHOWN_REJECTS, path)


def dataset_hash(manifest: pd.DataFrame) -> str:
    """A short fingerprint of the ingested data (content, labels and split), logged with every model trained on it."""
    digest = hashlib.blake2b(digest_size=8)
    for row in manifest[["content_hash", "label", "split"]].itertuples(index=False):
        digest.update(f"{row.content_hash}:{row.label}:{row.split};".encode())
    return digest.hexdigest()


def ingest(params: Params, out_dir: str | Path, rejected_csv: str | Path) -> dict:
    """Read `ingest.source` with the task's adapter and publish the dataset folder.

    Args:
        params: the validated params.
        out_dir: folder to (re)create: the samples, labels.npy, manifest.csv, meta.json (and the task's files).
        rejected_csv: where the list of rejected samples goes (written even when the stage fails).

    Returns:
        The dataset's meta (also written to meta.json).
    """
    return tasks.part(params.task, "ingest").ingest(tasks.get(params.task), params, Path(out_dir), Path(rejected_csv))
