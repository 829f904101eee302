"""One critical section for moving a project's aliases, across every job that shares the registry.

A file lock (`locks.held`) serialises only the processes of one machine. Two runners, or a runner and a person's
`archlab promote`, each hold their own file and can both read the same old champion, both decide to promote, and
the later write wins: a worse model can end up serving and `@previous` can name a version the champion never
replaced. With `ARCHLAB_LOCK_URI` naming the PostgreSQL database a team already runs for its tracking server, the
section is a PostgreSQL advisory lock on a key derived from the registered model's name: held by one database
session at a time, wherever the job runs, and released by the server when that session ends (a SIGKILLed job
included), so it never goes stale.

Without `ARCHLAB_LOCK_URI` the file lock stays: correct for every job on one machine (parallel `dvc exp` runs, a
cron job and a person on the same host), not across machines.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archlab import locks
from archlab.errors import ArchlabError, JobLocked

log = logging.getLogger(__name__)

LOCK_URI_ENV = "ARCHLAB_LOCK_URI"
WAIT_ENV = "ARCHLAB_LOCK_WAIT_S"
DEFAULT_WAIT_S = 600.0  # a promotion re-scores two models: seconds; ten minutes means a stuck holder
POLL_S = 0.2
REGISTRY_LOCK = ".archlab/registry.lock"


def advisory_key(registered_model: str) -> int:
    """A stable signed 64-bit key for `pg_advisory_lock`, the same on every machine for one registered model."""
    digest = hashlib.sha256(f"archlab.promotion:{registered_model}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def promotion_lock(registered_model: str, store_root: Path) -> Iterator[str]:
    """Hold the registry's promotion lock for `registered_model`; yields a description of the lock for the record.

    Raises:
        ArchlabError: `ARCHLAB_LOCK_URI` is not a PostgreSQL URI, or the database is unreachable (named).
        JobLocked: another job held the advisory lock longer than `ARCHLAB_LOCK_WAIT_S` (the holder is named).
    """
    uri = os.environ.get(LOCK_URI_ENV, "").strip()
    if not uri:
        path = store_root / REGISTRY_LOCK
        with locks.held(path):
            # relative: reports/register.json is committed, and the project's folder differs between machines
            yield f"file lock {REGISTRY_LOCK} (this machine only; set {LOCK_URI_ENV} to serialise across machines)"
        return
    with _advisory_lock(uri, registered_model) as description:
        yield description


def _dsn(uri: str) -> str:
    """libpq accepts postgresql:// and postgres://; SQLAlchemy's driver suffix (`+psycopg2`) is dropped."""
    scheme, sep, rest = uri.partition("://")
    base = scheme.split("+", 1)[0]
    if not sep or base not in ("postgresql", "postgres"):
        raise ArchlabError(f"{LOCK_URI_ENV}={_redact(uri)}: expected a PostgreSQL URI "
                           "(postgresql://user@host:5432/database), the database behind the tracking server")
    return f"{base}://{rest}"


def _redact(uri: str) -> str:
    """The URI without its password, for messages."""
    scheme, sep, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{credentials}{at}{host}"


@contextmanager
def _advisory_lock(uri: str, registered_model: str) -> Iterator[str]:
    try:
        import psycopg2
    except ImportError:
        raise ArchlabError(f"{LOCK_URI_ENV} names PostgreSQL but psycopg2 is not installed; "
                           "pip install 'archlab[postgres]'") from None
    key = advisory_key(registered_model)
    me = f"archlab promotion {registered_model} pid {os.getpid()} on {socket.gethostname()}"
    try:
        conn = psycopg2.connect(_dsn(uri), application_name=me[:63], connect_timeout=10)
    except psycopg2.Error as exc:
        raise ArchlabError(f"{LOCK_URI_ENV}={_redact(uri)}: cannot connect to take the promotion lock: "
                           f"{str(exc).strip()}") from None
    conn.autocommit = True  # an advisory lock is per session; no transaction may stay open around the promotion
    try:
        with conn.cursor() as cur:
            _acquire(cur, key, registered_model, float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_S)))
            try:
                yield f"PostgreSQL advisory lock {key} ({registered_model}) on {_redact(uri)}"
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        conn.close()  # the server releases the lock with the session even if the unlock above never ran


def _acquire(cur, key: int, registered_model: str, wait_s: float) -> None:
    """Poll `pg_try_advisory_lock` so a stuck holder is reported by name instead of blocking forever."""
    deadline = time.monotonic() + wait_s
    announced = False
    while True:
        cur.execute("SELECT pg_try_advisory_lock(%s)", (key,))
        if cur.fetchone()[0]:
            return
        if not announced:
            log.info("waiting for the promotion lock of %s, held by %s", registered_model, _holder(cur, key))
            announced = True
        if time.monotonic() >= deadline:
            raise JobLocked(f"the promotion lock of {registered_model} (PostgreSQL advisory lock {key}) is held by "
                            f"{_holder(cur, key)} for more than {wait_s:.0f} s ({WAIT_ENV}); no alias moved")
        time.sleep(POLL_S)


def _holder(cur, key: int) -> str:
    """The session holding the advisory lock: its application name (archlab's names the job), pid and client."""
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    cur.execute("SELECT a.application_name, a.pid, a.client_addr FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s "
                "AND l.objsubid = 1", (high, low))
    row = cur.fetchone()
    if row is None:
        return "a session that has just released it"
    name, pid, client = row
    return f"{name or 'an unnamed session'} (backend pid {pid}, client {client or 'local socket'})"
