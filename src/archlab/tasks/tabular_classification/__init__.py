"""Tabular classification: the rows of a table in, one class per row out (scikit-learn's breast cancer and wine
tables, or a user's CSV), with imputation of missing cells measured against the truth."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from archlab.tasks import register
from archlab.tasks.classification import ClassificationTask

log = logging.getLogger(__name__)


class TabularClassification(ClassificationTask):
    name = "tabular_classification"
    inputs = "feature vectors (N, F) of a table"
    sources = ("breast_cancer", "wine", "csv")
    sample_noun = "test rows"
    class_balance = True

    def describe(self, meta: dict) -> str:
        return (f"{meta['count']} {meta['source']} rows x {len(meta['feature_names'])} features, "
                f"{meta['n_classes']} classes")

    def model_info(self, data, fitted_for: str, seed: int) -> dict:
        """The column layout and id column: `predict` and `serve` take the raw columns and encode them."""
        return {"columns": data.meta.get("columns") or [{"name": n, "kind": "numeric"}
                                                        for n in data.meta["feature_names"]],
                "id_column": data.meta.get("id_column")}

    def pyfunc_example(self, data, info: dict):
        """Two validation rows as raw columns (categories by name), complete ones first (JSON has no NaN)."""
        from archlab.tasks.tabular_classification.rows import decode_rows, layout

        x = np.asarray(data.x_val, dtype=np.float64)
        complete = ~np.isnan(x).any(axis=1)
        rows = x[complete] if complete.any() else np.nan_to_num(x)
        return decode_rows(rows[:2], layout(info))

    def output_frame(self, model, samples, info: dict):
        from archlab.tasks.tabular_classification.rows import encode_frame, layout

        if isinstance(samples, pd.DataFrame) and info.get("columns"):
            samples = encode_frame(samples, layout(info))
        return super().output_frame(model, samples, info)

    def registry_inputs(self, dataset, x_test):
        from archlab.tasks.tabular_classification.rows import decode_rows, layout

        return decode_rows(np.asarray(x_test), layout(dataset.meta))

    def read_inputs(self, paths: list[Path], info: dict):
        from archlab.tasks.tabular_classification.rows import read_rows

        return read_rows(paths, info)


register(TabularClassification())
