"""Table rows as people and serving send them (a CSV or a frame with the raw columns) and as models take them
(a float matrix, categorical columns as codes): the two directions, driven by the column layout in meta.json."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from archlab.data.csvfile import read_csv
from archlab.errors import ArchlabError
from archlab.tasks.tabular_classification.tables import boolean_values, date_part, encode_column


def layout(info: dict) -> list[dict]:
    """The model's columns in training order: [{"name", "kind", "categories"?}]."""
    return info.get("columns") or [{"name": n, "kind": "numeric"} for n in info.get("feature_names", [])]


def derive_columns(frame: pd.DataFrame, columns: list[dict]) -> pd.DataFrame:
    """A frame with the raw columns people send turned into the ones the model was trained on: each date part
    (`day.month`) from its date column (`day`) unless the part is already there, booleans (yes/no, true/false) as
    1/0. The frame is returned as it is when nothing needs deriving."""
    derived = {}
    for column in columns:
        name = column["name"]
        if column["kind"] == "date_part" and name not in frame.columns and column["source"] in frame.columns:
            derived[name] = date_part(frame[column["source"]], column["part"], column.get("dayfirst", False))
        elif column["kind"] == "boolean" and name in frame.columns:
            derived[name] = boolean_values(frame[name])
    return frame.assign(**derived) if derived else frame


def encode_frame(frame: pd.DataFrame, columns: list[dict], where: str = "input") -> np.ndarray:
    """Raw feature columns (by name, any order, extra columns ignored) -> the float matrix models take."""
    frame = derive_columns(frame, columns)
    missing = [c["name"] for c in columns if c["name"] not in frame.columns]
    if missing:
        raise ArchlabError(f"{where}: missing feature column(s) {missing}; the model was trained on "
                           f"{[c['name'] for c in columns]}")
    x = np.empty((len(frame), len(columns)), dtype=np.float32)
    for j, column in enumerate(columns):
        values = frame[column["name"]]
        if column["kind"] == "categorical":
            x[:, j] = encode_column(values.to_numpy(dtype=object), column["categories"])
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna() & (values.astype(str).str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ArchlabError(f"{where}: column {column['name']!r} must be numeric; row {row + 2} holds "
                               f"{values.iloc[row]!r}")
        x[:, j] = numbers.to_numpy(dtype=np.float64)
    return x


def decode_rows(x: np.ndarray, columns: list[dict]) -> pd.DataFrame:
    """The float matrix back to raw columns (a code's category; "" for the unknown slot), as serving takes rows."""
    data = {}
    for j, column in enumerate(columns):
        values = np.asarray(x[:, j], dtype=np.float64)
        if column["kind"] == "categorical":
            names = [""] + list(column["categories"])
            data[column["name"]] = [names[int(v)] if 0 <= v < len(names) else "" for v in np.nan_to_num(values)]
        else:
            data[column["name"]] = values
    return pd.DataFrame(data)


def read_rows(paths: list[Path], info: dict) -> tuple[pd.DataFrame, list[str]]:
    """`archlab predict`'s table inputs: CSV files with the raw columns (named by `info["id_column"]`'s values
    when present), or .npy matrices of encoded rows; returns raw rows and a name per row."""
    columns = layout(info)
    frames, names = [], []
    for path in paths:
        if not path.is_file():
            raise ArchlabError(f"{path}: input file not found")
        if path.suffix.lower() == ".csv":
            frame = read_csv(path, error=ArchlabError, what="input file")
            frame = derive_columns(frame, columns)
            encode_frame(frame, columns, str(path))  # names a missing column or a bad cell now, with the file
            id_column = info.get("id_column")
            ids = frame[id_column].astype(str).tolist() if id_column and id_column in frame else \
                [f"{path}:{i + 2}" for i in range(len(frame))]
            frames.append(frame[[c["name"] for c in columns]])
            names.extend(ids)
        elif path.suffix.lower() == ".npy":
            array = np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
            if array.ndim != 2 or array.shape[1] != len(columns):
                raise ArchlabError(f"{path}: expected encoded rows of shape (N, {len(columns)}), got {array.shape}")
            frames.append(decode_rows(array, columns))
            names.extend(f"{path}[{i}]" for i in range(len(array)))
        else:
            raise ArchlabError(f"{path}: expected a .csv file with the columns {[c['name'] for c in columns]} "
                               "(or an .npy of encoded rows)")
    return pd.concat(frames, ignore_index=True), names
