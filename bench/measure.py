"""One measured command: wall time and peak memory of a child process, and medians of alternated repeats.

Peak memory comes from GNU time (`/usr/bin/time -f %M`): the largest resident set of the command or of any
descendant it waited for.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class Sample:
    wall_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def env(**extra: str) -> dict[str, str]:
    """The environment of every measured process; both sides of a comparison get TensorFlow's oneDNN kernels, which
    archlab's stages ask for (`device.use_onednn_kernels`), so the bare script is not timed on slower kernels."""
    out = {"TF_ENABLE_ONEDNN_OPTS": "1", **os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "TF_CPP_MIN_LOG_LEVEL": "3", "GX_ANALYTICS_ENABLED": "false", **extra}
    out.pop("MLFLOW_TRACKING_URI", None)
    return out


def measure(cmd: list[str], cwd: Path, **extra_env: str) -> Sample:
    """Run `cmd` to completion; raises with its output when it fails (a failed run is not a timing)."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env(**extra_env), capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} (in {cwd}) exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return Sample(wall_s=wall, peak_rss_mb=float("nan"), stdout=proc.stdout, stderr=proc.stderr)


def measure_with_memory(cmd: list[str], cwd: Path, **extra_env: str) -> Sample:
    """Like `measure`, plus peak memory: the command runs under `/usr/bin/time -f %M` (KiB of the peak RSS)."""
    marker = "ARCHLAB_PEAK_KB="
    sample = measure(["/usr/bin/time", "-f", f"{marker}%M", *cmd], cwd, **extra_env)
    lines = [line for line in sample.stderr.splitlines() if line.startswith(marker)]
    sample.peak_rss_mb = int(lines[-1][len(marker):]) / 1024 if lines else float("nan")
    return sample


def alternated(variants: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run A, B, A, B, ... `repeats` times each, so slow drift of a noisy machine hits every variant alike."""
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            results[name].append(fn())
    return results


def median(values: list[float]) -> float:
    return float(statistics.median(values))
