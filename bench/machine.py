"""Which machine a figure came from: written next to every report."""

from __future__ import annotations

import os
import platform
import socket
from importlib.metadata import version


def describe() -> dict:
    import psutil

    return {"host": socket.gethostname(), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "os": platform.platform(),
            "packages": {p: version(p) for p in ("tensorflow", "keras", "mlflow", "dvc", "great_expectations")}}
