"""Remember that a stop was asked for (SIGTERM or Ctrl-C), even when a library swallows the exception.

The handler raises KeyboardInterrupt so the stack unwinds at once. But TensorFlow converts values inside
try/except blocks: a KeyboardInterrupt raised while it traces a layer can come out as a TypeError. The flag
set here lets the code that ends runs and picks exit codes tell "stopped" (KILLED, exit 130) from "failed".
"""

from __future__ import annotations

import signal

_requested: list[int] = []


def request_stop(signum: int, frame=None) -> None:
    """Signal handler: note the stop, then unwind like Ctrl-C."""
    _requested.append(signum)
    raise KeyboardInterrupt(f"signal {signum}")


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
