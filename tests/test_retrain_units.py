"""The retrain job's parts at tiny size: profiles and PSI, the drift decision, the lock, the simulated arrivals,
the report, and the consistency of the job's paths and scheduling files with the pipeline."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from archlab import locks as lock
from archlab.data.profile import profile, psi
from archlab.data.store import Dataset
from archlab.errors import JobLocked, ParamsError
from archlab.retrain import drift, job, report
from archlab.simulation import batch_slice, write_batch
from tests.conftest import ROOT, make_params, subprocess_env

NAMES = [str(d) for d in range(10)]


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return np.rint(bunch.images * (255 / 16)).astype(np.uint8)[..., None], bunch.target


def test_profile_counts_every_pixel_and_class(digits):
    x, y = digits
    p = profile(x[:100], y[:100], NAMES)
    assert p["count"] == 100 and sum(p["pixel_histogram"]) == 100 * 64 and sum(p["image_mean_histogram"]) == 100
    assert sum(p["class_counts"].values()) == 100 and set(p["class_counts"]) == set(NAMES)
    assert p["pixel_mean"] == pytest.approx(x[:100].mean(), abs=1e-3)


def test_psi_is_zero_for_the_same_data_and_large_for_inverted(digits):
    x, y = digits
    a, b = profile(x[:400], y[:400], NAMES), profile(255 - x[:400], y[:400], NAMES)
    assert psi(a["pixel_histogram"], a["pixel_histogram"]) == 0.0
    assert psi(a["pixel_histogram"], b["pixel_histogram"]) > 1.0
    with pytest.raises(ValueError, match="different bins"):
        psi([1, 2, 3], [1, 2])


def test_assess_lets_new_writers_through_and_stops_inversion(digits):
    x, y = digits
    limits = make_params().retrain.drift
    reference = profile(x[:600], y[:600], NAMES)
    natural = drift.assess(reference, profile(x[600:900], y[600:900], NAMES), limits, reference_source="r",
                           compared_source="c")
    assert natural.level == "none" and not natural.blocked, natural.scores
    inverted = drift.assess(reference, profile(255 - x[600:900], y[600:900], NAMES), limits, reference_source="r",
                            compared_source="c")
    assert inverted.blocked and any("pixel_psi" in reason for reason in inverted.reasons)


def test_assess_blocks_a_class_the_champion_never_saw(digits):
    x, y = digits
    reference = profile(x[:300], y[:300], NAMES)
    with_new = profile(x[300:600], y[300:600], [*NAMES[:9], "nine-ish"])
    result = drift.assess(reference, with_new, make_params().retrain.drift, reference_source="r", compared_source="c")
    assert result.blocked and any("'nine-ish'" in reason for reason in result.reasons)


def _dataset(x, y, ids) -> Dataset:
    hashes = [f"h{i}" for i in ids]
    manifest = pd.DataFrame({"id": [str(i) for i in ids], "row": range(len(ids)), "split": "train",
                             "label": y, "class_name": [NAMES[v] for v in y], "content_hash": hashes})
    return Dataset(images=x, labels=y, manifest=manifest, meta={"dataset_hash": f"d{len(ids)}",
                                                                 "class_names": NAMES})


def test_changes_and_compared_profile_use_only_the_arrivals(digits):
    x, y = digits
    current = _dataset(x[:100], y[:100], range(100))
    candidate = _dataset(x[20:160], y[20:160], range(20, 160))  # 20 removed, 60 new
    change = drift.changes(candidate, current)
    assert (change.arrivals, change.removed, change.count_before, change.count_after) == (60, 20, 100, 140)
    assert sum(change.arrivals_by_class.values()) == 60
    compared, source = drift.compared_profile(candidate, current, min_arrivals=30)
    assert compared["count"] == 60 and source == "60 new samples"
    compared, source = drift.compared_profile(candidate, current, min_arrivals=61)
    assert compared["count"] == 140 and "fewer than drift.min_arrivals=61" in source


HOLD = """
import sys, time
from pathlib import Path
from archlab.locks import exclusive
with exclusive(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_lock_turns_a_second_job_away_and_survives_a_sigkilled_holder(tmp_path):
    path = tmp_path / "retrain.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True,
                              env=subprocess_env())
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(JobLocked) as info:
        with lock.exclusive(path):
            pass
    assert f"pid {holder.pid}" in str(info.value) and info.value.exit_code == 75
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    with lock.exclusive(path):  # the kernel released the dead holder's lock: no stale-lock cleanup needed
        assert json.loads(path.read_text())["pid"] != holder.pid
    assert time.monotonic() - started < 5


def test_a_job_turned_away_while_the_holder_is_still_writing_its_record_names_the_holder(tmp_path, monkeypatch):
    # the race CI hit: the holder has the flock but its pid is not in the file yet
    path = tmp_path / "retrain.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a second open file description conflicts, even in one process
    record = json.dumps({"pid": 4242, "since": "2026-11-29T00:00:00", "command": "archlab retrain"}).encode()
    writer = threading.Timer(0.3, lambda: os.pwrite(fd, record, 0))
    writer.start()
    try:
        with pytest.raises(JobLocked) as info:
            with lock.exclusive(path):
                pass
        assert "pid 4242" in str(info.value)
        os.ftruncate(fd, 0)  # a holder that never writes its record: reported as unknown once the wait is over
        monkeypatch.setattr(lock, "HOLDER_WAIT_S", 0.1)
        with pytest.raises(JobLocked, match="holder unknown"):
            with lock.exclusive(path):
                pass
    finally:
        writer.join()
        os.close(fd)


