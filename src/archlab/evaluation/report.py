"""What every task's evaluation shares: the ranking rule, the sections under a leaderboard, writing a report.

Each task writes its own leaderboard (the classification one: `archlab.tasks.classification_leaderboard`)."""

from __future__ import annotations

from pathlib import Path


def rank_key(result: dict, metric) -> tuple[float, float]:
    """The one ranking rule (leaderboard order, evaluate's best, register's challenger): the better `metric` (an
    `archlab.tasks.Metric`, which knows its direction), then the lower latency at batch size 1. Sort ascending by
    it, or take the `min`."""
    return metric.sort_key(result[metric.name]), result.get("latency_ms_batch1", 0.0)


def model_label(result: dict) -> str:
    """A leaderboard's name cell: the architecture, marked when it is a reference (`Architecture.reference`)."""
    return result["architecture"] + (" (reference)" if result.get("reference") else "")


def extra_sections(results: dict[str, dict], skipped: dict[str, str]) -> list[str]:
    """Markdown after the table: what "(reference)" means, imputation quality (tabular task), and the
    architectures that did not train."""
    lines = []
    if any(r.get("reference") for r in results.values()):
        lines += ["", "(reference): a model practitioners try first on data like this (SVC, k-NN, random forest, "
                      "gradient boosting), trained and scored like the networks: the bar a network has to clear."]
    imputing = {name: r["imputation"] for name, r in results.items() if "imputation" in r}
    if imputing:
        lines += ["", "## Imputation of the masked cells (test split)", "",
                  "RMSE in standardised units (per-feature train standard deviations) against the values masked "
                  "at ingest.", "", "| model | cells | model's fills | train-mean fills |", "|---|---:|---:|---:|"]
        lines += [f"| {name} | {s['imputed_cells']} | {s['imputation_rmse']:.4f} | {s['mean_imputation_rmse']:.4f} |"
                  for name, s in imputing.items()]
    for name, d in ((n, r["denoising"]) for n, r in results.items() if "denoising" in r):
        lines += ["", f"## {name}: denoising and latent space (test split)", "",
                  f"- Gaussian noise std {d['noise_std']:.2f} on [0, 1] pixels: PSNR {d['psnr_noisy_db']:.2f} dB "
                  f"noisy, {d['psnr_denoised_db']:.2f} dB after the autoencoder "
                  f"({d['psnr_denoised_db'] - d['psnr_noisy_db']:+.2f} dB); figure denoising.png",
                  f"- latent codes projected to 2-D by PCA keep {100 * d['latent_pca_variance_kept']:.0f}% of their "
                  f"variance; figure autoencoder_latent.png, coloured by class"]
    if skipped:
        lines += ["", "## Skipped (not built for this task, or too much data for it)", ""]
        lines += [f"- {name}: {reason}" for name, reason in skipped.items()]
    return lines


PAGE_STYLE = ("body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
              "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}figure{display:inline-block;margin:1em}"
              "figcaption{text-align:center}")


def markdown_html(text: str) -> str:
    """Markdown (a leaderboard's sections: headings, lists, tables) as HTML for the report page, raw HTML in the
    text escaped (architecture names and notes come from params)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
