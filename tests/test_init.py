"""`archlab init DATA` on data the tests make: an image folder, a table with an id, a date, a text category, free
text and empty cells, a daily series with gaps. It chooses the right values, obeys the flags, refuses to overwrite,
starts a new project with --project, and (slow) what it writes runs through `dvc repro` with no hand edits."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import BIN, subprocess_env
from tests.dvcrepo import make_repo, run


def archlab_init(*args, cwd: Path):
    return subprocess.run([str(BIN / "archlab"), "init", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=subprocess_env(), timeout=300)


def image_folder(root: Path) -> Path:
    """Three classes of 40x30 colour PNGs (one class small: 8 images, another 40 and 40)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, count, level in (("cats", 40, 40), ("dogs", 40, 120), ("owls", 8, 220)):
        (root / "pics" / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.clip(rng.normal(level, 20, (30 + i % 3, 40, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / "pics" / name / f"{i}.png")
    return root / "pics"


def table_csv(path: Path) -> Path:
    """An id, a text category that drives the class, a number with empty cells, a date, free text, the class."""
    rng = np.random.default_rng(1)
    rows = 200
    colour = rng.choice(["red", "green", "blue"], size=rows)
    size = rng.normal(10, 3, rows).round(2)
    size[::13] = np.nan
    pd.DataFrame({"ticket": [f"T-{i:04d}" for i in range(rows)], "colour": colour, "size": size,
                  "opened": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
                  "comment": [f"customer wrote note number {i}" for i in range(rows)],
                  "outcome": np.where(colour == "red", "escalated", "closed")}).to_csv(path, index=False)
    return path


def series_csv(path: Path) -> Path:
    """400 days of a weekly-seasonal series with three missing days."""
    days = pd.date_range("2023-01-01", periods=400, freq="D")
    values = 50 + 10 * np.sin(np.arange(400) * 2 * np.pi / 7) + np.arange(400) * 0.05
    keep = np.ones(400, bool)
    keep[[50, 51, 200]] = False
    pd.DataFrame({"day": days[keep].strftime("%Y-%m-%d"), "sales": values[keep].round(2)}).to_csv(path, index=False)
    return path


def written(folder: Path) -> dict:
    return yaml.safe_load((folder / "params.yaml").read_text())


def test_an_image_folder_gets_its_size_colour_and_gates_from_the_data(tmp_path):
    data = image_folder(tmp_path)
    (tmp_path / "p").mkdir()
    proc = archlab_init(data, cwd=tmp_path / "p")
    assert proc.returncode == 0, proc.stderr
    params = written(tmp_path / "p")
    assert params["task"] == "image_classification"
    assert params["ingest"] == {"source": "image_dir", "path": str(data), "image_size": [31, 40],
                                "color_mode": "rgb"}
    assert params["validate"]["min_per_class"] == 1  # 8 owls: one in val and one in test
    assert params["validate"]["max_imbalance_ratio"] == 6.0  # 6 cats to 1 owl in val and test
    assert params["train"]["cnn"]["class_balance"] == "class_weight"
    assert "class_balance" not in (params["train"].get("knn") or {})  # k-NN takes no weights
    text = (tmp_path / "p/params.yaml").read_text()
    assert "# archlab init: median size 31x40" in text and "your data's ratio is 6.0" in text
    assert "owls" in proc.stdout and "next: dvc repro" in proc.stdout


def test_a_table_gets_its_label_id_dates_and_free_text_and_flags_override(tmp_path):
    data = table_csv(tmp_path / "tickets.csv")
    proc = archlab_init(data, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ingest = written(tmp_path)["ingest"]
    assert written(tmp_path)["task"] == "tabular_classification"
    assert ingest["label_column"] == "outcome" and ingest["id_column"] == "ticket"
    assert ingest["drop_columns"] == ["comment"]  # free text
    assert "split_by" not in ingest and "--date opened" in proc.stdout  # a random split of dated rows: said
    assert "size 16" in proc.stdout  # the empty cells, counted
    refused = archlab_init(data, cwd=tmp_path)
    assert refused.returncode == 2 and "exists" in refused.stderr and "--force" in refused.stderr
    forced = archlab_init(data, "--force", "--label", "colour", "--date", "opened", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    ingest = written(tmp_path)["ingest"]
    assert ingest["label_column"] == "colour" and ingest["split_by"] == "time" and ingest["date_column"] == "opened"


def test_a_numeric_column_with_a_stray_word_stops_init_naming_the_row(tmp_path):
    rows = ["size,kind"] + [f"{i},{'a' if i % 2 else 'b'}" for i in range(30)] + ["oops,a"]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    proc = archlab_init(tmp_path / "t.csv", cwd=tmp_path)
    assert proc.returncode == 2 and "column 'size' must be numeric; row 32 holds 'oops'" in proc.stderr
    assert not (tmp_path / "params.yaml").exists()


def test_a_series_gets_its_frequency_season_and_gaps_and_task_overrides(tmp_path):
    data = series_csv(tmp_path / "sales.csv")
    proc = archlab_init(data, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    params = written(tmp_path)
    assert params["task"] == "forecasting"
    assert {k: params["ingest"][k] for k in ("date_column", "value_column", "frequency", "season", "window",
                                             "horizon")} == {"date_column": "day", "value_column": "sales",
                                                             "frequency": "D", "season": 7, "window": 28,
                                                             "horizon": 7}
    assert "3 missing step(s)" in proc.stdout
    as_table = archlab_init(data, "--force", "--task", "tabular_classification", "--label", "sales", cwd=tmp_path)
    assert as_table.returncode == 0 and written(tmp_path)["task"] == "tabular_classification"


def test_project_writes_a_new_project_folder(tmp_path):
    data = series_csv(tmp_path / "sales.csv")
    proc = archlab_init(data, "--project", tmp_path / "forecast", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    project = tmp_path / "forecast"
    assert (project / "dvc.yaml").is_file() and (project / ".git").is_dir() and (project / ".dvc").is_dir()
    assert written(project)["task"] == "forecasting" and not (tmp_path / "params.yaml").exists()
    assert f"cd {project} && dvc repro" in proc.stdout
    again = archlab_init(data, "--project", project, "--force", cwd=tmp_path)
    assert again.returncode == 2 and "not empty" in again.stderr


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["images", "table", "series"])
def test_what_init_writes_runs_through_dvc_repro(tmp_path, kind):
    """`archlab init --architectures baseline,shallow_mlp` + `dvc repro`, no hand edits, each kind of data."""
    repo = make_repo(tmp_path, "")
    data = {"images": image_folder, "table": lambda r: table_csv(r / "t.csv"),
            "series": lambda r: series_csv(r / "s.csv")}[kind](tmp_path)
    proc = archlab_init(data, "--architectures", "baseline,shallow_mlp", "--force", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    run(["dvc", "repro"], repo, timeout=1200)
    evaluation = json.loads((repo / "metrics/evaluate.json").read_text())
    assert {"baseline", "shallow_mlp"} <= set(evaluation)
    assert json.loads((repo / "reports/register.json").read_text())["decision"] == "promoted"
