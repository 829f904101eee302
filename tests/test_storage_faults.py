"""A full disk and a read-only data/ folder, for real: a 64 KiB tmpfs and a read-only bind mount, made in a private
user + mount namespace (`unshare`), so the test needs no root and leaves no mount behind. The ingest stage must
fail with one clear sentence naming what it could not write, and publish nothing."""

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

INGEST = f"{sys.executable} {ROOT / 'stages/ingest.py'} --params params.yaml --out data/ingested " \
         "--rejected reports/rejected.csv"


def in_namespace(script: str, cwd) -> subprocess.CompletedProcess:
    assert shutil.which("unshare"), "util-linux `unshare` is needed for the storage-fault tests"
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script], cwd=cwd,
                          capture_output=True, text=True, env=subprocess_env(), timeout=300)


def test_a_full_disk_stops_ingest_with_a_clear_error_and_nothing_published(tmp_path):
    (tmp_path / "params.yaml").write_text("project: {name: full, seed: 1}\n")
    (tmp_path / "data").mkdir()
    proc = in_namespace(f"mount -t tmpfs -o size=64k tmpfs data && {INGEST}; echo \"rc=$?\"; ls -A data",
                        tmp_path)
    assert "rc=6" in proc.stdout, proc.stderr[-3000:]
    assert "the disk is full (No space left on device)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip().endswith("rc=6")  # `ls -A data` listed nothing: no partial dataset, no temp folder


def test_a_read_only_data_folder_stops_ingest_with_a_clear_error(tmp_path):
    (tmp_path / "params.yaml").write_text("project: {name: ro, seed: 1}\n")
    (tmp_path / "data").mkdir()
    proc = in_namespace(f"mount --bind data data && mount -o remount,bind,ro data && {INGEST}; echo \"rc=$?\"",
                        tmp_path)
    assert "rc=6" in proc.stdout, proc.stderr[-3000:]
    assert "the folder is on a read-only mount (Read-only file system)" in proc.stderr
    assert "data/.ingested.tmp-" in proc.stderr  # names the path it tried to write
    assert not list((tmp_path / "data").iterdir())
