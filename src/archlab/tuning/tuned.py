"""`tuned/<arch>.yaml`: the values a study chose, and how `train@<arch>` merges them over its params block.

Its own small module so the train stage depends on this, not on the tuning engine (Ray, Optuna).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from archlab.architectures.registry import get
from archlab.errors import ParamsError
from archlab.files import write_atomically
from archlab.params import Params


def write_tuned(path: Path, values: dict, note: str) -> None:
    """Write the chosen values with a comment saying where they come from (atomically: no half-written file)."""
    text = "".join(f"# {line}\n" for line in note.splitlines()) + yaml.safe_dump(values, sort_keys=True)
    write_atomically(path, lambda fh: fh.write(text))


def trials_path(tuned_path: Path) -> Path:
    """tune@<arch>'s record of every trial beside its choice: tuned/<arch>.trials.json (the tuning budget curve's
    input)."""
    return tuned_path.with_suffix(".trials.json")


def write_trials(tuned_path: Path, architecture: str, trials: list[dict]) -> None:
    """Each trial's status (FINISHED, PRUNED, FAILED), best val loss and epochs; empty when nothing was tuned."""
    import json

    record = {"architecture": architecture, "metric": "val_loss", "trials": trials}
    write_atomically(trials_path(tuned_path), lambda fh: fh.write(json.dumps(record, indent=1) + "\n"))


def read_tuned(path: Path | None) -> dict:
    """The values of a `tuned/<arch>.yaml` (empty when there is none or it is empty)."""
    if path is None or not path.exists():
        return {}
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise ParamsError(f"{path}: expected a mapping of train.<arch> keys to values, got {type(values).__name__}")
    return values


def tuned_arch_params(params: Params, name: str, tuned_path: Path | None) -> BaseModel:
    """`train.<name>` merged with the study's choices in `tuned_path`: what train@<name> trains with."""
    block = params.train.arch_params(name).model_dump()
    values = read_tuned(tuned_path)
    try:
        return get(name).params.model_validate({**block, **values})
    except ValidationError as exc:
        raise ParamsError(f"{tuned_path}: its values do not fit train.{name} "
                          f"({exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}); re-run tune@{name}") from exc
