"""The scheduling files are linted by the tools that run them: actionlint for the GitHub workflow, `systemd-analyze
verify` for the units. Each check also runs on a broken copy, so a linter that passes everything fails here."""

import shutil
import subprocess

import pytest

from tests.conftest import BIN, ROOT

WORKFLOW = ROOT / ".github/workflows/retrain.yml"
UNITS = ("archlab-retrain.service", "archlab-retrain.timer")


def actionlint(path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "actionlint"), "-no-color", str(path)], capture_output=True, text=True)


def test_the_retrain_workflow_passes_actionlint(tmp_path):
    proc = actionlint(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = tmp_path / ".github/workflows/retrain.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("${{ secrets.", "${{ secret."))  # an unknown context
    proc = actionlint(broken)
    assert proc.returncode == 1 and "secret" in proc.stdout


def systemd_verify(folder) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", *(str(folder / unit) for unit in UNITS)],
                          capture_output=True, text=True)


@pytest.fixture
def units(tmp_path):
    """The units as installed on a machine: ExecStart and WorkingDirectory point at this checkout (verify checks
    that the command exists and is executable)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed on this machine (no systemd); the units are still parsed by "
                    "test_retrain_units.py::test_scheduling_files_run_the_retrain_job")
    for unit in UNITS:
        text = (ROOT / "deploy" / unit).read_text()
        (tmp_path / unit).write_text(text.replace("/srv/archlab/.venv/bin/archlab", str(BIN / "archlab"))
                                     .replace("/srv/archlab", str(ROOT)))
    return tmp_path


def test_the_systemd_units_pass_systemd_analyze_verify(units):
    proc = systemd_verify(units)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    service = units / UNITS[0]
    service.write_text(service.read_text().replace("Type=oneshot", "Type=oneshoot"))
    proc = systemd_verify(units)
    assert "oneshoot" in proc.stderr
