"""The expectation suite, run with the Great Expectations 1.x API, and its summary for DVC and people.

Each expectation carries `meta.critical`: a failed critical expectation stops the pipeline; a non-critical one is
reported as a warning (for instance blank images, which are suspicious but can be legitimate).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from archlab.validation.tables import class_count_table, sample_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One evaluated expectation, flattened for reports."""

    table: str
    expectation: str
    column: str
    critical: bool
    success: bool
    unexpected: list

    @property
    def key(self) -> str:
        return f"{self.table}.{self.expectation.removeprefix('expect_')}.{self.column}"


def _sample_expectations(gx, n_classes: int, shape: list[int]) -> list:
    e = gx.expectations
    height, width, channels = (list(shape) + [1])[:3]
    crit = {"critical": True}
    return [
        e.ExpectColumnValuesToBeUnique(column="id", meta=crit),
        e.ExpectColumnValuesToNotBeNull(column="label", meta=crit),
        e.ExpectColumnValuesToBeInSet(column="label", value_set=list(range(n_classes)), meta=crit),
        e.ExpectColumnValuesToBeInSet(column="split", value_set=["train", "val", "test"], meta=crit),
        e.ExpectColumnValuesToBeBetween(column="pixel_min", min_value=0, meta=crit),
        e.ExpectColumnValuesToBeBetween(column="pixel_max", max_value=255, meta=crit),
        e.ExpectColumnValuesToBeBetween(column="nan_count", min_value=0, max_value=0, meta=crit),
        e.ExpectColumnValuesToBeInSet(column="height", value_set=[height], meta=crit),
        e.ExpectColumnValuesToBeInSet(column="width", value_set=[width], meta=crit),
        e.ExpectColumnValuesToBeInSet(column="channels", value_set=[channels], meta=crit),
        e.ExpectColumnValuesToBeInSet(column="test_duplicates_train_or_val", value_set=[False], meta=crit),
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="pixel_max", column_B="pixel_min", or_equal=False,
                                                  meta={"critical": False}),
    ]


def _count_expectations(gx, min_per_class: int, max_imbalance_ratio: float) -> list:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToBeBetween(column="count", min_value=min_per_class, meta={"critical": True}),
        e.ExpectColumnValuesToBeBetween(column="imbalance_ratio", max_value=max_imbalance_ratio,
                                        meta={"critical": True}),
    ]


def _context(docs_dir: Path):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(site_name="archlab", site_config={
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir.resolve())},
    })
    return gx, context


def _examples(result: dict, limit: int = 5) -> list:
    """Up to `limit` failing rows, each with its key columns and the bad value."""
    indexed = result.get("partial_unexpected_index_list") or []
    if indexed:
        return [{k: _plain(v) for k, v in row.items()} for row in indexed[:limit]]
    return [_plain(v) for v in (result.get("partial_unexpected_list") or [])[:limit]]


def _plain(value):
    """numpy scalars as plain Python values, so messages read `3`, not `np.int64(3)`."""
    return value.item() if hasattr(value, "item") else value


def _run_table(gx, context, name: str, frame: pd.DataFrame, expectations: list, key_columns: list[str]) -> list[Check]:
    """Validate one table through a Checkpoint (which also renders it into the Data Docs site)."""
    asset = context.data_sources.add_pandas(f"{name}_source").add_dataframe_asset(name)
    batch = asset.add_batch_definition_whole_dataframe(f"{name}_all")
    suite = context.suites.add(gx.ExpectationSuite(name=f"archlab_{name}"))
    for expectation in expectations:
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=f"{name}_vd", data=batch,
                                                                            suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=f"{name}_checkpoint", validation_definitions=[definition],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["archlab"])],
        # Name failing rows by their key columns (sample id, or split and class), not by a bare value.
        result_format={"result_format": "SUMMARY", "unexpected_index_column_names": key_columns}))
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    checks = []
    for suite_result in result.run_results.values():
        for r in suite_result.results:
            config = r.expectation_config
            column = config.kwargs.get("column") or f"{config.kwargs.get('column_A')}>{config.kwargs.get('column_B')}"
            checks.append(Check(table=name, expectation=config.type, column=column,
                                critical=bool((config.meta or {}).get("critical", True)), success=bool(r.success),
                                unexpected=_examples(r.result)))
    return checks


def run_suite(images, manifest: pd.DataFrame, meta: dict, *, min_per_class: int, max_imbalance_ratio: float,
              max_conflicting_labels: int, docs_dir: Path) -> list[Check]:
    """Evaluate every expectation on an ingested dataset and write the Data Docs HTML into `docs_dir`."""
    gx, context = _context(docs_dir)
    samples = sample_table(images, manifest)
    counts = class_count_table(manifest, meta["n_classes"])
    sample_checks = _run_table(gx, context, "samples", samples,
                               _sample_expectations(gx, meta["n_classes"], meta["image_shape"]), ["id"])
    count_checks = _run_table(gx, context, "class_counts", counts,
                              _count_expectations(gx, min_per_class, max_imbalance_ratio), ["split", "label"])
    return sample_checks + count_checks + duplicate_checks(gx, context, manifest, max_conflicting_labels)


def duplicate_checks(gx, context, manifest: pd.DataFrame, max_conflicting_labels: int) -> list[Check]:
    """Exact duplicates (a warning) and identical samples labelled differently (archlab.validation.duplicates)."""
    from archlab.validation import duplicates

    table = duplicates.duplicate_table(duplicates.duplicate_stats(manifest))
    return _run_table(gx, context, "duplicates", table, duplicates.duplicate_expectations(gx, max_conflicting_labels),
                      ["examples"])


def summarise(checks: list[Check]) -> dict:
    """The DVC metric written to reports/validation.json."""
    failed = [c for c in checks if not c.success]
    return {
        "evaluated": len(checks), "passed": len(checks) - len(failed), "failed": len(failed),
        "critical_failed": sum(c.critical for c in failed), "success": not any(c.critical for c in failed),
        "expectations": {c.key: {"success": c.success, "critical": c.critical} for c in checks},
    }
