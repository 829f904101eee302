"""PNG figures people look at: image grids (reconstructions, misclassified samples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (stages run without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    _pyplot().close(fig)
    return path


def image_grid(rows: list[np.ndarray], row_titles: list[str], path: Path, title: str = "") -> Path:
    """Save a grid with one row per array of images (each (n, H, W, C), values 0..255 or 0..1)."""
    plt = _pyplot()
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
    return _save(fig, path)


def captioned_grid(images: np.ndarray, captions: list[str], path: Path, title: str, columns: int = 8) -> Path:
    """Save images in a grid, each with its own caption (e.g. "true 3 -> 8")."""
    plt = _pyplot()
    n = max(len(images), 1)
    rows = (n + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            img = np.asarray(images[i], dtype=np.float32) / 255.0
            ax.imshow(img.squeeze(-1) if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.set_title(captions[i], fontsize=7)
    fig.suptitle(title if len(images) else f"{title}: none", fontsize=9)
    return _save(fig, path)


def line_chart(series: dict[str, tuple[list[float], list[float]]], path: Path, *, xlabel: str, ylabel: str,
               title: str) -> Path:
    """One line per named series of (x, y)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (x, y) in series.items():
        ax.plot(x, y, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def scatter_chart(points: dict[str, tuple[float, float]], path: Path, *, xlabel: str, ylabel: str, title: str,
                  log_x: bool = True) -> Path:
    """Labelled points, e.g. accuracy against latency."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (x, y) in points.items():
        ax.scatter([x], [y])
        ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def confusion_chart(matrix: list[list[int]], class_names: list[str], path: Path, title: str) -> Path:
    """A confusion-matrix heat map with counts."""
    plt = _pyplot()
    data = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(data, cmap="Blues")
    ax.set(xticks=range(len(class_names)), yticks=range(len(class_names)), xlabel="predicted", ylabel="actual",
           title=title)
    ax.set_xticklabels(class_names, fontsize=7)
    ax.set_yticklabels(class_names, fontsize=7)
    for (r, c), value in np.ndenumerate(data):
        if value:
            ax.text(c, r, str(value), ha="center", va="center", fontsize=6,
                    color="white" if value > data.max() / 2 else "black")
    return _save(fig, path)


def class_scatter(points: np.ndarray, labels: np.ndarray, class_names: list[str], path: Path, *, title: str,
                  xlabel: str, ylabel: str) -> Path:
    """2-D points, one colour (and legend entry) per class."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    cmap = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    for k, name in enumerate(class_names):
        mine = labels == k
        if mine.any():
            ax.scatter(points[mine, 0], points[mine, 1], s=10, color=cmap(k % cmap.N), label=name, alpha=0.8)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=7, markerscale=1.5, loc="best", ncol=2)
    return _save(fig, path)