def test_batches_cover_the_stream_once_in_order():
    slices = [batch_slice(1797, 4, b) for b in range(1, 5)]
    assert slices[0].start == 0 and slices[-1].stop == 1797
    assert all(a.stop == b.start for a, b in zip(slices, slices[1:], strict=False))
    with pytest.raises(Exception, match=r"--batch must be within 1..4 \(received 5\)"):
        batch_slice(1797, 4, 5)


def test_write_batch_writes_class_folders_and_drifted_pixels(tmp_path):
    from PIL import Image

    clean = write_batch(tmp_path / "a", batch=1, batches=10, limit=100)
    inverted = write_batch(tmp_path / "b", batch=1, batches=10, limit=100, drift="invert")
    assert len(clean) == 10 and {p.parent.name for p in clean} <= set(NAMES)
    assert all("-invert-" in p.name for p in inverted)
    a, b = (np.asarray(Image.open(p)) for p in (clean[0], inverted[0]))
    assert a.shape == (8, 8) and np.array_equal(b, 255 - a)


def _report(**extra) -> dict:
    base = {"job_id": "20261124T000000Z", "started": "2026-11-24T00:00:00Z", "duration_s": 12.5, "exit_code": 0,
            "dry_run": False, "data": {"count_before": 250, "count_after": 500, "arrivals": 250, "removed": 0,
                                       "arrivals_by_class": {"0": 25}, "dataset_hash_before": "a",
                                       "dataset_hash_after": "b"}}
    return {**base, **extra}


def test_markdown_report_shows_the_decision_and_both_scores():
    decision = {"decision": "kept", "metric": "accuracy", "n_test": 77, "challenger_architecture": "cnn",
                "challenger_version": "3", "challenger_score": 0.91, "champion_architecture": "baseline",
                "champion_version": "2", "champion_score": 0.93}
    text = report.markdown(_report(status="kept", summary="does not beat", decision=decision, stages_run=["ingest"],
                                   champion_before={"version": "2", "architecture": "baseline"},
                                   champion_after={"version": "2", "architecture": "baseline"}))
    assert text.startswith("# archlab retrain 20261124T000000Z: kept")
    assert "| challenger cnn | 3 | 0.9100 |" in text and "| champion baseline | 2 | 0.9300 |" in text
    assert "Data: 250 -> 500 samples (250 new, 0 removed)" in text
    metrics = report.metrics(_report(status="kept", decision=decision))
    assert metrics["champion_score"] == 0.93 and metrics["data_arrivals"] == 250


def test_write_puts_json_and_markdown_side_by_side(tmp_path):
    paths = report.write(_report(status="blocked by drift", summary="drift", exit_code=4), tmp_path)
    assert [p.suffix for p in paths] == [".json", ".md"]
    assert json.loads(paths[0].read_text())["exit_code"] == 4 and not list(tmp_path.glob(".*tmp*"))


def test_job_ids_do_not_collide(tmp_path):
    first = job.new_job_id(tmp_path)
    (tmp_path / f"{first}.json").write_text("{}")
    assert job.new_job_id(tmp_path) != first


def test_drift_limits_are_checked():
    with pytest.raises(ParamsError, match=r"warn_psi \(0.5\) must not exceed max_psi \(0.2\)"):
        make_params(retrain={"drift": {"warn_psi": 0.5, "max_psi": 0.2}})


def test_job_paths_match_dvc_yaml():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    register = stages["register"]
    assert str(job.DATA_DIR) in register["deps"] and str(job.EVALUATION) in register["deps"]
    assert str(job.DECISION) in [next(iter(o)) if isinstance(o, dict) else o for o in register["outs"]]
    assert str(job.DATA_DIR) in stages["ingest"]["outs"]


def test_scheduling_files_run_the_retrain_job():
    workflow = yaml.safe_load((ROOT / ".github/workflows/retrain.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["schedule"][0]["cron"].count(" ") == 4
    steps = workflow["jobs"]["retrain"]["steps"]
    assert any("archlab retrain" in step.get("run", "") for step in steps)
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload and upload[0]["with"]["path"] == make_params().retrain.reports_dir + "/"
    cron = [line for line in (ROOT / "deploy/archlab-retrain.cron").read_text().splitlines()
            if line and not line.startswith("#")]
    assert len(cron) == 1 and len(cron[0].split()[:5]) == 5 and "archlab retrain" in cron[0]
    import configparser

    service, timer = configparser.ConfigParser(), configparser.ConfigParser()
    service.read(ROOT / "deploy/archlab-retrain.service")
    timer.read(ROOT / "deploy/archlab-retrain.timer")
    assert service["Service"]["ExecStart"].endswith("archlab retrain")
    assert "75" in service["Service"]["SuccessExitStatus"] and timer["Timer"]["OnCalendar"]


def test_cli_rejects_an_unknown_drift_kind(tmp_path):
    proc = subprocess.run(["archlab", "simulate-arrivals", str(tmp_path), "--batch", "1", "--drift", "upside-down"],
                          capture_output=True, text=True, env=subprocess_env())
    assert proc.returncode == 2 and "--drift must be none, invert or noise (received 'upside-down')" in proc.stderr


def test_retrain_outside_a_dvc_project_fails_clearly(tmp_path):
    (tmp_path / "params.yaml").write_text(f"mlflow: {{tracking_uri: 'sqlite:///{tmp_path}/m.db'}}\n")
    proc = subprocess.run(["archlab", "retrain"], cwd=tmp_path, capture_output=True, text=True,
                          env=subprocess_env())
    assert proc.returncode == 2 and "no dvc.yaml" in proc.stderr
    assert not (tmp_path / "reports").exists()
