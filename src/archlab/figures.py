"""PNG figures people look at: image grids (reconstructions, misclassified samples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def image_grid(rows: list[np.ndarray], row_titles: list[str], path: Path, title: str = "") -> Path:
    """Save a grid with one row per array of images (each (n, H, W, C), values 0..255 or 0..1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(1.2 * n_cols, 1.3 * len(rows)), squeeze=False)
    for r, (images, name) in enumerate(zip(rows, row_titles, strict=True)):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(images):
                img = np.asarray(images[c], dtype=np.float32)
                img = img / 255.0 if img.max() > 1.0 else img
                ax.imshow(img.squeeze(-1) if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
        axes[r][0].set_title(name, fontsize=8, loc="left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
