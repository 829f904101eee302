"""The params keys dvc.yaml reads, found missing and filled in with the schema's defaults.

DVC resolves `${featurize.backbones}` and the stages' `params:` deps before any archlab code runs, so the schema's
defaults cannot stand in for a key the file lacks: `dvc repro` stops with "Could not find 'featurize.backbones'" or
"Parameters 'tune' are missing". `archlab check-params` names those keys first, and `archlab check-params
--complete` writes them into the file (the user's values and comments kept), so a params.yaml written for an
older release is upgraded in one command.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

INTERPOLATION = re.compile(r"\$\{([^}]+)\}")
LOOP_VARIABLES = {"item", "key"}
_MISSING = object()


def lookup(raw: dict, dotted: str):
    """The value at `a.b.c` in a nested mapping, or _MISSING."""
    node = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _expand(key: str, items: list) -> list[str]:
    """`train.${item}` once per foreach item; a key without the loop variable as it is."""
    if "${item}" not in key:
        return [key]
    return [key.replace("${item}", str(item)) for item in items]


def keys_dvc_reads(dvc_yaml: Path, raw: dict) -> list[str]:
    """Every params.yaml key the stages of `dvc_yaml` interpolate or declare as params deps, foreach loops expanded
    over the values `raw` gives them (a loop over a missing key counts that key alone, an empty loop nothing more:
    DVC resolves a loop's body once per item)."""
    stages = (yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}).get("stages") or {}
    needed: set[str] = set()
    for stage in stages.values():
        items: list = [None]
        loop = stage.get("foreach")
        if isinstance(loop, str) and (match := INTERPOLATION.fullmatch(loop.strip())):
            needed.add(match.group(1))
            found = lookup(raw, match.group(1))
            items = found if isinstance(found, list) else []
            if not items:
                continue  # DVC instantiates nothing for an empty loop (and stops at a missing one)
        body = stage.get("do", stage)
        for text in [body.get("cmd", ""), *[d for d in body.get("deps", []) if isinstance(d, str)]]:
            needed.update(k for k in INTERPOLATION.findall(str(text)) if k.split(".")[0] not in LOOP_VARIABLES)
        for dep in body.get("params", []):
            if isinstance(dep, str):  # a dict names another params file
                needed.update(_expand(dep, items))
    return sorted(needed)


def missing_keys(dvc_yaml: Path, raw: dict) -> list[str]:
    """The keys dvc.yaml reads that `raw` (the params file as written) lacks."""
    return [key for key in keys_dvc_reads(dvc_yaml, raw) if lookup(raw, key) is _MISSING]


def defaults_for(raw: dict) -> dict:
    """The whole params tree the schema makes of `raw`: the file's values, defaults for everything else, and a
    default block for each listed architecture and backbone that has none."""
    from archlab.params import parse_params

    params = parse_params(raw)
    full = params.model_dump(by_alias=True, mode="json")  # None kept: `register.metric: null` is a key DVC reads
    train = params.train
    for name in [*train.architectures, *train.feature_heads]:
        full["train"].setdefault(name, train.arch_params(name).model_dump(mode="json"))
    return full


def complete(path: Path, dvc_yaml: Path) -> list[str]:
    """Write every key dvc.yaml reads that `path` lacks, with its schema default, keeping the file's comments and
    values (a round-trip YAML edit); a missing section is written whole, with every key the schema gives it.
    Returns the keys added, in the order written. Repeats until nothing is missing: a default list can name new
    loop items (`featurize.backbones: [vgg16]` makes dvc.yaml read `featurize.vgg16`)."""
    from ruamel.yaml import YAML

    editor = YAML()  # round-trip: comments, order and quoting survive
    editor.preserve_quotes = True  # "sqlite:///mlflow.db" in a flow mapping must stay quoted to stay YAML
    editor.representer.add_representer(type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null",
                                                                                        "null"))
    text = path.read_text(encoding="utf-8")
    document = editor.load(text) or {}
    raw = yaml.safe_load(text) or {}
    added: list[str] = []
    for _ in range(MAX_ROUNDS):
        defaults = defaults_for(raw)
        todo = [key for key in missing_keys(dvc_yaml, raw) if lookup(defaults, key) is not _MISSING]
        if not todo:
            break
        for key in todo:
            if lookup(raw, key) is not _MISSING:
                continue  # written with its section this round
            prefix = _first_missing(raw, key)
            value = lookup(defaults, prefix)
            for tree in (document, raw):
                *parents, leaf = prefix.split(".")
                node = tree
                for part in parents:
                    node = node[part]
                node[leaf] = value
            added.append(prefix)
    with path.open("w", encoding="utf-8") as out:
        editor.dump(document, out)
    return added


MAX_ROUNDS = 5


def _first_missing(raw: dict, key: str) -> str:
    """The shortest prefix of `key` that `raw` lacks (`tune` for `tune.trials` when the whole section is missing)."""
    parts = key.split(".")
    for depth in range(1, len(parts) + 1):
        prefix = ".".join(parts[:depth])
        if lookup(raw, prefix) is _MISSING:
            return prefix
    return key
