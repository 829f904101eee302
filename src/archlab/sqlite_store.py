"""The embedded SQLite tracking store, made safe for several writers (parallel `dvc exp` runs on one machine).

SQLite allows one writer at a time. With MLflow's defaults, contention fails in two ways (bench/sqlite_writers.py,
reports/sqlite_writers.md): processes that open a new store at the same moment both run MLflow's table migrations
("duplicate column name", "table already exists"), and a writer gives up after the driver's 5 s wait for the lock
("database is locked"). archlab changes three things:

- The first use of a store (MLflow creating its tables, then the experiment) runs under an exclusive file lock
  beside the database, so one process creates them and the others find them.
- `busy_timeout` of `BUSY_TIMEOUT_S` on every SQLite connection: SQLite's busy handler retries with backoff for
  that long instead of 5 s (the transactions themselves take milliseconds).
- WAL journal mode (stored in the file): readers, such as the MLflow UI, do not block the writers.

A transaction that needs the write lock only after reading could still fail at once (SQLite's deadlock rule);
pysqlite opens transactions at the first write, so MLflow's writes start with the write lock and wait normally.
bench/sqlite_writers.py measures the difference (reports/sqlite_writers.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from archlab import locks

BUSY_TIMEOUT_S = 120
_installed = [False]


def harden_connections() -> None:
    """Make every SQLite connection SQLAlchemy opens in this process wait for the lock (idempotent)."""
    if _installed[0]:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")

    _installed[0] = True


@contextmanager
def first_use(db_path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside `db_path` while the store and experiment are created; switch to WAL."""
    with locks.held(db_path.with_name(db_path.name + ".lock")):  # waits for a stage creating the same tables
        yield
        _use_wal(db_path)


def _use_wal(db_path: Path) -> None:
    if not db_path.is_file():
        return
    with closing(sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S)) as connection:
        if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            connection.execute("PRAGMA journal_mode = WAL")
