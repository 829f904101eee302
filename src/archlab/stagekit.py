"""Shared plumbing for the thin entry modules in stages/: logging, argument parsing, clean error exits."""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from archlab import device, interrupts
from archlab.errors import ArchlabError, OutputNotWritable

# What a full disk, a quota, a read-only mount or missing permissions raise while a stage writes its outputs.
WRITE_ERRNOS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                errno.EFBIG: "the file is larger than allowed", errno.EROFS: "the folder is on a read-only mount",
                errno.EACCES: "permission denied", errno.EPERM: "operation not permitted"}


def unwritable(exc: OSError) -> OutputNotWritable:
    """The one-paragraph message for an OSError raised while writing outputs."""
    where = exc.filename or "an output"
    return OutputNotWritable(f"cannot write {where}: {WRITE_ERRNOS[exc.errno]} ({exc.strerror}). Nothing was "
                             "published: the stage writes into a temporary folder and removes it on failure. Free "
                             "space or make the folder writable, then re-run.")


def setup_logging(level: int = logging.INFO) -> None:
    """One line per event on stderr; archlab at `level`, third-party libraries (GX, MLflow) at WARNING only."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("archlab").setLevel(level)


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser that already knows `--params`, the one input every stage takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    return p


def add_model_inputs(p: argparse.ArgumentParser) -> None:
    """The inputs of a stage that fits one architecture (train@, tune@ and their feature-head twins)."""
    p.add_argument("--arch", required=True, help="architecture name (a key of train.architectures)")
    p.add_argument("--data", required=True, type=Path, help="ingested dataset folder (train and val are read)")
    p.add_argument("--validation", required=True, type=Path, help="validate stage's report (must say success)")
    p.add_argument("--features", type=Path, default=None,
                   help="cached backbone features (data/features/<backbone>), for feature heads")


def run(main: Callable[[], None]) -> None:
    """Run a stage's main: domain errors become a one-paragraph message and a non-zero exit, no traceback."""
    setup_logging()
    device.use_onednn_kernels()  # before any stage imports TensorFlow
    # SIGTERM (a scheduler stopping the job) unwinds like Ctrl-C, so MLflow runs end KILLED, not RUNNING.
    interrupts.install()
    try:
        main()
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        if interrupts.was_stopped(exc):
            print("interrupted", file=sys.stderr)  # noqa: T201
            sys.exit(130)
        if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
            exc = unwritable(exc)
        if isinstance(exc, ArchlabError):
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - the user-facing last word of a failed stage
            sys.exit(exc.exit_code)
        raise
