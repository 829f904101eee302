"""Section 3: ingest, validate and featurize at growing sizes: wall time and peak memory per stage.

The data is real-derived: digits upscaled to 24x24 and placed at a random offset in a 28x28 frame (MNIST's
layout), as many as asked for, with the digit labels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bench.measure import measure_with_memory, median

STAGES = ("ingest", "validate", "featurize")


def shifted_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` 28x28 uint8 digits: every source digit resized to 24x24, shifted by up to 4 pixels each way."""
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    big = np.stack([np.asarray(Image.fromarray(np.rint(img * 255 / 16).astype(np.uint8)).resize((24, 24),
                                                                                                  Image.BILINEAR))
                    for img in bunch.images])
    rng = np.random.default_rng(seed)
    pick = np.arange(n) % len(big)
    shifts = rng.integers(0, 5, size=(n, 2))
    out = np.zeros((n, 28, 28), dtype=np.uint8)
    for i, (src, (dy, dx)) in enumerate(zip(pick, shifts, strict=True)):
        out[i, dy:dy + 24, dx:dx + 24] = big[src]
    return out, bunch.target[pick]


def commands(size: int) -> dict[str, list[str]]:
    out = f"bench-out/scale-{size}"
    params = f"bench-out/params-{size}.yaml"
    return {
        "ingest": [sys.executable, "stages/ingest.py", "--params", params, "--out", f"{out}/ingested",
                   "--rejected", f"{out}/rejected.csv"],
        "validate": [sys.executable, "stages/validate.py", "--params", params, "--data", f"{out}/ingested",
                     "--report", f"{out}/validation.json", "--docs", f"{out}/data_docs"],
        "featurize": [sys.executable, "stages/featurize.py", "--params", params, "--data", f"{out}/ingested",
                      "--out", f"{out}/features"],  # the params' featurize.backbones: [vgg16]
    }


def prepare(ws: Path, size: int, params_text: str) -> None:
    x, y = shifted_digits(size)
    (ws / "bench-out").mkdir(exist_ok=True)
    np.savez(ws / f"bench-out/digits-{size}.npz", x=x, y=y)
    (ws / f"bench-out/params-{size}.yaml").write_text(params_text.replace("@NPZ@", f"bench-out/digits-{size}.npz"))


def scaling(ws: Path, sizes: list[int], params_text: str, repeats: dict[int, int]) -> dict:
    """Alternate over sizes within each repeat; a size runs `repeats[size]` times (the largest may run fewer)."""
    for size in sizes:
        prepare(ws, size, params_text)
    samples: dict[int, dict[str, list]] = {size: {s: [] for s in STAGES} for size in sizes}
    for round_ in range(max(repeats.values())):
        for size in sizes:
            if round_ >= repeats[size]:
                continue
            for stage, cmd in commands(size).items():
                sample = measure_with_memory(cmd, ws)
                samples[size][stage].append((sample.wall_s, sample.peak_rss_mb))
    rows = []
    for size in sizes:
        for stage in STAGES:
            walls = [w for w, _ in samples[size][stage]]
            rows.append({"images": size, "stage": stage, "wall_s": round(median(walls), 2),
                         "peak_rss_mb": round(max(m for _, m in samples[size][stage]), 1),
                         "ms_per_image": round(1000 * median(walls) / size, 3), "repeats": len(walls),
                         "samples": [round(w, 2) for w in walls]})
    return {"rows": rows, "growth": growth(rows, sizes)}


def growth(rows: list[dict], sizes: list[int]) -> dict[str, float]:
    """Per stage: the exponent b of time ~ size^b between the two largest sizes (fixed start-up costs dilute at
    the small end, so the small end would flatter the figure). b <= 1: time grows at most linearly."""
    import math

    out = {}
    for stage in STAGES:
        by_size = {r["images"]: r["wall_s"] for r in rows if r["stage"] == stage}
        small, large = sizes[-2], sizes[-1]
        out[stage] = round(math.log(by_size[large] / by_size[small]) / math.log(large / small), 3)
    return out
