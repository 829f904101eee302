"""Resumable checkpoints survive a kill in the middle of writing them (the bug the kill test found)."""

import json

from archlab.architectures.registry import get
from archlab.training.fit import FitContext, compile_classifier, fit_keras
from tests.conftest import quick_params


def _fit(tiny_data, ckpt, epochs, reported=None, every_s=0.0):
    arch = get("shallow_mlp")
    params = quick_params(arch, epochs=epochs, checkpoint_every_s=every_s)
    from archlab.architectures.zoo.shallow_mlp import build

    model = build(tiny_data.input_shape, tiny_data.n_classes, params)
    sink = reported if reported is not None else []
    compile_classifier(model, params)
    return fit_keras(model, tiny_data.x_train, tiny_data.y_train, tiny_data.x_val, tiny_data.y_val, params,
                     FitContext(seed=0, checkpoint_dir=ckpt, on_epoch=lambda phase, epoch, m: sink.append(epoch)))


def test_corrupt_latest_backup_falls_back_to_the_previous_epoch(tiny_data, tmp_path):
    _fit(tiny_data, tmp_path, epochs=2)
    latest = tmp_path / "train/backup/latest.weights.h5"
    assert latest.is_file() and (tmp_path / "train/backup/latest.weights.h5.bkp").is_file()
    latest.write_bytes(latest.read_bytes()[:200])  # what SIGKILL mid-write leaves
    reported = []
    history = _fit(tiny_data, tmp_path, epochs=4, reported=reported)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert reported == [1, 2, 3, 4]  # epoch 2 was lost with its backup: re-run, reported once


def test_corrupt_first_backup_starts_the_phase_over(tiny_data, tmp_path, caplog):
    _fit(tiny_data, tmp_path, epochs=1)
    backup = tmp_path / "train/backup"
    (backup / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\ngarbage")
    for leftover in backup.glob("*.bkp"):
        leftover.unlink()
    history = _fit(tiny_data, tmp_path, epochs=3)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert "starting this phase from scratch" in caplog.text


def test_a_throttled_backup_is_written_once_when_the_phase_ends(tiny_data, tmp_path):
    reported = []
    history = _fit(tiny_data, tmp_path, epochs=3, reported=reported, every_s=3600.0)
    backup = tmp_path / "train/backup"
    assert [row["epoch"] for row in history] == [1, 2, 3] and reported == [1, 2, 3]
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 3
    assert not list(backup.glob("*.bkp"))  # one backup in the phase: no previous copy was kept


def test_a_kill_before_the_first_throttled_backup_reruns_the_lost_epochs_once(tiny_data, tmp_path):
    history_path = tmp_path / "train/history.jsonl"
    history_path.parent.mkdir(parents=True)
    # what a kill after two recorded epochs leaves when no backup was due yet: history rows and no backup
    history_path.write_text("".join(json.dumps({"phase": "train", "epoch": e, "loss": 9.0}) + "\n" for e in (1, 2)))
    reported = []
    history = _fit(tiny_data, tmp_path, epochs=3, reported=reported, every_s=3600.0)
    assert [row["epoch"] for row in history] == [1, 2, 3] and reported == [1, 2, 3]
    assert all(row["loss"] != 9.0 for row in history)  # the rows no backup covered were re-run, not kept
