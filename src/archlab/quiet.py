"""Library chatter kept off a command's output: a command prints its answer and archlab's own messages.

TensorFlow's C++ core writes its start-up notes (oneDNN, CPU instructions, CUDA probes) and absl's "All log
messages before absl::InitializeLog()" straight to file descriptor 2, before any Python setting is read
(`TF_CPP_MIN_LOG_LEVEL=3` does not stop them in TensorFlow 2.21), so they are caught at the descriptor. `archlab
--verbose <verb>` shows all of it again.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

LIBRARY_LOGGERS = ("tensorflow", "absl", "keras", "mlflow", "alembic", "h5py", "numexpr")


def libraries() -> None:
    """Python-level chatter off for this process: library loggers at ERROR, library warnings ignored (archlab
    itself warns through logging, never `warnings`), no MLflow download progress bars. Nothing that hides errors
    is put in the environment: `retrain`'s stages inherit it, and their logs must keep TensorFlow's errors."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    warnings.filterwarnings("ignore")
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


@contextmanager
def native_stderr(enabled: bool = True, reported: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """While the block runs, file descriptor 2 (where C++ libraries write) goes to a scratch file, and Python's
    `sys.stderr` to the real stderr, so archlab's messages still show. An unexpected exception (a bug, not one of
    the `reported` ones the command explains itself) writes what was caught first, so nothing that explains it is
    lost."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    python_stderr = sys.stderr
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(saved), "wb", buffering=0), write_through=True)
        failed = False
        try:
            yield
        except Exception as exc:
            failed = not isinstance(exc, reported)
            raise
        finally:
            sys.stderr.close()
            sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                caught.seek(0)
                python_stderr.write(caught.read().decode(errors="replace"))
                python_stderr.flush()
