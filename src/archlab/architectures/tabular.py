"""What the tabular task's networks share: standardised inputs (missing cells at the mean), categorical columns
one-hot (dense nets) or as tokens (FT-Transformer), and the fit wrapper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def cardinalities(meta: dict) -> list[int] | None:
    """Per column its number of categories (0 for a numeric column), or None for an all-numeric table."""
    columns = meta.get("columns") or []
    counts = [len(c["categories"]) if c["kind"] == "categorical" else 0 for c in columns]
    return counts if any(counts) else None


def standardize_front(x_train: np.ndarray, categories: list[int] | None = None) -> Callable[[Any], Any]:
    """inputs -> `Standardize` with the train split's per-feature mean and std (NaN cells ignored); categorical
    codes pass through unchanged (mean 0, std 1)."""
    from archlab.architectures.layers import Standardize

    mean = np.nan_to_num(np.nanmean(x_train, axis=0))
    std = np.nan_to_num(np.nanstd(x_train, axis=0), nan=1.0)
    if categories:
        categorical = np.asarray(categories) > 0
        mean, std = np.where(categorical, 0.0, mean), np.where(categorical, 1.0, std)
    return lambda inputs: Standardize(mean, std, name="standardize")(inputs)


def tabular_fit(build: Callable[..., Any], *, tokens: bool = False) -> Callable[..., Any]:
    """The tabular `fit` of a builder `build(input_shape, n_classes, params, front=...) -> keras.Model`.

    Args:
        tokens: the builder embeds each column itself and takes `categories=` (per column its category count):
            it gets codes, not one-hot columns.
    """

    def fit(data, params, ctx):
        from archlab.training.fit import fit_classifier

        categories = cardinalities(data.meta)
        front = standardize_front(data.x_train, categories)
        extra = {}
        if categories and tokens:
            extra["categories"] = categories
        elif categories:
            from archlab.architectures.table_layers import OneHotColumns

            standardize = front
            front = lambda inputs: OneHotColumns(categories, name="one_hot")(standardize(inputs))  # noqa: E731
        return fit_classifier(build(data.input_shape, data.n_classes, params, front=front, **extra), data, params,
                              ctx)

    return fit


def column_encoder(categories: list[int], numeric):
    """scikit-learn: `numeric` (a transformer) on the numeric columns, one-hot on the categorical codes."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    numeric_columns = [j for j, k in enumerate(categories) if k == 0]
    categorical_columns = [j for j, k in enumerate(categories) if k > 0]
    one_hot = OneHotEncoder(categories=[np.arange(categories[j] + 1, dtype=np.float64) for j in categorical_columns],
                            handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer([("numeric", numeric, numeric_columns), ("categorical", one_hot, categorical_columns)])
