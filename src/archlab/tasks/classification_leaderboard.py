"""The classification leaderboard as people read it: Markdown for the terminal and git, HTML with the figures."""

from __future__ import annotations

import html

from archlab.evaluation.cross_validation import method_note as cv_note
from archlab.evaluation.cross_validation import verdict_cell
from archlab.evaluation.report import PAGE_STYLE, extra_sections, markdown_html, model_label, rank_key
from archlab.tasks.classification import CLASSIFICATION_METRICS

COLUMNS = ["rank", "architecture", "test accuracy [95% CI]", "macro-F1", "balanced acc.", "log-loss",
           "vs best (McNemar p)", "params", "size KB", "train s", "latency ms (b=1)", "throughput/s (b=256)"]


def _verdict(row: dict, best: str, alpha: float) -> str:
    if row["architecture"] == best:
        return "best"
    worse = "worse" if row["p_value_vs_best"] < alpha else "no sig. diff."
    return f"{worse} (p={row['p_value_vs_best']:.3f})"


def has_seeds(results: dict[str, dict]) -> bool:
    """Whether the models were trained once per seed (`train.seeds`): the leaderboard then shows the spread."""
    return any("seeds" in r for r in results.values())


def has_minority(results: dict[str, dict]) -> bool:
    """Whether the data was made imbalanced (`ingest.imbalance`): the leaderboard then shows the cut classes'
    mean recall."""
    return any("minority_recall" in r for r in results.values())


def has_cv(results: dict[str, dict]) -> bool:
    """Whether cv@ stages ran (`compare.folds`): the leaderboard then shows CV scores and verdicts first."""
    return any("cv_mean" in r for r in results.values())


def _cv_cells(row: dict) -> list[str]:
    mean = f"{row['cv_mean']:.4f} ± {row['cv_std']:.4f}" if "cv_mean" in row else "-"
    return [mean, verdict_cell(row)]


def columns(results: dict[str, dict]) -> list[str]:
    """The leaderboard's headers; with seeds, the test accuracy is the median-seed model's, the spread beside it;
    with cross-validation, its mean ± std and the verdict against the best CV mean come before the holdout."""
    seeds, minority = has_seeds(results), has_minority(results)
    cv = ["CV accuracy (mean ± std)", "CV verdict vs best (P worse / tied / better)"] if has_cv(results) else []
    out = COLUMNS[:2] + cv + (["median-seed test accuracy [95% CI]", "mean ± std over seeds"] if seeds
                              else COLUMNS[2:3])
    out += COLUMNS[3:5] + (["minority recall"] if minority else []) + [COLUMNS[5]]
    return out + ["vs best (paired p)" if seeds else COLUMNS[6]] + COLUMNS[7:]


def _score(row: dict, key: str) -> str:
    """A score cell; "-" for a model scored before the key existed (an older metrics/evaluate.json)."""
    return f"{row[key]:.4f}" if key in row else "-"


def _spread(row: dict) -> str:
    if "seeds" not in row:
        return "-"
    return f"{row['test_accuracy_mean']:.4f} ± {row['test_accuracy_std']:.4f} (n={len(row['seeds'])})"


def leaderboard_rows(results: dict[str, dict], alpha: float) -> list[list[str]]:
    """Table cells, best first by test accuracy (text to image's judges too, whose task ranks generators by another
    metric); each model's verdict against the best comes from the paired test."""
    ranked = sorted(results.values(), key=lambda r: rank_key(r, CLASSIFICATION_METRICS[0]))
    best = ranked[0]["architecture"]
    seeds, minority = has_seeds(results), has_minority(results)
    cv = has_cv(results)
    return [[str(i), model_label(r), *(_cv_cells(r) if cv else []),
             f"{r['accuracy']:.4f} [{r['accuracy_ci_low']:.3f}, {r['accuracy_ci_high']:.3f}]",
             *([_spread(r)] if seeds else []),
             f"{r['macro_f1']:.4f}", _score(r, "balanced_accuracy"),
             *([_score(r, "minority_recall")] if minority else []),
             f"{r['log_loss']:.4f}", _verdict(r, best, alpha), f"{r['param_count']:,}",
             f"{r['model_size_bytes'] / 1024:.0f}", f"{r['train_seconds']:.1f}", f"{r['latency_ms_batch1']:.2f}",
             f"{r['throughput_batch256']:,.0f}"]
            for i, r in enumerate(ranked, start=1)]


def method_note(results: dict[str, dict], alpha: float) -> str:
    """How the interval, the 'vs best' verdict and the CV columns were computed, for both report formats."""
    note, cv = _holdout_note(results, alpha), cv_note(results)
    return f"{note} {cv}" if cv else note


def _holdout_note(results: dict[str, dict], alpha: float) -> str:
    if not has_seeds(results):
        return (f"Interval: bootstrap; 'vs best': exact McNemar test on the paired predictions at alpha={alpha} "
                "('no sig. diff.' means the gap could be chance).")
    return ("Each architecture was trained once per seed; ranked by its median-seed model's test accuracy (the model "
            "registered), with the mean and sample standard deviation over seeds beside it. Interval: bootstrap, of "
            f"the median-seed model; 'vs best': Wilcoxon signed-rank test at alpha={alpha} on each test sample's "
            "share of seeds right, against the best's ('no sig. diff.' means the gap could be chance or the draw).")


def markdown(results: dict[str, dict], *, alpha: float, n_test: int, dataset: str, task,
             skipped: dict[str, str] | None = None, extra: list[str] | None = None, advice: str | None = None) -> str:
    """The classification leaderboard in Markdown; `task` (an `archlab.tasks.Task`) names the samples; `advice`:
    the test-size advisor's line for the top pair."""
    rows = leaderboard_rows(results, alpha)
    lines = [f"# Leaderboard: {dataset}, {n_test} {task.sample_noun}", "", f"Task: {task.name}.", "",
             f"Same held-out test split for every model. {method_note(results, alpha)}", "",
             *([advice, ""] if advice else []),
             "| " + " | ".join(columns(results)) + " |", "|" + "---|" * len(columns(results))]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += extra_sections(results, skipped or {}) + (extra or [])
    return "\n".join(lines) + "\n"


def html_report(results: dict[str, dict], *, alpha: float, n_test: int, dataset: str, figures: dict[str, str],
                task, skipped: dict[str, str] | None = None,
                extra: list[str] | None = None, claims_html: str = "",
                advice: str | None = None) -> str:
    """A self-contained page (figures referenced relative to the report); `claims_html`: the claims section."""
    rows = leaderboard_rows(results, alpha)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns(results))
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    sections = "\n".join(extra_sections(results, skipped or {}) + (extra or [])).strip()
    notes = markdown_html(sections) if sections else ""
    images = "".join(f"<figure><img src='{html.escape(src)}' alt='{html.escape(name)}'>"
                     f"<figcaption>{html.escape(name)}</figcaption></figure>" for name, src in figures.items())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>archlab leaderboard</title><style>"
            f"{PAGE_STYLE}</style></head><body>"
            f"<h1>Leaderboard: {html.escape(dataset)}, {n_test} {html.escape(task.sample_noun)} "
            f"({html.escape(task.name)})</h1>"
            f"<p>{html.escape(method_note(results, alpha))}</p>" + (f"<p>{html.escape(advice)}</p>" if advice else "")
            + f"<table><tr>{head}</tr>{body}</table>{notes}{claims_html}<h2>Figures</h2>{images}</body></html>")
