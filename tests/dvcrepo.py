"""A real git + DVC repository in a temp folder holding a copy of this project's pipeline (no mocks)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT, subprocess_env

# reports/bench.json: the benchmark's measured sections, which evaluate's claims read (a declared dep)
PIPELINE_FILES = ["dvc.yaml", "stages", "src", "data/raw/README.md", "data/features/README.md", "reports/bench.json",
                  ".gitignore"]


def image_folder_params(project: str, seed: int, shallow_mlp: str) -> str:
    """Params for a small image-folder pipeline (what `archlab simulate-arrivals` writes) with two quick models."""
    return f"""\
task: image_classification
project: {{name: {project}, seed: {seed}}}
ingest: {{source: image_dir, path: data/raw, image_size: [8, 8]}}
validate: {{min_per_class: 2, max_imbalance_ratio: 6.0}}
train:
  architectures: [baseline, shallow_mlp]
  feature_heads: []
  seeds: []
  baseline: {{C: 1.0}}
  shallow_mlp: {shallow_mlp}
featurize: {{backbones: []}}
tune: {{trials: 0}}
evaluate: {{bootstrap_resamples: 200, latency_calls: 5}}
register: {{metric: accuracy, min_delta: 0.0}}
"""


def digits_params(project: str) -> str:
    """Params for the embedded digits with the two quickest models (queued experiments vary `train.baseline.C`)."""
    return f"""\
task: image_classification
project: {{name: {project}, seed: 1}}
ingest: {{source: digits, path: data/raw}}
validate: {{min_per_class: 2}}
train:
  architectures: [baseline, shallow_mlp]
  feature_heads: []
  seeds: []
  pretrained_head: {{backbone: vgg16}}
  baseline: {{C: 1.0}}
  shallow_mlp: {{hidden_units: 16, epochs: 3, patience: 3}}
featurize: {{backbones: []}}
tune: {{trials: 0}}
evaluate: {{bootstrap_resamples: 100, latency_calls: 5}}
register: {{metric: accuracy, min_delta: 0.0}}
"""


def run(cmd: list[str], cwd: Path, check: bool = True, timeout: int = 600, **env: str):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=subprocess_env(**env), timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_repo(tmp_path: Path, params_text: str) -> Path:
    """Copy the pipeline into `tmp_path/repo`, write its params.yaml, `git init` + `dvc init` and commit."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in PIPELINE_FILES:
        source = ROOT / name
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    (repo / "params.yaml").write_text(params_text)
    run(["git", "init", "-q"], repo)
    run(["git", "config", "user.email", "test@archlab.invalid"], repo)
    run(["git", "config", "user.name", "archlab test"], repo)
    run(["dvc", "init", "-q"], repo)
    run(["dvc", "config", "core.analytics", "false"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "pipeline"], repo)
    return repo


def run_queued_experiments(repo: Path, settings: list[str], jobs: int = 2, timeout: int = 600, **env: str) -> str:
    """`dvc exp run --queue -S <setting>` for each setting, `dvc queue start -j <jobs>`, wait; returns the status."""
    import time

    for setting in settings:
        run(["dvc", "exp", "run", "--queue", "-S", setting], repo, **env)
    run(["dvc", "queue", "start", "-j", str(jobs)], repo, **env)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            status = run(["dvc", "queue", "status"], repo).stdout
            if "Queued" not in status and "Running" not in status:
                return status + _failed_logs(repo, status)
            time.sleep(2)
        raise AssertionError(f"queued experiments still running after {timeout} s:\n{status}")
    finally:
        run(["dvc", "queue", "stop", "--kill"], repo, check=False)


def _failed_logs(repo: Path, status: str) -> str:
    """The end of `dvc queue logs` for each failed experiment, so an assertion on the status shows why."""
    failed = [line.split()[1] for line in status.splitlines() if line.endswith("Failed")]
    return "".join(f"\n--- {name}:\n" + run(["dvc", "queue", "logs", name], repo, check=False).stdout[-3000:]
                   for name in failed)


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at `port` (any process): what a bind default really did."""
    import psutil

    return {c.laddr.ip for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Wait until an MLflow server/UI answers `<url>/health`; fail with its stderr if it exits first."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{url} exited {proc.returncode}: {proc.stderr.read()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            time.sleep(1)
    proc.kill()
    raise AssertionError(f"{url}/health did not answer within {timeout} s")


def changed_stages(repo: Path) -> set[str]:
    """Names of the stages `dvc status` reports as changed."""
    import json

    out = run(["dvc", "status", "--json"], repo).stdout
    return set(json.loads(out or "{}"))
