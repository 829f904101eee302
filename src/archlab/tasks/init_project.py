"""`archlab init DATA`: look at a user's data and write a params.yaml that runs, each chosen value commented with
its reason, so the first hour is `archlab init path` and `dvc repro` instead of copying an example file and
hunting for the lines that matter among 120.

What it reads: a folder of class sub-folders is image classification; a CSV with one date column, exactly one
numeric column and no text column is a series (forecasting); any other CSV is a table. The file starts from the
task's example (the project's params.yaml for images, params/<task>.yaml otherwise: their comments explain every
section), takes the chosen values, and gets every other key dvc.yaml reads from the schema's defaults.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archlab.errors import DataError

ROOT = Path(__file__).resolve().parents[3]  # the checkout: its params examples, dvc.yaml and stages
EXAMPLES = {"image_classification": "params.yaml", "tabular_classification": "params/tabular.yaml",
            "forecasting": "params/forecasting.yaml"}
MAX_SIDE = 64  # images are resized to the median size, at most this many pixels a side (training cost grows with it)
FEW_IMAGES = 20  # a class with fewer images is named: its val and test splits hold a handful each
SAMPLED_IMAGES = 300  # images opened to measure sizes and colour
LABEL_NAMES = ("label", "class", "target", "y", "category", "outcome")
ID_NAMES = re.compile(r"(^id$|_id$|^id_|identifier|^key$|^uuid$)", re.IGNORECASE)
GATE_RATIO = 3.0  # validate.max_imbalance_ratio's default
SEASONS = {"D": (7, 28, 7), "B": (5, 20, 5), "W": (52, 104, 4), "M": (12, 24, 3), "Q": (4, 12, 2), "h": (24, 72, 24),
           "min": (60, 120, 10)}  # pandas frequency -> (season, window, horizon)


@dataclass
class Plan:
    """What init decided: the task, each key's value with its reason, and what the user should know."""

    task: str
    values: dict[str, object] = field(default_factory=dict)  # dotted key -> value
    reasons: dict[str, str] = field(default_factory=dict)  # dotted key -> why
    warnings: list[str] = field(default_factory=list)

    def set(self, key: str, value, reason: str) -> None:
        self.values[key], self.reasons[key] = value, reason


def inspect(data: Path, *, task: str | None = None, label: str | None = None, id_column: str | None = None,
            date: str | None = None, value: str | None = None) -> Plan:
    """The plan for `data`: an image folder or a CSV file (flags override what is guessed)."""
    if data.is_dir():
        return image_plan(data)
    if data.suffix.lower() == ".csv" and data.is_file():
        return csv_plan(data, task=task, label=label, id_column=id_column, date=date, value=value)
    raise DataError(f"{data}: expected a folder of class sub-folders (images) or a .csv file")


def image_plan(folder: Path) -> Plan:
    """Image classification: the median size (capped), the colour mode of the files, the class count."""
    from PIL import Image

    from archlab.data.decode import IMAGE_EXTENSIONS

    classes = {d.name: [f for f in sorted(d.rglob("*")) if f.suffix.lower() in IMAGE_EXTENSIONS]
               for d in sorted(folder.iterdir()) if d.is_dir() and not d.name.startswith(".")}
    classes = {name: files for name, files in classes.items() if files}
    if len(classes) < 2:
        raise DataError(f"{folder}: found {len(classes)} class sub-folder(s) with images; classification needs 2+ "
                        "(one sub-folder per class, images inside)")
    files = [f for group in classes.values() for f in group]
    sample = [files[i] for i in np.linspace(0, len(files) - 1, min(len(files), SAMPLED_IMAGES)).astype(int)]
    sizes, colour = [], False
    for path in sample:
        with Image.open(path) as image:
            sizes.append(image.size)
            colour |= image.mode not in ("1", "L", "LA", "I", "I;16", "F")
    width, height = (int(np.median([s[i] for s in sizes])) for i in (0, 1))
    scale = min(1.0, MAX_SIDE / max(width, height))
    shape = [max(1, round(height * scale)), max(1, round(width * scale))]
    plan = Plan("image_classification")
    plan.set("ingest.source", "image_dir", "a folder of class sub-folders")
    plan.set("ingest.path", str(folder), f"{len(files)} images in {len(classes)} classes")
    plan.set("ingest.image_size", shape, f"median size {height}x{width}" + (f", capped at {MAX_SIDE}" if scale < 1
                                                                              else ""))
    plan.set("ingest.color_mode", "rgb" if colour else "grayscale",
             "colour images among the files" if colour else "every sampled file is grayscale")
    counts = {name: len(group) for name, group in classes.items()}
    few = sorted(name for name, n in counts.items() if n < FEW_IMAGES)
    if few:
        plan.warnings.append(f"classes with fewer than {FEW_IMAGES} images: {', '.join(few)} (their val and test "
                             "splits hold a handful each: scores on them are noisy)")
    balance(plan, counts)
    return plan


