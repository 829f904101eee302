"""`archlab` CLI: check-params exit codes and messages, summary of a produced pipeline."""

import json
import subprocess

from tests.conftest import BIN, subprocess_env


def _archlab(*args, cwd=None):
    return subprocess.run([str(BIN / "archlab"), *args], capture_output=True, text=True, cwd=cwd,
                          env=subprocess_env(), timeout=120)


def test_help_lists_verbs():
    proc = _archlab("--help")
    assert proc.returncode == 0 and "check-params" in proc.stdout and "summary" in proc.stdout


def test_check_params_ok_and_bad(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("ingest: {source: digits}\n")
    assert _archlab("check-params", str(good)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("ingest: {source: digits, chunk_size: 0}\n")
    proc = _archlab("check-params", str(bad))
    assert proc.returncode == 2
    assert "ingest.chunk_size" in proc.stderr and "Traceback" not in proc.stderr


def test_check_params_json_shows_defaults(tmp_path):
    good = tmp_path / "p.yaml"
    good.write_text("{}\n")
    resolved = json.loads(_archlab("check-params", str(good), "--json").stdout)
    assert resolved["validate"]["min_per_class"] == 5


def test_summary_without_outputs_says_what_to_do(tmp_path):
    proc = _archlab("summary", "--root", str(tmp_path))
    assert proc.returncode == 0 and "dvc repro" in proc.stdout
