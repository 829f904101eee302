"""What `make run` prints at the end: a short account of what the pipeline produced, read from its outputs."""

from __future__ import annotations

import json
from pathlib import Path


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def summary_lines(root: str | Path = ".") -> list[str]:
    """Plain-text lines describing the ingested data and validation result found under `root`."""
    root = Path(root)
    lines: list[str] = []
    meta = _read_json(root / "data/ingested/meta.json")
    if meta is None:
        return ["No ingested dataset yet: run `dvc repro` (or `make run`)."]
    splits = ", ".join(f"{k} {v}" for k, v in meta["split_counts"].items())
    from archlab import tasks

    lines.append(f"Dataset: {tasks.get(meta.get('task')).describe(meta)}; splits: {splits}; rejected: "
                 f"{meta['rejected']} (data/ingested, reports/ingest_rejected.csv)")
    validation = _read_json(root / "reports/validation.json")
    if validation is not None:
        verdict = "passed" if validation["success"] else "FAILED"
        lines.append(f"Validation {verdict}: {validation['passed']}/{validation['evaluated']} expectations met "
                     f"(reports/validation.json, Data Docs: reports/data_docs/index.html)")
    if (root / "metrics/evaluate.json").is_file():
        from archlab.leaderboard_view import from_metrics_file, render

        lines += ["", "Leaderboard (test split; reports/leaderboard.md, reports/evaluation.html):",
                  render(from_metrics_file(root / "metrics/evaluate.json", meta.get("task")), meta.get("task"))]
    claims = root / "reports/claims.md"
    if claims.is_file():  # one line per claim: its verdict, then the claim (the evidence stays in the file)
        rows = [line.split(" | ") for line in claims.read_text().splitlines() if line.startswith("| ") and "**" in line]
        lines += ["", "The course's claims on this data (reports/claims.md):"]
        lines += [f"  {row[1].strip('* ')}: {row[0].removeprefix('| ')}" for row in rows]
    decision = _read_json(root / "reports/register.json")
    if decision is not None:
        challenger = f"{decision['challenger_architecture']} v{decision['challenger_version']}"
        lines += ["", f"Registry: {decision['registered_model']}@champion {decision['decision']} ({challenger}): "
                      f"{decision['reason']}"]
    return lines
