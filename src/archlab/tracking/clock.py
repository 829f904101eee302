"""How long this process spent in MLflow calls (the benchmark's MLflow cost), and MLflow's timestamps."""

from __future__ import annotations

import functools
import time

_clock = {"seconds": 0.0, "depth": 0}  # time inside this module's MLflow calls, this process (nested calls once)


def timed(fn):
    """Count the wall time of an MLflow-calling function into `seconds_in_mlflow()` (the benchmark's MLflow cost)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _clock["depth"] += 1
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _clock["depth"] -= 1
            if _clock["depth"] == 0:
                _clock["seconds"] += time.perf_counter() - started

    return wrapper


def seconds_in_mlflow() -> float:
    """Seconds this process has spent in MLflow calls made through this module (import included)."""
    return _clock["seconds"]


def now_ms() -> int:
    """MLflow timestamps: milliseconds since the epoch."""
    return int(time.time() * 1000)