def balance(plan: Plan, counts: dict[str, int]) -> None:
    """The validation gates from the class counts, as ingest will split them (70/15/15 per class, rounded): the
    fewest samples a class has in a split, and a class mix more skewed than the gate allows (then balanced loss
    weights for the architectures that take them)."""
    from archlab.data.splits import split_sizes
    from archlab.params import SplitParams, ValidateParams

    sizes = {name: split_sizes(n, SplitParams()) for name, n in counts.items()}
    fewest = min(min(s) for s in sizes.values())
    if fewest < ValidateParams().min_per_class:
        plan.set("validate.min_per_class", max(1, fewest), f"your smallest class has {min(counts.values())} samples:"
                 f" {fewest} in its smallest split")
    ratio = max(max(s[i] for s in sizes.values()) / max(min(s[i] for s in sizes.values()), 1) for i in range(3))
    if ratio <= GATE_RATIO:
        return
    plan.set("validate.max_imbalance_ratio", math.ceil(ratio * 10) / 10, f"your data's ratio is {ratio:.1f} "
             "(largest over smallest class in a split)")
    plan.set("class_balance", "class_weight", "the classes are imbalanced: balanced loss weights")


def column_kinds(frame, path: Path) -> dict[str, str]:
    """numeric | boolean | date | categorical | text (free text: mostly unique strings) for each CSV column."""
    from archlab.tasks.tabular_classification.tables import FreeTextColumn, column_kind

    kinds = {}
    for column in frame.columns:
        try:
            kinds[str(column)] = column_kind(frame[column], str(column), path)
        except FreeTextColumn:
            kinds[str(column)] = "text"  # dropped by the plan; a numeric column with a stray word stops init, named
    return kinds


def csv_plan(path: Path, *, task: str | None, label: str | None, id_column: str | None, date: str | None,
             value: str | None) -> Plan:
    """A series (one date column, one numeric column, no text) or a table; `task` decides when the guess is wrong."""
    from archlab.data.csvfile import read_csv

    frame = read_csv(path, what="archlab init: csv file")
    kinds = column_kinds(frame, path)
    dates = [c for c, k in kinds.items() if k == "date"]
    numeric = [c for c, k in kinds.items() if k == "numeric"]
    series = len(dates) == 1 and len(numeric) == 1 and len(kinds) == 2
    chosen = task or ("forecasting" if series else "tabular_classification")
    if chosen == "forecasting":
        return series_plan(path, frame, date or (dates[0] if dates else None), value or (numeric[0] if numeric
                                                                                        else None))
    if chosen != "tabular_classification":
        raise DataError(f"{path}: a CSV is a table (tabular_classification) or a series (forecasting), not {chosen}")
    return table_plan(path, frame, kinds, label=label, id_column=id_column, date=date)


def _pick_label(frame, kinds: dict[str, str], path: Path) -> str:
    named = [c for c in kinds if c.lower() in LABEL_NAMES]
    if named:
        return named[0]
    texts = [c for c, k in kinds.items() if k in ("categorical", "boolean")]
    if texts:
        return texts[-1]
    raise DataError(f"{path}: no column looks like the class (named {'/'.join(LABEL_NAMES)}, or a text column); "
                    "name it with --label")


def _pick_id(frame, kinds: dict[str, str], label: str) -> str | None:
    for column, kind in kinds.items():
        values = frame[column].dropna()
        if column == label or len(values) < len(frame) or not values.is_unique:
            continue
        if ID_NAMES.search(column) or kind in ("text", "categorical"):
            return column  # unique strings, or unique values under an id-like name
    return None


