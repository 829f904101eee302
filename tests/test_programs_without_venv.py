"""`.venv/bin/archlab` typed with a PATH that does not hold the venv (no activated venv, as a user types the README's
commands): every verb that starts another program (`dvc`, `mlflow`, the stages' `python`) finds this install's."""

import json
import subprocess

import pytest

from tests.conftest import BIN, subprocess_env
from tests.dvcrepo import free_port, image_folder_params, make_repo, run
from tests.test_dvc_remote_cli import dvc_repo

# Each test starts archlab and the program it calls as real processes: the full suite's, not the quick lane's
pytestmark = pytest.mark.slow

BARE = "/usr/bin:/bin"  # no venv on it
ARCHLAB = str(BIN / "archlab")


def test_remote_add_and_push_find_dvc(tmp_path):
    repo = dvc_repo(tmp_path)
    run([ARCHLAB, "remote", "add", "../store"], repo, PATH=BARE)
    pushed = run([ARCHLAB, "remote", "push"], repo, PATH=BARE)
    assert "pushed to DVC remote archlab" in pushed.stdout


def test_serve_finds_mlflow(tmp_path):
    """No model is registered here: MLflow itself answers that, which shows `mlflow` was found and started."""
    (tmp_path / "params.yaml").write_text(f"project: {{name: absent, seed: 1}}\n"
                                          f"mlflow: {{tracking_uri: 'sqlite:///{tmp_path}/mlflow.db'}}\n")
    proc = subprocess.run([ARCHLAB, "serve", "--port", str(free_port())], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=subprocess_env(PATH=BARE, MLFLOW_DISABLE_TELEMETRY="true"))
    assert proc.returncode != 0 and "serving models:/absent@champion" in proc.stdout
    assert "not installed" not in proc.stderr and "FileNotFoundError" not in proc.stderr, proc.stderr[-2000:]
    assert "absent" in proc.stderr  # MLflow's own words about the missing model


def test_retrain_dry_run_finds_dvc_and_python(tmp_path):
    repo = make_repo(tmp_path, image_folder_params("bare", 1, "{}", keras=False))
    run([ARCHLAB, "simulate-arrivals", "data/raw", "--batch", "1", "--batches", "4", "--limit", "1000"], repo)
    proc = run([ARCHLAB, "retrain", "--dry-run", "--json"], repo, check=False, PATH=BARE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["status"] == "dry run" and "train@baseline" in report["stages_run"]
