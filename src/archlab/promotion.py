"""The promotion rule: the challenger takes `@champion` only if it beats the current champion, re-scored on
today's test split, by at least `register.min_delta` (and strictly). The alias never points at a model that failed
to load, and the replaced champion keeps `@previous` so rollback is one command."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from archlab import model_registry as reg
from archlab.errors import ArchlabError

log = logging.getLogger(__name__)


@dataclass
class Decision:
    decision: str  # "promoted" or "kept"
    reason: str
    metric: str
    challenger_version: str
    challenger_architecture: str
    challenger_score: float
    champion_version: str | None
    champion_architecture: str | None
    champion_score: float | None
    attempts: int = 1  # >1: the champion changed while this decision scored it, and it started over
    lock: str = ""  # the critical section the decision was made in (`promotion_lock`)

    def as_dict(self) -> dict:
        return asdict(self)


def beats(challenger: float, champion: float, min_delta: float, metric) -> bool:
    """Strictly better by `metric` (an `archlab.tasks.Metric`, which knows its direction), and by at least
    min_delta: an equal score never replaces the champion."""
    gain = metric.improvement(challenger, champion)
    return gain > 0 and gain >= min_delta


MAX_ATTEMPTS = 5  # a champion that keeps changing under the lock means a writer that does not take it


def decide_and_apply(project: str, new_version, scorer, *, metric, min_delta: float) -> Decision:
    """Score the challenger and the current champion on the same test inputs (the task's `Scorer`), then move
    aliases per the rule.

    Called inside `promotion_lock`, which every archlab job takes; the champion is still read again after scoring,
    because a person may move an alias in the MLflow UI without any lock: a decision made against a champion that
    has changed since it was scored starts over, and after the move the aliases are read back.

    Raises:
        ArchlabError: the challenger is unusable (no alias moved), the champion kept changing, or an alias did not
            read back as written.
    """
    challenger_arch = new_version.tags.get("archlab.architecture", "?")
    try:
        challenger_score = reg.score_version(project, new_version.version, scorer, metric)
    except ArchlabError as exc:
        raise ArchlabError(f"challenger {challenger_arch} (version {new_version.version}) is unusable, no alias "
                           f"moved: {exc}") from None
    base = {"metric": metric.name, "challenger_version": str(new_version.version),
            "challenger_architecture": challenger_arch, "challenger_score": challenger_score}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        current = reg.alias_version(project, reg.CHAMPION)
        decision = _decide(project, new_version, current, scorer, metric, min_delta, base)
        decision.attempts = attempt
        latest = reg.alias_version(project, reg.CHAMPION)
        if _version(latest) != _version(current):
            log.warning("%s@champion moved from %s to %s while this promotion scored it; starting over", project,
                        _version(current), _version(latest))
            continue
        if decision.decision == "promoted":
            _promote(project, new_version, current)
        elif decision.champion_version != decision.challenger_version:
            reg.set_alias(project, reg.CHALLENGER, new_version.version)
        _read_back(project, decision)
        return decision
    raise ArchlabError(f"{project}@champion changed {MAX_ATTEMPTS} times while this promotion scored it; no alias "
                       "moved. Something moves aliases without the promotion lock (see docs/team-and-faults.md)")


def _version(model_version) -> str | None:
    return None if model_version is None else str(model_version.version)


def _decide(project: str, new_version, current, scorer, metric, min_delta: float, base: dict) -> Decision:
    """The rule's verdict against `current` (read by the caller); moves nothing."""
    if current is None:
        return Decision("promoted", "no champion yet", champion_version=None, champion_architecture=None,
                        champion_score=None, **base)
    champion_arch = current.tags.get("archlab.architecture", "?")
    challenger_score = base["challenger_score"]
    if str(current.version) == str(new_version.version):
        return Decision("kept", "the challenger is already the champion", champion_version=str(current.version),
                        champion_architecture=champion_arch, champion_score=challenger_score, **base)
    try:
        champion_score = reg.score_version(project, current.version, scorer, metric)
    except ArchlabError as exc:
        log.error("the current champion cannot be used: %s", exc)
        return Decision("promoted", f"the current champion (version {current.version}) failed to load: {exc}",
                        champion_version=str(current.version), champion_architecture=champion_arch,
                        champion_score=None, **base)
    common = {"champion_version": str(current.version), "champion_architecture": champion_arch,
              "champion_score": champion_score, **base}
    gain = metric.improvement(challenger_score, champion_score)
    if beats(challenger_score, champion_score, min_delta, metric):
        reason = (f"{metric.name} {challenger_score:.4f} beats the champion's {champion_score:.4f} on today's test "
                  f"split by {gain:+.4f} (min_delta {min_delta})")
        return Decision("promoted", reason, **common)
    reason = (f"{metric.name} {challenger_score:.4f} does not beat the champion's {champion_score:.4f} by more than "
              f"min_delta {min_delta} (improvement {gain:+.4f}); kept the champion")
    return Decision("kept", reason, **common)


def _read_back(project: str, decision: Decision) -> None:
    """The aliases as the decision left them, read from the registry, not assumed."""
    champion = _version(reg.alias_version(project, reg.CHAMPION))
    expected = decision.challenger_version if decision.decision == "promoted" else decision.champion_version
    previous = _version(reg.alias_version(project, reg.PREVIOUS))
    replaced = decision.champion_version
    if champion != expected or (decision.decision == "promoted" and replaced is not None and previous != replaced):
        raise ArchlabError(f"{project}: after {decision.decision} the registry reads @champion={champion}, "
                           f"@previous={previous} (expected {expected}, {replaced}); another writer moved them "
                           "without the promotion lock")


def _promote(project: str, new_version, current) -> None:
    # `previous` moves first: if the job dies between the two calls, `champion` still names a working model.
    if current is not None:
        reg.set_alias(project, reg.PREVIOUS, current.version)
    reg.set_alias(project, reg.CHAMPION, new_version.version)
    challenger = reg.alias_version(project, reg.CHALLENGER)
    if challenger is not None and str(challenger.version) == str(new_version.version):
        reg.delete_alias(project, reg.CHALLENGER)


def rollback(project: str) -> tuple[str, str]:
    """Swap `champion` and `previous`; returns (new champion version, new previous version)."""
    champion, previous = reg.alias_version(project, reg.CHAMPION), reg.alias_version(project, reg.PREVIOUS)
    if previous is None:
        raise ArchlabError(f"{project}: no @previous version to roll back to")
    reg.set_alias(project, reg.CHAMPION, previous.version)
    if champion is not None:
        reg.set_alias(project, reg.PREVIOUS, champion.version)
    return str(previous.version), str(champion.version) if champion else ""


def force_promote(project: str, version: str, scorer, metric) -> float:
    """A person's override: make `version` champion after checking it loads and predicts; returns its score."""
    score = reg.score_version(project, version, scorer, metric)
    current = reg.alias_version(project, reg.CHAMPION)
    if current is not None and str(current.version) != str(version):
        reg.set_alias(project, reg.PREVIOUS, current.version)
    reg.set_alias(project, reg.CHAMPION, version)
    return score
