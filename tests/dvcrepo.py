"""A real git + DVC repository in a temp folder holding a copy of this project's pipeline (no mocks)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT, subprocess_env

# metrics/cv/README.md: the folder of the cv@ stages' outputs, which evaluate reads even while compare is off
PIPELINE_FILES = ["dvc.yaml", "stages", "src", "data/raw/README.md", "metrics/cv/README.md", ".gitignore"]


def image_folder_params(project: str, seed: int, shallow_mlp: str, keras: bool = True) -> str:
    """Params for a small image-folder pipeline (what `archlab simulate-arrivals` writes) with two quick models, or
    with the classical baseline alone (`keras=False`: no stage imports TensorFlow, for tests about git, DVC and the
    registry rather than training)."""
    return f"""\
task: image_classification
project: {{name: {project}, seed: {seed}}}
ingest: {{source: image_dir, path: data/raw, image_size: [8, 8]}}
validate: {{min_per_class: 2, max_imbalance_ratio: 6.0}}
train:
  architectures: {"[baseline, shallow_mlp]" if keras else "[baseline]"}
  feature_heads: []
  seeds: []
  baseline: {{C: 1.0}}
  shallow_mlp: {shallow_mlp}
featurize: {{backbones: []}}
tune: {{trials: 0}}
compare: {{folds: 0, repeats: 1, rope: 0.01, architectures: []}}
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
compare: {{folds: 0, repeats: 1, rope: 0.01, architectures: []}}
evaluate: {{bootstrap_resamples: 100, latency_calls: 5}}
register: {{metric: accuracy, min_delta: 0.0}}
"""


# The pipeline tests that only read a real `dvc repro`'s outputs share (the `shared_pipeline` fixture): every kind
# of stage once (ingest, validate, featurize, a feature head, tune, train for a classical model and a Keras one,
# evaluate, register) on the embedded digits, with the smallest settings that still show each stage's behaviour.
SHARED_PARAMS = """\
task: image_classification
project: {name: e2e, seed: 7}
ingest: {source: digits, path: data/raw}
validate: {min_per_class: 5}
train:
  architectures: [baseline, cnn]
  feature_heads: [pretrained_head]
  seeds: []
  baseline: {C: 1.0}
  cnn: {epochs: 2, filters: [8], dense_units: 16}
  pretrained_head: {backbone: vgg16, epochs: 2, hidden_units: 16}
featurize: {backbones: [vgg16], input_size: 32, pooling: avg, vgg16: {weights: hed-bsds500}}
tune: {trials: 0}
compare: {folds: 0, repeats: 1, rope: 0.01, architectures: []}
evaluate: {bootstrap_resamples: 200, latency_calls: 5}
register: {metric: accuracy, min_delta: 0.0}
"""


def build_shared_pipeline(root: Path) -> Path:
    """`root/repo` with SHARED_PARAMS after a real `dvc repro`, built once for every worker of the session.

    The first caller builds it while holding a file lock; later callers (the other xdist worker too) wait for the
    lock and find it built. A failed build is recorded, so the next caller fails at once with the same message
    instead of building it again.
    """
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    built, failed = root / "built", root / "failed"
    with FileLock(root / ".lock"):
        if failed.is_file():
            raise AssertionError(f"the shared pipeline failed to build earlier in this session:\n{failed.read_text()}")
        if not built.is_file():
            try:
                # `archlab repro` (make run's): its stages side by side, and the tests that re-run `dvc repro` on a
                # copy find every stage recorded in dvc.lock as `dvc repro` would have
                run(["archlab", "repro", "--jobs", "2"], make_repo(root, SHARED_PARAMS))
            except AssertionError as error:
                failed.write_text(str(error))
                raise
            built.touch()
    return root / "repo"


def copy_repo(source: Path, target: Path) -> Path:
    """A copy of a built project that behaves as if it had been built at `target`: its files, git history, DVC
    cache and MLflow store, with the store's absolute artifact locations pointed at the copy (DVC's own state in
    .dvc/tmp is left behind; DVC rebuilds it)."""
    import sqlite3

    shutil.copytree(source, target, symlinks=True,
                    ignore=lambda folder, names: ["tmp"] if Path(folder) == source / ".dvc" else [])
    store = target / "mlflow.db"
    if store.is_file():
        with sqlite3.connect(store) as db:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                for column in db.execute(f"PRAGMA table_info('{table}')").fetchall():
                    if column[2].upper().startswith(("VARCHAR", "TEXT")):
                        db.execute(f'UPDATE "{table}" SET "{column[1]}" = replace("{column[1]}", ?, ?)',
                                   (str(source), str(target)))
    return target


def run(cmd: list[str], cwd: Path, check: bool = True, timeout: int = 600, **env: str):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=subprocess_env(**env), timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def repro_on_a_ray_cluster(repo: Path) -> tuple[str, str]:
    """`dvc repro` with one local Ray head named by RAY_ADDRESS, as a team's cluster would be: every stage that
    uses Ray (tune trials, seeds, cross-validation folds) joins it instead of starting a Ray of its own. Returns
    the repro's output and the head node's id (the node every trial, seed and fold must report)."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
    try:
        out = run(["dvc", "repro"], repo, timeout=1200, RAY_ADDRESS=cluster.address).stdout
        return out, cluster.head_node.node_id
    finally:
        cluster.shutdown()


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
