"""File locks (`flock`): one scheduled job at a time (`exclusive`, no waiting), one registry update at a time (`held`).

The kernel drops an flock when its holder dies, SIGKILL included, so a killed job never leaves a stale lock behind
and the next scheduled run simply proceeds. The holder writes its pid, start time and command into the file so the
job that is turned away can say who holds it. The holder takes the lock before it writes that record, so the job
turned away gives it a moment (`HOLDER_WAIT_S`) to appear instead of reporting "holder unknown".
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archlab.errors import JobLocked

HOLDER_WAIT_S = 2.0  # a holder writes its record right after taking the lock: milliseconds, longer on a busy machine


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold `path` exclusively for the duration of the block.

    Raises:
        JobLocked: another process holds it (the message names that process).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd, wait_s=HOLDER_WAIT_S)
            raise JobLocked(f"{path} is held by another job ({holder}); this run exits without doing anything. "
                            "It will run at the next schedule.") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                 "command": " ".join(sys.argv)}).encode())
        os.fsync(fd)
        yield
    finally:
        os.close(fd)  # closing releases the flock; the file stays (deleting it would race with a new holder)


@contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold `path` exclusively, waiting for the current holder (a short critical section in another process)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_holder(fd: int, wait_s: float) -> str:
    """The holder's record as text, polling up to `wait_s` while the file is empty or half written."""
    deadline = time.monotonic() + wait_s
    while True:
        info = _holder_record(fd)
        if info is not None:
            return f"pid {info.get('pid')} since {info.get('since')}: {info.get('command')}"
        if time.monotonic() >= deadline:
            return "holder unknown"
        time.sleep(0.02)


def _holder_record(fd: int) -> dict | None:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "null")
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "pid" in info else None
