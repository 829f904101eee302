"""Ingest for text to image: image classification's ingest of the labelled images, plus a caption per sample
(manifest column `caption`), its tokens in tokens.npy and the vocabulary in meta."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from archlab.data import store
from archlab.tasks.image_classification import ingest as image_ingest
from archlab.tasks.text_to_image import CAPTION_TOKENS
from archlab.tasks.text_to_image.captions import build_vocabulary, captions_for, encode


def with_captions(folder: Path, manifest: pd.DataFrame, class_names: list[str], params) -> dict:
    """A caption per sample (manifest column `caption`), its tokens in tokens.npy; the vocabulary in meta."""
    texts = captions_for(manifest["id"].tolist(), class_names, manifest["label"].to_numpy(), params.project.seed)
    manifest["caption"] = texts
    train = [t for t, s in zip(texts, manifest["split"], strict=True) if s == "train"]
    vocabulary = build_vocabulary(train)
    np.save(folder / store.TOKENS, encode(texts, vocabulary, CAPTION_TOKENS))
    return {"vocabulary": vocabulary, "caption_tokens": CAPTION_TOKENS}


def ingest(task, params, out_dir: Path, rejected_csv: Path) -> dict:
    return image_ingest.ingest(task, params, out_dir, rejected_csv, extend_dataset=with_captions)
