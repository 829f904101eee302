"""Shared fixtures: params built from dicts, tiny real image folders, the project root."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archlab.params import Params, parse_params
from tests import budget

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


# A worker's share of the cores, in threads: each xdist worker (and every stage, trial or Ray task it starts) runs
# TensorFlow and BLAS on one thread, as many workers as cores. Left at their defaults (a pool the size of the
# machine in every process), two workers' processes spin on each other's cores: `make test-fast` took 339 CPU-s for
# 213 s of wall, and 321 CPU-s for 201 s with one thread each (same host, one after the other).
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without workers) keeps the budget
        config.pluginmanager.register(budget.SuiteBudget(config), "archlab-suite-budget")
    elif int(config.workerinput.get("workercount", 1)) >= (os.cpu_count() or 1):
        for key, value in ONE_THREAD.items():
            os.environ.setdefault(key, value)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    budget.order_longest_modules_first(config, items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    budget.worker_sessionfinish(session.config)


def make_params(**sections) -> Params:
    """Params with the given sections merged over the defaults, e.g. make_params(ingest={"source": "npz"})."""
    return parse_params(sections, source="test")


@contextmanager
def project_dir(root: Path) -> Iterator[Path]:
    """Work in `root` as a project (its own mlflow.db, a passed validation report), then restore cwd and
    MLFLOW_TRACKING_URI: for module-wide fixtures, which monkeypatch cannot serve."""
    old_cwd, old_uri = os.getcwd(), os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.chdir(root)
    (root / "validation.json").write_text(json.dumps({"success": True}))
    try:
        yield root
    finally:
        os.chdir(old_cwd)
        if old_uri:
            os.environ["MLFLOW_TRACKING_URI"] = old_uri


def train_and_evaluate(params: Params, names: list[str], dataset: Path, root: Path) -> tuple[dict, dict]:
    """Train each architecture in the project at `root` (see `project_dir`) as the train stage does, then run the
    evaluate stage; returns each train stage's metrics and evaluate's results."""
    from archlab.evaluation.run import evaluate
    from archlab.training.run import train

    metrics = {name: train(params, name, data_dir=dataset, validation_report=root / "validation.json",
                           model_dir=root / "models" / name, metrics_path=root / f"metrics/train/{name}.json",
                           plots_path=root / f"plots/{name}.csv", checkpoint_root=root / "ckpt", project_root=root)
               for name in names}
    results = evaluate(params, data_dir=dataset, models_dir=root / "models",
                       metrics_path=root / "metrics/evaluate.json", plots_dir=root / "plots/evaluate",
                       leaderboard_path=root / "reports/leaderboard.md", html_path=root / "reports/evaluation.html",
                       figures_dir=root / "reports/figures")
    return metrics, results


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for real subprocesses: the venv's bin first (dvc, python), quiet TensorFlow.

    MLFLOW_TRACKING_URI is dropped unless given: `mlflow.set_tracking_uri` in a test exports it, and it must not
    redirect a subprocess's runs into that test's store.
    """
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def start_and_kill_when(command: list[str], cwd: Path, ready, timeout: float = 600):
    """Start `command` in its own process group and SIGKILL the whole group (a stage and its local Ray) as soon as
    `ready()` returns something truthy, polled every 0.2 s; returns that value. Fails when the command ends first."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(command, cwd=cwd, env=subprocess_env(), start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline, seen = time.monotonic() + timeout, None
        while time.monotonic() < deadline and proc.poll() is None and not seen:
            seen = ready()
            time.sleep(0.2)
        assert proc.poll() is None, f"{command[1]} ended before it could be killed:\n{proc.stdout.read()[-3000:]}"
        assert seen, f"{command[1]}: nothing to kill it for within {timeout} s"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return seen


def write_image(path: Path, mode: str = "L", size: tuple[int, int] = (12, 10), fmt: str | None = None,
                seed: int = 0) -> Path:
    """Write a small random image in a given PIL mode and size (width, height)."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "P":
        img = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8), "RGB").convert("P")
    else:
        channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
        data = rng.integers(0, 255, (size[1], size[0], channels), dtype=np.uint8)
        img = Image.fromarray(data.squeeze(-1) if channels == 1 else data, mode)
    img.save(path, format=fmt)
    return path


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Three classes of 10 varied images each: mixed sizes, formats (PNG/JPEG/BMP/GIF) and modes (L/RGB/RGBA/P)."""
    root = tmp_path / "images ünï"  # spaces and unicode in the path on purpose
    kinds = [("png", "L"), ("jpg", "RGB"), ("bmp", "RGB"), ("gif", "P"), ("png", "RGBA")]
    for c, name in enumerate(["cat", "dog", "owl"]):
        for i in range(10):
            ext, mode = kinds[i % len(kinds)]
            write_image(root / name / f"img {i}.{ext}", mode=mode, size=(8 + i, 6 + 2 * c), seed=100 * c + i)
    return root


@pytest.fixture
def digits_dataset(tmp_path: Path) -> Path:
    """The real digits data ingested into a temp folder (the input of validate and train tests)."""
    from archlab.ingest import ingest

    out = tmp_path / "ingested"
    ingest(make_params(), out_dir=out, rejected_csv=tmp_path / "rejected.csv")
    return out


@pytest.fixture(scope="session")
def digits_session_dataset(tmp_path_factory) -> Path:
    """Digits ingested once per test session (read-only users only)."""
    from archlab.ingest import ingest

    root = tmp_path_factory.mktemp("digits")
    ingest(make_params(), out_dir=root / "ingested", rejected_csv=root / "rejected.csv")
    return root / "ingested"


@pytest.fixture(scope="session")
def shared_pipeline(tmp_path_factory, worker_id: str) -> Path:
    """A real `dvc repro` of tests.dvcrepo.SHARED_PARAMS, built once per test session for every xdist worker (the
    workers' temp folders share a parent). Read its files only: a test that changes params, runs DVC or
    writes takes its own `tests.dvcrepo.copy_repo` of it."""
    from tests.dvcrepo import build_shared_pipeline

    base = tmp_path_factory.getbasetemp()
    return build_shared_pipeline((base.parent if worker_id != "master" else base) / "shared-pipeline")


@pytest.fixture(scope="session")
def tiny_data(digits_session_dataset):
    """A few hundred real digits: enough for a loss to fall in two epochs, small enough for a fast suite."""
    from archlab.training.data import load_training_data, subset

    return subset(load_training_data(digits_session_dataset), n_train=300, n_val=100)


def quick_params(arch, epochs: int = 2, **extra):
    """An architecture's params with few epochs/iterations (whichever it has)."""
    fields = arch.params.model_fields
    values = {key: epochs for key in ("epochs", "pretrain_epochs", "head_epochs", "n_iter") if key in fields}
    if "patience" in fields:
        values["patience"] = 100
    values.update(extra)
    return arch.params.model_validate(values)
