"""Exact duplicate samples, and identical samples with different labels, found by the content hash ingest writes.

Duplicates are kept (ingest puts every copy of a sample in one split, so no copy leaks into test), but a user must
hear about them: an image set whose 14% of samples were copies passed validation without a word. Identical
samples with different labels are label noise no model can fit, and they make every split's score a coin toss on
those samples: more than `validate.max_conflicting_labels` of them stop the run.
"""

from __future__ import annotations

import pandas as pd

EXAMPLES = 5  # conflicting groups named in the message
IDS_PER_EXAMPLE = 3  # ids named per group (the rest counted)


def duplicate_stats(manifest: pd.DataFrame) -> dict:
    """Counts for reports/validation.json: copies beyond the first of each content, and samples whose identical
    twins carry another label (with up to EXAMPLES groups of ids and labels)."""
    total = len(manifest)
    copies = total - manifest["content_hash"].nunique()
    labelled = manifest[manifest["label"].notna()]
    labels = labelled.groupby("content_hash")["label"].nunique()
    conflicting = labels.index[labels > 1]
    rows = labelled[labelled["content_hash"].isin(conflicting)]
    examples = [{"ids": [str(i) for i in group["id"][:IDS_PER_EXAMPLE]], "more": max(len(group) - IDS_PER_EXAMPLE, 0),
                 "labels": sorted({int(v) for v in group["label"]})}
                for _, group in list(rows.groupby("content_hash", sort=False))[:EXAMPLES]]
    return {"samples": total, "duplicate_samples": int(copies),
            "duplicate_share": round(copies / total, 4) if total else 0.0,
            "conflicting_samples": len(rows), "conflicting_groups": len(conflicting),
            "conflicting_examples": examples}


def duplicate_table(stats: dict) -> pd.DataFrame:
    """One row, for the expectations: the counts, and the examples as text (they name the failing samples)."""
    named = "; ".join(_example(e) for e in stats["conflicting_examples"])
    return pd.DataFrame([{"duplicate_samples": stats["duplicate_samples"],
                          "conflicting_samples": stats["conflicting_samples"], "examples": named or "-"}])


def duplicate_expectations(gx, max_conflicting_labels: int) -> list:
    """Conflicting labels above the threshold are critical; any duplicate is a warning."""
    e = gx.expectations
    return [
        e.ExpectColumnValuesToBeBetween(column="conflicting_samples", max_value=max_conflicting_labels,
                                        meta={"critical": True}),
        e.ExpectColumnValuesToBeBetween(column="duplicate_samples", max_value=0, meta={"critical": False}),
    ]


def describe(stats: dict) -> list[str]:
    """The stage log's lines about duplicates; empty when there are none."""
    lines = []
    if stats["duplicate_samples"]:
        lines.append(f"{stats['duplicate_samples']} of {stats['samples']} samples "
                     f"({stats['duplicate_share']:.1%}) are exact copies of another sample (kept: every copy sits in "
                     "the same split)")
    if stats["conflicting_samples"]:
        lines.append(f"{stats['conflicting_samples']} samples in {stats['conflicting_groups']} groups are identical "
                     "but labelled differently, e.g. " + "; ".join(_example(e) for e in stats["conflicting_examples"]))
    return lines


def _example(example: dict) -> str:
    more = f" (+{example['more']} more)" if example["more"] else ""
    return f"{'='.join(example['ids'])}{more} labelled {example['labels']}"
