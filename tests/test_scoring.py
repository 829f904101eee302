"""Test-set statistics: metrics, bootstrap intervals, and McNemar so that a tiny 'win' is not called a win."""

import numpy as np

from archlab import tasks
from archlab.evaluation.scoring import bootstrap_interval, classification_metrics, mcnemar_p_value
from archlab.tasks import classification_leaderboard as report


def test_metrics_on_a_known_case():
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.eye(3)[[0, 1, 1, 1, 2, 0]]
    m = classification_metrics(y, proba, ["a", "b", "c"])
    assert m["accuracy"] == 4 / 6
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["b"] == {"precision": 2 / 3, "recall": 1.0, "support": 2}
    assert m["log_loss"] > 0


def test_bootstrap_interval_brackets_the_accuracy_and_narrows_with_more_data():
    rng = np.random.default_rng(0)
    small = rng.random(100) < 0.9
    large = rng.random(10_000) < 0.9
    lo_s, hi_s = bootstrap_interval(small, n_resamples=2000, confidence=0.95, seed=1)
    lo_l, hi_l = bootstrap_interval(large, n_resamples=2000, confidence=0.95, seed=1)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert (hi_l - lo_l) < (hi_s - lo_s) / 5


def test_mcnemar_separates_chance_from_a_real_gap():
    rng = np.random.default_rng(0)
    a = rng.random(360) < 0.95
    b = a.copy()
    b[np.flatnonzero(a)[0]] = False  # one more error in 360: a 0.3-point gap
    assert mcnemar_p_value(a, b) == 1.0
    assert mcnemar_p_value(a, a) == 1.0
    c = a.copy()
    c[np.flatnonzero(a)[:40]] = False
    assert mcnemar_p_value(a, c) < 1e-6


def _result(name, accuracy, p):
    return {"architecture": name, "accuracy": accuracy, "accuracy_ci_low": accuracy - 0.02,
            "accuracy_ci_high": accuracy + 0.01, "macro_f1": accuracy, "log_loss": 0.1, "p_value_vs_best": p,
            "param_count": 10, "model_size_bytes": 2048, "train_seconds": 1.0, "latency_ms_batch1": 0.5,
            "throughput_batch256": 1000.0}


def test_leaderboard_does_not_report_a_chance_gap_as_a_win():
    text = report.markdown({"a": _result("a", 0.950, 1.0), "b": _result("b", 0.947, 0.99),
                            "c": _result("c", 0.80, 0.0001)}, alpha=0.05, n_test=360, dataset="digits",
                           task=tasks.get("image_classification"))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "rank" not in line]
    lines = {line.split("|")[2].strip(): line for line in rows}
    assert "best" in lines["a"] and "no sig. diff." in lines["b"] and "worse" in lines["c"]
    html = report.html_report({"a": _result("a", 0.95, 1.0)}, alpha=0.05, n_test=360, dataset="d",
                              figures={"a: confusion": "figures/c.png"}, task=tasks.get("image_classification"))
    assert "<table>" in html and "figures/c.png" in html


def page_problems(page: str) -> list[str]:
    """What a reader would trip over on a report page: Markdown left raw (headings, table rules, a <pre> block)
    and figures whose caption is empty or lost its label (": training curves")."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.open, self.captions, self.text, self.pre = None, [], [], 0

        def handle_starttag(self, tag, attrs):
            self.open = tag
            self.pre += tag == "pre"
            if tag == "figcaption":
                self.captions.append("")

        def handle_endtag(self, tag):
            self.open = None

        def handle_data(self, data):
            if self.open == "figcaption":
                self.captions[-1] += data
            self.text.extend(line.strip() for line in data.splitlines())

    reader = Reader()
    reader.feed(page)
    problems = [f"raw markdown: {line!r}" for line in reader.text if line.startswith(("## ", "# ", "|---", "| ---"))]
    problems += ["a <pre> block"] * bool(reader.pre)
    problems += [f"caption {c!r}" for c in reader.captions if not c.strip() or c.strip().startswith(":")]
    return problems


def test_the_report_page_renders_markdown_sections_and_labels_every_figure():
    """The leaderboard's Markdown sections (the autoencoder's, with a table) become HTML; every figure, the run's
    own ones included, carries its label."""
    extra = ["", "## autoencoder: denoising and latent space", "", "| noise | accuracy |", "|---|---|",
             "| 0.2 | 0.91 |", "", "- a note"]
    page = report.html_report({"a": _result("a", 0.95, 1.0)}, alpha=0.05, n_test=360, dataset="d", extra=extra,
                              figures={"a: confusion": "figures/c.png", "training curves": "figures/t.png"},
                              task=tasks.get("image_classification"))
    assert page_problems(page) == []
    assert "<h2>autoencoder: denoising and latent space</h2>" in page and page.count("<table>") == 2
    assert "<figcaption>training curves</figcaption>" in page and "<li>a note</li>" in page
    broken = page.replace("<figcaption>training curves", "<figcaption>: training curves")
    assert page_problems(broken + "<pre>## x</pre>") == ["raw markdown: '## x'", "a <pre> block",
                                                         "caption ': training curves'"]


def test_accuracy_latency_labels_of_close_models_do_not_overlap():
    """shallow_mlp and cnn sat at nearly the same latency and accuracy, their names printed over each other."""
    from archlab.figures import scatter_figure

    points = {"shallow_mlp": (0.52, 0.975), "cnn": (0.53, 0.9752), "deep_mlp": (0.54, 0.9749), "baseline": (0.05, 0.90),
              "svc": (3.0, 0.99)}
    fig, _, labels = scatter_figure(points, xlabel="latency", ylabel="accuracy", title="t")
    renderer = fig.canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for label in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), [label.get_text() for label in labels]
    import matplotlib.pyplot as plt

    plt.close(fig)