def table_plan(path: Path, frame, kinds: dict[str, str], *, label: str | None, id_column: str | None,
               date: str | None) -> Plan:
    """A table: its label, id, date and free-text columns, empty cells, and the class mix."""
    for flag, column in (("--label", label), ("--id", id_column), ("--date", date)):
        if column is not None and column not in frame.columns:
            raise DataError(f"{path}: {flag} {column!r} is not a column; columns are {list(frame.columns)}")
    label = label or _pick_label(frame, kinds, path)
    id_column = id_column or _pick_id(frame, kinds, label)
    plan = Plan("tabular_classification")
    plan.set("ingest.source", "csv", "a table")
    plan.set("ingest.path", str(path), f"{len(frame)} rows, {len(frame.columns)} columns")
    plan.set("ingest.label_column", label, "named like a class column" if label.lower() in LABEL_NAMES else
             "the last text column")
    if id_column:
        plan.set("ingest.id_column", id_column, "unique values: the sample ids, never a feature")
    dropped = [c for c, k in kinds.items() if k == "text" and c not in (label, id_column)]
    if dropped:
        plan.set("ingest.drop_columns", dropped, "free text: no table model reads it")
    dated = [c for c, k in kinds.items() if k == "date" and c != label]
    if date:
        plan.set("ingest.date_column", date, "--date: the split is ordered by it")
        plan.set("ingest.split_by", "time", "train on the past, test on the latest rows")
    elif dated:
        plan.warnings.append(f"date column(s) {', '.join(dated)} become calendar features; the split is random, "
                             f"so training rows can come after test rows (`--date {dated[0]}` splits by time)")
    empty = {c: int(n) for c, n in frame.drop(columns=[label]).isna().sum().items() if n}
    if empty:
        plan.warnings.append("empty cells (imputed by the models): " + ", ".join(f"{c} {n}" for c, n in
                                                                                 empty.items()))
    balance(plan, frame[label].dropna().astype(str).value_counts().to_dict())
    return plan


def frequency(dates) -> str | None:
    """The series' step as a pandas alias, from the most common gap between sorted dates (gaps in the series
    leave it unchanged); None when the step is irregular."""
    import pandas as pd

    steps = pd.Series(sorted(dates.dropna().unique())).diff().dropna()
    if steps.empty:
        return None
    step = steps.mode().iloc[0]
    first = pd.Timestamp(dates.dropna().min())
    aliases = {pd.Timedelta(days=1): "D", pd.Timedelta(hours=1): "h", pd.Timedelta(minutes=1): "min",
               pd.Timedelta(days=7): f"W-{first.day_name()[:3].upper()}"}
    if step in aliases:
        return aliases[step]
    if pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        return "MS" if first.day == 1 else "ME"
    if pd.Timedelta(days=89) <= step <= pd.Timedelta(days=92):
        return "QS" if first.day == 1 else "QE"
    return None


def series_plan(path: Path, frame, date: str | None, value: str | None) -> Plan:
    """A series: its date and value columns, the step, and a season, window and horizon that fit its length."""
    import pandas as pd

    from archlab.tasks.tabular_classification.tables import day_first, parse_dates

    if date not in frame.columns or value not in frame.columns:
        raise DataError(f"{path}: a series needs a date column (--date) and a value column (--value); columns are "
                        f"{list(frame.columns)}")
    dates = parse_dates(frame[date], day_first(frame[date]))
    step = frequency(dates)
    season, window, horizon = SEASONS.get((step or "").split("-")[0].rstrip("SE") or "?", (1, 24, 4))
    points = len(frame)
    longest = max(2, int(0.15 * points) - horizon - 20)  # the test stretch must still hold 20 windows
    plan = Plan("forecasting")
    plan.set("ingest.source", "csv", "a series: one date column and one numeric column")
    plan.set("ingest.path", str(path), f"{points} rows")
    plan.set("ingest.date_column", date, "the dates")
    plan.set("ingest.value_column", value, "the values")
    if step:
        plan.set("ingest.frequency", step, "the most common step between dates")
        expected = len(pd.date_range(dates.min(), dates.max(), freq=step))
        if expected > points:
            plan.warnings.append(f"{expected - points} missing step(s) between {dates.min():%Y-%m-%d} and "
                                 f"{dates.max():%Y-%m-%d}: gaps up to ingest.max_gap steps (one season) are "
                                 "interpolated")
    else:
        plan.warnings.append("irregular steps between dates: set ingest.frequency (a pandas alias such as D or MS)")
    plan.set("ingest.season", season, f"steps per season for step {step or 'unknown'}")
    plan.set("ingest.window", min(window, longest), "past values each forecast sees" + (
        f" (cut to fit {points} rows)" if longest < window else ""))
    plan.set("ingest.horizon", horizon, "future values each window predicts")
    return plan


