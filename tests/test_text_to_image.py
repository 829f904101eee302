"""Text-to-image: captions from labels, their validation, and the cross-attention generator (it learns, it reads
the caption; the caption-blind control cannot)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from archlab.data.store import read_dataset
from archlab.errors import ValidationFailed
from archlab.ingest import ingest
from archlab.tasks.text_to_image.captions import build_vocabulary, caption, captions_for, encode, names_its_class
from archlab.validation.run import validate
from tests.conftest import make_params

T2I = {"task": "text_to_image", "featurize": {"backbones": []}, "train": {"feature_heads": []},
       "register": {"metric": "caption_match"}}


@pytest.fixture(scope="module")
def digits_with_captions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("t2i")
    params = make_params(**T2I)
    ingest(params, folder / "ingested", folder / "rejected.csv")
    validate(params, folder / "ingested", folder / "validation.json", folder / "docs")
    return folder, params


def test_captions_name_the_class_in_words_or_digits():
    assert caption("7", 0) == "a handwritten seven" and caption("7", 1) == "the digit 7"
    assert caption("cat", 2) == "a drawing of the number cat"  # non-digit classes keep their name
    texts = captions_for([f"s{i}" for i in range(60)], [str(d) for d in range(10)], np.arange(60) % 10, seed=3)
    assert texts == captions_for([f"s{i}" for i in range(60)], [str(d) for d in range(10)], np.arange(60) % 10, 3)
    assert len(set(texts)) > 20 and all(names_its_class(t, str(i % 10)) for i, t in enumerate(texts))
    assert not names_its_class("a handwritten three", "7")
    vocabulary = build_vocabulary(texts)
    tokens = encode(["the digit 7", "an unheard-of word"], vocabulary, 4)
    assert tokens.shape == (2, 4) and tokens[0, 3] == 0 and tokens[1, 1] == 1  # padding; unknown word


def test_ingest_adds_captions_and_tokens_and_validation_checks_them(digits_with_captions, tmp_path):
    folder, params = digits_with_captions
    dataset = read_dataset(folder / "ingested")
    assert dataset.task == "text_to_image" and "seven" in dataset.meta["vocabulary"]
    tokens = dataset.tokens("train")
    assert tokens.shape == (int((dataset.manifest["split"] == "train").sum()), dataset.meta["caption_tokens"])
    assert json.loads((folder / "validation.json").read_text())["expectations"][
        "captions.column_values_to_be_in_set.caption_names_class"]["success"]
    broken = tmp_path / "ingested"
    shutil.copytree(folder / "ingested", broken)
    manifest = pd.read_csv(broken / "manifest.csv")
    manifest.loc[manifest["label"] == 7, "caption"] = "a handwritten three"  # every seven captioned as a three
    manifest.to_csv(broken / "manifest.csv", index=False)
    with pytest.raises(ValidationFailed, match="captions.column_values_to_be_in_set.caption_names_class"):
        validate(params, broken, tmp_path / "validation.json", tmp_path / "docs")


@pytest.fixture(scope="module")
def generators(digits_with_captions, tmp_path_factory):
    """cross_attention and its caption-blind control, a few epochs each on the digits."""
    from archlab import device
    from archlab.architectures.registry import get
    from archlab.training.data import load_training_data
    from archlab.training.fit import FitContext

    folder, _ = digits_with_captions
    data = load_training_data(folder / "ingested")
    trained = {}
    for name, epochs in (("cross_attention", 10), ("caption_blind", 4)):
        device.prepare(0)
        arch = get(name)
        params = arch.params(embed_dim=32, num_heads=2, num_layers=1, mlp_dim=64, noise_copies=2, epochs=epochs,
                             patience=10, checkpoint_every_s=0, learning_rate=0.001)
        tmp = tmp_path_factory.mktemp(name)
        trained[name] = arch.fits["text_to_image"](data, params, FitContext(seed=0, checkpoint_dir=tmp,
                                                                               artifact_dir=tmp / "figures"))
    return data, trained


@pytest.mark.slow  # trains both generators
def test_the_generator_learns_and_draws_its_caption_grid(generators):
    _, trained = generators
    losses = [row["loss"] for row in trained["cross_attention"].history]
    assert losses[-1] < 0.8 * losses[0]
    (grid,) = trained["cross_attention"].figures
    assert grid.name == "generated.png" and grid.stat().st_size > 5_000


@pytest.mark.slow
def test_the_generator_reads_the_caption_and_the_control_cannot(generators):
    from sklearn.linear_model import LogisticRegression

    from archlab.architectures.zoo.cross_attention import generate
    from archlab.tasks.text_to_image.captions import encode
    from archlab.tasks.text_to_image.judge import judged_match

    data, trained = generators
    judge = LogisticRegression(max_iter=3000).fit(data.x_train.reshape(len(data.x_train), -1),
                                                  data.y_train)  # a quick judge of 0..255 pixels, real digits only
    texts = [f"the digit {d}" for d in range(10)]
    tokens = encode(texts, data.meta["vocabulary"], data.meta["caption_tokens"])
    drawn = generate(trained["cross_attention"].model, tokens, data.input_shape, seed=0)
    assert drawn.shape == (10, 8, 8, 1) and 0.0 <= drawn.min() and drawn.max() <= 1.0
    val_drawn = generate(trained["cross_attention"].model, data.text_val, data.input_shape, seed=1)
    match = judged_match(judge, val_drawn.reshape(len(val_drawn), -1), data.y_val).mean()
    assert match >= 0.8  # measured 0.996-1.0 over four seeds at this size; the control sits near 0.1
    blind = generate(trained["caption_blind"].model, np.zeros_like(data.text_val), data.input_shape, seed=1)
    assert judged_match(judge, blind.reshape(len(blind), -1), data.y_val).mean() <= 0.3
    shifted = generate(trained["cross_attention"].model, np.roll(tokens, 1, axis=0), data.input_shape, seed=0)
    assert np.abs(shifted - drawn).mean() > 0.05  # same noise, other captions: other drawings
