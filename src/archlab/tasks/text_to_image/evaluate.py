"""Text-to-image, judged honestly: the best digit classifier of the run labels the images each generator draws for
the test captions; a generator's caption match is the share labelled as the caption's class. The caption-blind
control, trained the same way with every caption blanked, shows what a generator scores without reading the text
(about one class in n_classes). Generated pixels never touch training: the judge saw only real images.
"""

from __future__ import annotations

import time

import numpy as np

from archlab import modelio
from archlab.evaluation.scoring import bootstrap_interval


def judged_match(judge, images01: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image: does the judge label the generated image (pixels in [0, 1]) as the caption's class?"""
    return modelio.predict_proba(judge, np.asarray(images01, dtype=np.float32) * 255.0).argmax(axis=1) == labels


def score_generator(name: str, folder, tokens: np.ndarray, labels: np.ndarray, judge, image_shape, *, seed: int,
                    n_classes: int, params) -> tuple[dict, np.ndarray]:
    """Caption match of one generator on the test captions, with a bootstrap interval, and its images."""
    from archlab.architectures.zoo.cross_attention import generate

    info = modelio.read_info(folder)
    model = modelio.load(folder)
    blind = not info.get("reads_caption", True)
    started = time.perf_counter()
    images = generate(model, np.zeros_like(tokens) if blind else tokens, tuple(image_shape), seed)
    seconds = time.perf_counter() - started
    match = judged_match(judge, images, labels)
    low, high = bootstrap_interval(match, n_resamples=params.evaluate.bootstrap_resamples,
                                   confidence=params.evaluate.confidence, seed=seed)
    per_class = {str(k): float(match[labels == k].mean()) for k in range(n_classes) if (labels == k).any()}
    return {"architecture": name, "family": info["family"], "caption_match": float(match.mean()),
            "caption_match_ci_low": low, "caption_match_ci_high": high, "reads_caption": not blind,
            "caption_match_per_class": per_class, "param_count": info["param_count"],
            "train_seconds": info["train_seconds"], "model_size_bytes": modelio.model_file(folder).stat().st_size,
            "ms_per_image": 1000.0 * seconds / max(len(tokens), 1), "run_id": info["run_id"]}, images


def one_per_caption(captions: list[str], limit: int = 40) -> list[int]:
    """Index of the first sample of each distinct caption, in caption order (the grid's columns)."""
    first: dict[str, int] = {}
    for i, text in enumerate(captions):
        first.setdefault(text, i)
    return [first[text] for text in sorted(first, key=lambda t: (t.split()[-1], t))][:limit]


def markdown_section(results: dict, judge: str, judge_accuracy: float) -> list[str]:
    control = [r for r in results.values() if not r["reads_caption"]]
    lines = ["", "## Text-to-image: caption match (test captions)", "",
             f"Judge: `{judge}`, the best classifier of this run (test accuracy {judge_accuracy:.4f} on real images), "
             "labels each generated image; caption match = share labelled as the caption's class. "
             "`caption_blind` is the control: the same generator trained with every caption blanked.", "",
             "| generator | reads the caption | caption match [95% CI] | vs control | params | ms/image |",
             "|---|---|---|---|---:|---:|"]
    for r in sorted(results.values(), key=lambda r: -r["caption_match"]):
        versus = f"{r['caption_match'] - control[0]['caption_match']:+.4f}" if control and r["reads_caption"] else "-"
        lines.append(f"| {r['architecture']} | {'yes' if r['reads_caption'] else 'no'} | {r['caption_match']:.4f} "
                     f"[{r['caption_match_ci_low']:.3f}, {r['caption_match_ci_high']:.3f}] | {versus} | "
                     f"{r['param_count']:,} | {r['ms_per_image']:.2f} |")
    return lines
