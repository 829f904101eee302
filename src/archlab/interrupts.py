"""Stop cleanly on SIGTERM or Ctrl-C, including in the middle of TensorFlow training.

Outside training the handler raises KeyboardInterrupt so the stack unwinds at once. Inside `model.fit` it does not:
an exception raised at an arbitrary bytecode in TensorFlow's Python layer was seen in CI to come out as a TypeError
(TF converts values inside try/except) and once to abort the process with a corrupted heap. There the handler only
records the stop, and the training loop raises it at the next batch boundary (`raise_if_stopped`). The record also
lets the code that ends runs and picks exit codes tell "stopped" (KILLED, exit 130) from "failed".
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

_requested: list[int] = []
_deferring = [0]


def request_stop(signum: int, frame=None) -> None:
    """Signal handler: note the stop, then unwind like Ctrl-C unless a `deferred` block will do it."""
    _requested.append(signum)
    if not _deferring[0]:
        raise KeyboardInterrupt(f"signal {signum}")


def raise_if_stopped() -> None:
    """Raise the recorded stop at a safe point (a training batch boundary)."""
    if _requested:
        raise KeyboardInterrupt(f"signal {_requested[0]}")


@contextmanager
def deferred() -> Iterator[None]:
    """Within this block a stop is only recorded; it is raised at `raise_if_stopped` or when the block ends."""
    _deferring[0] += 1
    try:
        yield
    finally:
        _deferring[0] -= 1
    raise_if_stopped()


def stop_requested() -> bool:
    """Whether SIGTERM or SIGINT arrived in this process."""
    return bool(_requested)


def install() -> None:
    """Route SIGTERM (a scheduler stopping the job) and SIGINT through `request_stop`."""
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def was_stopped(exc: BaseException) -> bool:
    """True for a KeyboardInterrupt, or any error raised while a stop was being delivered."""
    return isinstance(exc, KeyboardInterrupt) or stop_requested()
