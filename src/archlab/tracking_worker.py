"""MLflow for the train stage in a second process, so that training never waits for MLflow to start.

Importing MLflow (~1 s) and opening its store (SQLAlchemy, Alembic's schema check: ~1 s) cost a training stage as
much as its whole fit on small data (bench: a fixed 3.4-3.7 s per stage over a bare Keras script), and inside one
process they cannot overlap with TensorFlow's import: both hold the GIL. So the train stage starts this worker
first. While the stage loads its data and imports TensorFlow, the worker imports MLflow, opens the store, closes
orphaned runs and starts the run; then it takes params, per-epoch metrics, tags and artifacts as messages the
stage does not wait for, until the stage asks for the logged model's URI and ends the run. The stage process itself
never imports MLflow.

The run ends as `tracking.run` ends it: FINISHED, FAILED on an error, KILLED on Ctrl-C or SIGTERM (the worker
ignores both signals: the stage decides, then tells it), and a server lost mid-run becomes TrackingUnavailable.
After its first failed call the worker answers every later one with that error at once, so a lost server costs
one call's HTTP retries, not one per queued epoch. A worker whose stage is SIGKILLed sees its pipe close, ends the
run KILLED and exits; if both are killed at once, the next run's orphan check marks the run KILLED, as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import signal
import time
import traceback
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archlab.params import Params

log = logging.getLogger(__name__)
CLEANUP_CALLS = ("end", "server_lost")  # answered even after a failure: they close the run


def _picklable(exc: BaseException) -> BaseException:
    """The exception itself when it crosses the pipe intact, else a RuntimeError that keeps its type and text."""
    exc.add_note("(raised in archlab's MLflow worker process)\n" + "".join(traceback.format_tb(exc.__traceback__)))
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any exception type may refuse to pickle
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _handlers(run_state: dict) -> dict:
    """The calls the worker answers, by name: thin wrappers over archlab.tracking, run inside the worker."""
    from archlab import tracking

    def start(params: Params, run_name: str, tags: dict[str, str], project_root: str) -> str:
        active = tracking.start_run(params, run_name, tags, project_root)
        run_state["logger"] = tracking.EpochLogger(active.info.run_id)
        run_state["active"] = True
        return active.info.run_id

    def end(status: str) -> float:
        tracking.end_run(status)
        run_state["active"] = False
        return tracking.seconds_in_mlflow()

    return {"start": start, "end": end, "server_lost": tracking.server_lost,
            "epoch": lambda *args: run_state["logger"](*args),
            "log_params": tracking.log_params, "log_metrics": tracking.log_metrics, "set_tags": tracking.set_tags,
            "log_artifacts": tracking.log_artifacts, "log_dict": tracking.log_dict,
            "log_dataset": tracking.log_dataset, "log_pyfunc_model": tracking.log_pyfunc_model}


def _serve(conn, log_level: int) -> None:
    """The worker's loop: one reply per message, in order, until the stage closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from archlab.stagekit import setup_logging

    setup_logging(log_level)
    run_state = {"active": False}
    handlers = _handlers(run_state)
    failure: BaseException | None = None
    while True:
        try:
            name, args, kwargs = conn.recv()
        except (EOFError, OSError):  # the stage is done, or was killed before it could end its run
            if run_state["active"]:  # (MLflow's own exit hook would end it FINISHED)
                log.warning("the train stage was killed; its MLflow run ends KILLED")
                handlers["end"]("KILLED")
            return
        if failure is not None and name not in CLEANUP_CALLS:
            conn.send((False, failure))
            continue
        try:
            conn.send((True, handlers[name](*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the stage, which decides
            failure = _picklable(exc)
            conn.send((False, failure))


class TrackingWorker:
    """The stage's side of the pipe: `send` does not wait for the answer, `call` waits for it and all before it.

    `waited_s` is the time the stage spent waiting for MLflow: the part of MLflow's cost on its critical path.
    """

    def __init__(self, log_level: int):
        context = multiprocessing.get_context("spawn")  # no fork: the stage may already hold threads
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, log_level), name="archlab-mlflow", daemon=True)
        self._process.start()
        child.close()
        self._pending: deque[str] = deque()  # names of the calls sent and not answered yet, in order
        self._failure: BaseException | None = None
        self.run_id: str | None = None  # the answer to "start"
        self.waited_s = 0.0

    def _receive(self) -> tuple[bool, Any]:
        started = time.perf_counter()
        try:
            reply = self._conn.recv()
        except (EOFError, OSError) as exc:
            from archlab.errors import TrackingUnavailable

            raise TrackingUnavailable(f"archlab's MLflow worker process exited unexpectedly ({exc!r}); "
                                      "nothing was published. Re-run the stage.") from None
        finally:
            self.waited_s += time.perf_counter() - started
        name = self._pending.popleft()
        if not reply[0] and self._failure is None:
            self._failure = reply[1]
        if reply[0] and name == "start":
            self.run_id = reply[1]
        return reply

    def send(self, name: str, /, *args, **kwargs) -> None:
        """Queue a call; raise a failure of an earlier call if its answer has already arrived."""
        while self._pending and self._conn.poll():
            self._receive()
        if self._failure is not None:
            raise self._failure
        self._conn.send((name, args, kwargs))
        self._pending.append(name)

    def call(self, name: str, /, *args, **kwargs) -> Any:
        """Make a call and return its answer, after every earlier call has been answered (or raise their error)."""
        self.send(name, *args, **kwargs)
        return self.wait()

    def wait(self) -> Any:
        """Wait until every call sent so far is answered; raise the first failure among them, else return the last
        answer."""
        value = self.settle()
        if self._failure is not None:
            raise self._failure
        return value

    def settle(self) -> Any:
        """Read every pending answer without raising (an error unwinding decides what is raised); the last one."""
        value = None
        while self._pending:
            _, value = self._receive()
        return value

    def cleanup_call(self, name: str, /, *args) -> Any:
        """A call made while an error unwinds: earlier failures are already being raised, so they are not again."""
        self.settle()
        self._conn.send((name, args, {}))
        self._pending.append(name)
        ok, value = self._receive()
        if not ok:
            raise value
        return value

    def close(self) -> None:
        self._conn.close()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()


class RemoteRun:
    """The MLflow run of one train stage, as the stage sees it: the tracking calls it makes, answered by the worker.

    Attributes:
        tags: every tag the run was started with (host, process, pipeline run id and the caller's).
    """

    def __init__(self, worker: TrackingWorker, tags: dict[str, str]):
        self._worker = worker
        self.tags = tags
        self.worker_seconds = 0.0  # MLflow's whole time in the worker, known once the run has ended

    @property
    def run_id(self) -> str:
        """The run's id; waits for the worker to have started the run (and raises why, if it could not)."""
        if self._worker.run_id is None:
            self._worker.wait()
        return self._worker.run_id

    @property
    def waited_s(self) -> float:
        """Seconds the stage has spent waiting for MLflow (its critical-path cost)."""
        return self._worker.waited_s

    def log_epoch(self, phase: str, epoch: int, metrics: dict[str, float]) -> None:
        """`FitContext.on_epoch`: one epoch's metrics, logged without waiting."""
        self._worker.send("epoch", phase, epoch, metrics)

    def log_params(self, values: dict) -> None:
        self._worker.send("log_params", values)

    def log_metrics(self, values: dict[str, float]) -> None:
        self._worker.send("log_metrics", values)

    def set_tags(self, values: dict[str, str]) -> None:
        self._worker.send("set_tags", values)

    def log_artifacts(self, paths: list[Path], artifact_path: str) -> None:
        self._worker.send("log_artifacts", paths, artifact_path)

    def log_dict(self, value: dict, name: str) -> None:
        self._worker.send("log_dict", value, name)

    def log_dataset(self, frame, *, source: str, name: str, digest: str, context: str) -> None:
        self._worker.send("log_dataset", frame, source=source, name=name, digest=digest, context=context)

    def log_pyfunc_model(self, model_path: Path, info_path: Path, example, output) -> str:
        """Log the model (waits: returns its URI). The stage has checked the saved file answers `example` with
        `output`, so MLflow's own serving check, which would import TensorFlow in the worker, is skipped."""
        return self._worker.call("log_pyfunc_model", model_path, info_path, example, output, validate=False)


@contextmanager
def run(params: Params, *, run_name: str, tags: dict[str, str], project_root: str | Path = ".") -> Iterator[RemoteRun]:
    """Start the worker and its MLflow run (without waiting); end the run FINISHED, FAILED or KILLED.

    Args:
        tags: the caller's tags; host, process and pipeline run id are added here, in the stage's process (the
            process tag is how a later run tells this one's stage is gone).
    """
    from archlab import tracking

    worker = TrackingWorker(logging.getLogger("archlab").level)
    remote = RemoteRun(worker, tracking.run_tags(tags))
    try:
        worker.send("start", params, run_name, remote.tags, str(project_root))
        try:
            yield remote
            remote.worker_seconds = worker.call("end", "FINISHED")
        except BaseException as exc:
            worker.settle()
            if worker.run_id is None:  # the run never started (store unreachable, bad URI): nothing to end
                raise

            def end(status: str) -> None:
                remote.worker_seconds = worker.cleanup_call("end", status)

            def find_lost_server() -> BaseException | None:
                try:
                    return worker.cleanup_call("server_lost")
                except Exception:  # noqa: BLE001 - the worker is gone too; the original error says more
                    return None

            lost = tracking.end_after_error(exc, worker.run_id, end, find_lost_server)
            if lost:
                raise lost from exc
            raise
    finally:
        worker.close()
