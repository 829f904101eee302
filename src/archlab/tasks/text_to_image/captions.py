"""Captions for the text-to-image task, generated from the labels with a few templates, and their tokens.

"a handwritten seven", "the digit 7", ... : the template of each sample is drawn from a hash of (seed, sample id),
so captions are reproducible and stay with their sample when data grows. Class names that are single digits get
their number word; any other class name is used as it is ("a drawing of a cat").
"""

from __future__ import annotations

import hashlib

import numpy as np

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEMPLATES = ["a handwritten {word}", "the digit {digit}", "a drawing of the number {word}", "{word}",
             "number {digit} written by hand", "an image of a {word}"]
PAD, UNKNOWN = "<pad>", "<unk>"


def words_for(class_name: str) -> tuple[str, str]:
    """(word, digit) a caption may name the class by: ("seven", "7") for "7", (name, name) otherwise."""
    if len(class_name) == 1 and class_name.isdigit():
        return NUMBER_WORDS[int(class_name)], class_name
    return class_name, class_name


def caption(class_name: str, template: int) -> str:
    word, digit = words_for(class_name)
    return TEMPLATES[template % len(TEMPLATES)].format(word=word, digit=digit)


def captions_for(ids: list[str], class_names: list[str], labels: np.ndarray, seed: int) -> list[str]:
    """One caption per sample, its template picked by a hash of (seed, id)."""
    def template(sample_id: str) -> int:
        return int.from_bytes(hashlib.blake2b(f"{seed}:{sample_id}".encode(), digest_size=4).digest(), "big")

    return [caption(class_names[label], template(i)) for i, label in zip(ids, labels, strict=True)]


def tokenize(text: str) -> list[str]:
    return text.lower().split()


def build_vocabulary(captions: list[str]) -> list[str]:
    """Index 0 pads, 1 stands for a word never seen in training; the rest sorted."""
    return [PAD, UNKNOWN, *sorted({word for text in captions for word in tokenize(text)})]


def encode(captions: list[str], vocabulary: list[str], length: int) -> np.ndarray:
    """Token ids (N, length), padded with 0 and cut at `length`."""
    index = {word: i for i, word in enumerate(vocabulary)}
    out = np.zeros((len(captions), length), dtype=np.int32)
    for row, text in enumerate(captions):
        ids = [index.get(word, 1) for word in tokenize(text)][:length]
        out[row, :len(ids)] = ids
    return out


def names_its_class(text: str, class_name: str) -> bool:
    """Whether a caption names the class (the validation suite's check that captions match labels)."""
    word, digit = words_for(class_name)
    tokens = tokenize(text)
    return word.lower() in tokens or digit.lower() in tokens or class_name.lower() in text.lower()
