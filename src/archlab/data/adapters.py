"""The dispatch from `ingest.source` to the adapter that reads it (each adapter yields `archlab.data.source`'s
types, so it lives apart from them)."""

from __future__ import annotations

from archlab.data import arrays, image_dir
from archlab.data.source import SourceData
from archlab.params import IngestParams


def open_source(params: IngestParams) -> SourceData:
    """Open the configured source (`ingest.source`) for streaming."""
    if params.source == "digits":
        return arrays.digits(params)
    if params.source == "npz":
        return arrays.npz(params)
    if params.source == "keras":
        return arrays.keras_dataset(params)
    return image_dir.image_dir(params)