def write_params(plan: Plan, target: Path, *, architectures: list[str] | None = None) -> list[str]:
    """The task's example with the plan's values (each commented with its reason), `architectures` limiting the
    zoo, every other key dvc.yaml reads from the schema's defaults; returns the keys completed from defaults."""
    from ruamel.yaml import YAML

    from archlab import params_keys
    from archlab.params import load_params

    editor = YAML()
    editor.preserve_quotes = True  # "sqlite:///mlflow.db" in a flow mapping must stay quoted to stay YAML
    document = editor.load((ROOT / EXAMPLES[plan.task]).read_text(encoding="utf-8"))
    document["project"] = {"name": f"archlab-{Path(str(plan.values['ingest.path'])).stem}", "seed": 42}
    document["ingest"] = {}  # the example's source is not the user's: only the plan's keys and the defaults
    for key, value in plan.values.items():
        if key != "class_balance":
            _set(document, key, value, plan.reasons[key])
    train = document["train"]
    if architectures:
        train["architectures"] = architectures
        train["feature_heads"] = [h for h in train.get("feature_heads", []) if h in architectures]
        if not train["feature_heads"] and "featurize" in document:
            document["featurize"]["backbones"] = []  # nothing reads cached features
    if "class_balance" in plan.values:
        _weigh_classes(document, plan.reasons["class_balance"])
    with target.open("w", encoding="utf-8") as out:
        editor.dump(document, out)
    added = params_keys.complete(target, ROOT / "dvc.yaml")
    load_params(target)  # the schema's word on the whole file: a value init chose wrongly stops here, named
    return added


def _set(document, key: str, value, reason: str) -> None:
    from ruamel.yaml.comments import CommentedMap

    *parents, leaf = key.split(".")
    node = document
    for part in parents:
        if not isinstance(node.get(part), CommentedMap):
            node[part] = CommentedMap(node.get(part) or {})
        node = node[part]
    node.fa.set_block_style()  # a comment per key needs one key a line
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        from ruamel.yaml.comments import CommentedSeq

        value = CommentedSeq(value)
        value.fa.set_flow_style()  # [32, 40] on the key's line, beside its comment
    node[leaf] = value
    node.yaml_add_eol_comment(f"archlab init: {reason}", leaf)


def _weigh_classes(document, reason: str) -> None:
    """`class_balance: class_weight` for each listed architecture whose schema takes it (k-NN has no loss)."""
    from archlab.architectures.registry import get

    train = document["train"]
    for name in [*train["architectures"], *train.get("feature_heads", [])]:
        block = dict(train.get(name) or {})
        try:
            get(name).params.model_validate({**block, "class_balance": "class_weight"})
        except (ValueError, KeyError):
            continue  # the architecture takes no weights
        _set(document, f"train.{name}.class_balance", "class_weight", reason)


PROJECT_FILES = ["dvc.yaml", "stages", "src", ".gitignore", "data/raw/README.md",
                 "metrics/cv/README.md"]  # as scripts/run_task.sh copies them


def new_project(folder: Path) -> None:
    """A new project folder beside this checkout's: the pipeline's files, git and DVC initialised (the way
    scripts/run_task.sh builds one), so a second project starts without touching the first."""
    import shutil
    import subprocess
    import sys

    if folder.exists() and any(folder.iterdir()):
        raise DataError(f"{folder}: not empty; --project needs a new or empty folder")
    for name in PROJECT_FILES:
        source, target = ROOT / name, folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif source.is_file():
            shutil.copy2(source, target)
    dvc = str(Path(sys.executable).parent / "dvc")
    for command in (["git", "init", "-q"], [dvc, "init", "-q"], [dvc, "config", "core.analytics", "false"]):
        proc = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        if proc.returncode != 0:
            raise DataError(f"{folder}: `{' '.join(command)}` failed: {proc.stderr.strip()}")
