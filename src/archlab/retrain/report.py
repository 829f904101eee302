"""The retrain job's record: `reports/retrain/<job id>.json` for scripts, `.md` for people, both logged to MLflow."""

from __future__ import annotations

import json
from pathlib import Path

from archlab.files import write_atomically

SCORE_KEYS = ("pixel_psi", "image_mean_psi", "label_psi")


def write(report: dict, folder: Path) -> list[Path]:
    """Write both files atomically (a reader never sees half a report); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in ((".json", json.dumps(report, indent=2) + "\n"), (".md", markdown(report))):
        path = folder / f"{report['job_id']}{suffix}"
        write_atomically(path, lambda fh, text=text: fh.write(text))
        paths.append(path)
    return paths


def metrics(report: dict) -> dict[str, float]:
    """The report's numbers as MLflow metrics (drift scores, data counts, the two re-scored models)."""
    out = {f"drift_{k}": v for k, v in report.get("drift", {}).get("scores", {}).items()}
    out.update({f"data_{k}": report["data"][k] for k in ("count_before", "count_after", "arrivals", "removed")
                if k in report.get("data", {})})
    decision = report.get("decision") or {}
    for key in ("challenger_score", "champion_score"):
        if decision.get(key) is not None:
            out[key] = decision[key]
    out["exit_code"] = report["exit_code"]
    return out


def _version(entry: dict | None) -> str:
    return f"v{entry['version']} {entry['architecture']}" if entry else "none"


def _drift_lines(drift: dict | None) -> list[str]:
    if not drift:
        return []
    lines = ["", f"## Drift: {drift['level']}", "", f"- Compared: {drift['compared']}",
             f"- Against: {drift['reference']}"]
    if drift.get("scores"):
        limits = drift.get("limits", {})
        lines.append("- PSI: " + ", ".join(f"{k.removesuffix('_psi')} {drift['scores'][k]:.4f}" for k in SCORE_KEYS)
                     + f" (warn above {limits.get('warn_psi')}, stop above {limits.get('max_psi')}, "
                       f"class mix {limits.get('max_label_psi')})")
        lines += ["", "| statistic | champion's training data | new data |", "|---|---:|---:|"]
        lines += [f"| {k} | {drift['reference_stats'][k]} | {drift['compared_stats'][k]} |"
                  for k in drift["reference_stats"]]
    lines += [""] + [f"- {reason}" for reason in drift.get("reasons", [])] if drift.get("reasons") else []
    return lines


def _decision_lines(report: dict) -> list[str]:
    decision = report.get("decision")
    lines = ["", "## Decision", "", f"**{report['status']}**: {report['summary']}", "",
             f"- Champion before: {_version(report.get('champion_before'))}",
             f"- Champion after: {_version(report.get('champion_after'))}"]
    if decision and decision.get("challenger_score") is not None:
        lines += ["", f"| model (today's test split, n={decision.get('n_test')}) | version | {decision['metric']} |",
                  "|---|---|---:|",
                  f"| challenger {decision['challenger_architecture']} | {decision['challenger_version']} | "
                  f"{decision['challenger_score']:.4f} |"]
        if decision.get("champion_version") is not None:
            score = decision.get("champion_score")
            lines.append(f"| champion {decision['champion_architecture']} | {decision['champion_version']} | "
                         f"{'failed to load' if score is None else f'{score:.4f}'} |")
    return lines


def _state_lines(report: dict) -> list[str]:
    """Where the job's state came from and went: DVC imports updated, the DVC push, the git write-back."""
    lines = [f"- Import {item['file']}: {'new data fetched' if item['changed'] else 'unchanged at the source'}"
             for item in report.get("imports") or []]
    push = report.get("dvc_push")
    if push is not None:
        lines.append(f"- DVC push (run cache included) to {push['remote']}: {push['summary']}" if push["pushed"]
                     else "- DVC push: no remote configured (archlab remote add PATH)")
    back = report.get("write_back")
    if back is not None:
        lines.append(f"- Write-back: commit {back['commit'][:12]} on {back['branch']} pushed to {back['remote']} "
                     f"({len(back['files'])} files)" if back.get("committed") else
                     f"- Write-back: {back.get('error') or back.get('reason')}")
    return lines


def markdown(report: dict) -> str:
    data = report.get("data") or {}
    lines = [f"# archlab retrain {report['job_id']}: {report['status']}", "",
             f"- Started {report['started']}, took {report['duration_s']:.1f} s, exit code {report['exit_code']}"
             f"{' (dry run)' if report.get('dry_run') else ''}"]
    if data:
        lines.append(f"- Data: {data['count_before']} -> {data['count_after']} samples ({data['arrivals']} new, "
                     f"{data['removed']} removed); dataset {data['dataset_hash_before'] or 'none'} -> "
                     f"{data['dataset_hash_after']}")
        if data.get("arrivals_by_class"):
            lines.append("- New per class: " + ", ".join(f"{k} {v}" for k, v in data["arrivals_by_class"].items()))
    if report.get("stages_run") is not None:
        verb = "Would run" if report.get("dry_run") else "Stages run"
        lines.append(f"- {verb}: {', '.join(report['stages_run']) or 'none (up to date)'}")
    lines += _state_lines(report)
    lines += _drift_lines(report.get("drift"))
    lines += _decision_lines(report)
    if report.get("leaderboard"):
        lines += ["", "## Leaderboard (today's test split)", "", "| architecture | accuracy | macro-F1 |",
                  "|---|---:|---:|"]
        lines += [f"| {row['architecture']} | {row['accuracy']:.4f} | {row['macro_f1']:.4f} |"
                  for row in report["leaderboard"]]
    if report.get("error"):
        lines += ["", "## Error", "", "```", report["error"], "```"]
    return "\n".join(lines) + "\n"
