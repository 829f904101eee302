"""Reading a user's CSV file with one clear message for what goes wrong (missing file, not a CSV, bad encoding)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_csv(path: str | Path, *, error=None, what: str = "csv file") -> pd.DataFrame:
    """The whole file as a frame.

    Args:
        error: the exception type to raise (default `DataError`; `predict` raises `ArchlabError`).
        what: how a missing file is named ("ingest.path: csv file not found").
    """
    from archlab.errors import DataError

    error = error or DataError
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not a readable CSV file: {exc}") from None
