"""The expectation suite of the tabular task: types, value ranges and nulls of every feature column.

Ranges come from the train split's quartiles, robustly: a column fails when more than 1% of its values lie over
IQR_WIDTHS interquartile ranges beyond them (a unit mix-up, a sentinel like -999). Quartiles, not min/max, so the
bad values themselves cannot widen the range they are checked against. On the embedded tables no clean column has
more than 0.35% of its values that far out. Nulls may make up at most `validate.max_null_fraction` of a column,
which leaves room for the cells `ingest.missing_fraction` masks on purpose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from archlab.validation.suite import Check, _context, _run_table
from archlab.validation.tables import class_count_table

RANGE_MOSTLY = 0.99  # share of a column's values that must lie in the widened train range
IQR_WIDTHS = 10.0


def feature_table(features: np.ndarray, manifest: pd.DataFrame, feature_names: list[str]) -> pd.DataFrame:
    """Manifest plus one float64 column per feature, and whether a test row duplicates a train/val row."""
    table = manifest.copy()
    values = np.asarray(features, dtype=np.float64)[manifest["row"].to_numpy()]
    for j, name in enumerate(feature_names):
        table[name] = values[:, j]
    seen_before_test = set(table.loc[table["split"] != "test", "content_hash"])
    table["test_duplicates_train_or_val"] = (table["split"] == "test") & table["content_hash"].isin(seen_before_test)
    return table


def _feature_expectations(gx, table: pd.DataFrame, meta: dict, max_null_fraction: float) -> list:
    e = gx.expectations
    crit = {"critical": True}
    checks = [
        e.ExpectColumnValuesToBeUnique(column="id", meta=crit),
        e.ExpectColumnValuesToBeInSet(column="label", value_set=list(range(meta["n_classes"])), meta=crit),
        e.ExpectColumnValuesToBeInSet(column="split", value_set=["train", "val", "test"], meta=crit),
        e.ExpectColumnValuesToBeInSet(column="test_duplicates_train_or_val", value_set=[False], meta=crit),
    ]
    train = table[table["split"] == "train"]
    kinds = {c["name"]: c for c in meta.get("columns", [])}
    for name in meta["feature_names"]:
        column = kinds.get(name, {"kind": "numeric"})
        if column["kind"] == "categorical":  # codes: 0 the unknown slot, 1..K the train split's categories
            checks.append(e.ExpectColumnValuesToBeInSet(column=name, value_set=[float(k) for k in range(
                len(column["categories"]) + 1)], meta=crit))
            continue
        q1, q3 = (float(q) for q in np.nanpercentile(train[name], [25, 75]))
        span = IQR_WIDTHS * max(q3 - q1, 1e-9 + 1e-3 * abs(q3))
        checks += [
            e.ExpectColumnValuesToBeOfType(column=name, type_="float64", meta=crit),
            e.ExpectColumnValuesToNotBeNull(column=name, mostly=1.0 - max_null_fraction, meta=crit),
            e.ExpectColumnValuesToBeBetween(column=name, min_value=q1 - span, max_value=q3 + span,
                                            mostly=RANGE_MOSTLY, meta=crit),
        ]
    return checks


def run_table_suite(features: np.ndarray, manifest: pd.DataFrame, meta: dict, *, min_per_class: int,
                    max_imbalance_ratio: float, max_null_fraction: float, max_conflicting_labels: int,
                    docs_dir) -> list[Check]:
    """Evaluate the table's expectations, its columns' spread, the class counts and the duplicates; Data Docs HTML
    goes into `docs_dir`."""
    from archlab.validation.suite import _count_expectations, duplicate_checks

    gx, context = _context(docs_dir)
    table = feature_table(features, manifest, meta["feature_names"])
    row_checks = _run_table(gx, context, "rows", table, _feature_expectations(gx, table, meta, max_null_fraction),
                            ["id"])
    counts = class_count_table(manifest, meta["n_classes"])
    count_checks = _run_table(gx, context, "class_counts", counts,
                              _count_expectations(gx, min_per_class, max_imbalance_ratio), ["split", "label"])
    spread = column_spread_table(table[table["split"] == "train"], meta["feature_names"])
    spread_checks = _run_table(gx, context, "columns", spread, _spread_expectations(gx), ["column"])
    return row_checks + spread_checks + count_checks + duplicate_checks(gx, context, manifest, max_conflicting_labels)


NEAR_CONSTANT_SHARE = 0.99  # a column whose most common value fills more of the train split carries little signal


def column_spread_table(train: pd.DataFrame, feature_names: list[str]) -> pd.DataFrame:
    """One row per feature column of the train split: distinct values and the share of the most common one."""
    rows = []
    for name in feature_names:
        values = train[name].dropna()
        top = float(values.value_counts(normalize=True).iloc[0]) if len(values) else 1.0
        rows.append({"column": name, "distinct_values": int(values.nunique()), "top_value_share": round(top, 4)})
    return pd.DataFrame(rows, columns=["column", "distinct_values", "top_value_share"])


def _spread_expectations(gx) -> list:
    """Constant and near-constant columns: warnings (a model copes; the user may want to drop them)."""
    e = gx.expectations
    return [e.ExpectColumnValuesToBeBetween(column="distinct_values", min_value=2, meta={"critical": False}),
            e.ExpectColumnValuesToBeBetween(column="top_value_share", max_value=NEAR_CONSTANT_SHARE,
                                            meta={"critical": False})]
