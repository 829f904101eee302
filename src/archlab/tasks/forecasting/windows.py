"""`archlab predict`'s forecasting inputs: windows of the series, as .npy arrays or CSV rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from archlab.errors import ArchlabError


def read_windows(paths: list[Path], input_shape: list[int]) -> tuple[np.ndarray, list[str]]:
    """Series windows (N, W[, 1]) from .npy files, or from .csv files with a header (one window a row, oldest
    value first)."""
    arrays, names = [], []
    for path in paths:
        if not path.is_file():
            raise ArchlabError(f"{path}: input file not found")
        if path.suffix.lower() == ".npy":
            array = np.asarray(np.load(path, allow_pickle=False), dtype=np.float32)
        elif path.suffix.lower() == ".csv":
            array = pd.read_csv(path).to_numpy(dtype=np.float32)
        else:
            raise ArchlabError(f"{path}: this model takes arrays of shape (N, {', '.join(map(str, input_shape))}): "
                               "give an .npy file (or a .csv of windows, one a row)")
        if array.ndim == len(input_shape) and len(input_shape) == 2 and input_shape[1] == 1:
            array = array[..., None]  # windows given as (N, W)
        if tuple(array.shape[1:]) != tuple(input_shape):
            raise ArchlabError(f"{path}: expected shape (N, {', '.join(map(str, input_shape))}), got {array.shape}")
        arrays.append(array)
        names.extend(f"{path}[{i}]" for i in range(len(array)))
    return np.concatenate(arrays), names
