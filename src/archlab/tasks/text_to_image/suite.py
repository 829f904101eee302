"""Text-to-image: every sample has a caption, and the caption names the sample's class (a caption that says "three"
on an image of a seven would teach the generator the wrong thing)."""

from __future__ import annotations

import pandas as pd

from archlab.tasks.text_to_image.captions import names_its_class
from archlab.validation.suite import Check, _context, _run_table


def run_caption_suite(manifest: pd.DataFrame, class_names: list[str], *, docs_dir) -> list[Check]:
    gx, context = _context(docs_dir)
    table = manifest[["id", "label", "caption"]].copy()
    table["caption_names_class"] = [isinstance(text, str) and names_its_class(text, class_names[label])
                                    for text, label in zip(table["caption"], table["label"], strict=True)]
    e, crit = gx.expectations, {"critical": True}
    return _run_table(gx, context, "captions", table, [
        e.ExpectColumnValuesToNotBeNull(column="caption", meta=crit),
        e.ExpectColumnValuesToBeInSet(column="caption_names_class", value_set=[True], meta=crit),
    ], ["id"])
