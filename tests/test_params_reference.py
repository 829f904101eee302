"""docs/params.md is generated from the schema (`make params-doc`): it must be current, and it must say what the
schema says."""

from __future__ import annotations

from scripts.params_reference import OUT, reference


def test_the_committed_params_reference_is_current():
    assert OUT.read_text(encoding="utf-8") == reference(), "docs/params.md is stale: run `make params-doc`"


def test_the_reference_names_every_key_with_its_default_bounds_and_meaning():
    text = reference()
    assert "| `ingest.split.train` | `0.7` | float > 0.0 < 1.0 | share of each class in the training split |" in text
    assert "| `register.min_delta` | `0.0` | float >= 0.0 | how much the challenger must beat the champion by |" in text
    assert "| `featurize.pooling` | `\"avg\"` | \"avg\" \\| \"max\" |" in text  # choices, escaped for the table
    assert "## `train.cnn` (convolutional)" in text and "| `train.cnn.filters` | `[32, 64]` |" in text
    assert "## `retrain.drift`" in text and "`retrain.drift.max_psi`" in text  # nested sections follow
