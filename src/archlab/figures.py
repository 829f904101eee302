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


def _save(fig, path: Path, *, tight: bool = True) -> Path:
    if tight:
        fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    _pyplot().close(fig)
    return path


def _unit_scale(image: np.ndarray, *, by_max: bool) -> np.ndarray:
    """One image as float (H, W, 3) in [0, 1]: 0..255 input divided by 255 (`by_max`: only when its max is above 1)."""
    img = np.asarray(image, dtype=np.float32)
    img = img / 255.0 if (not by_max or img.max() > 1.0) else img
    img = img if img.ndim == 3 else img[..., None]
    return np.clip(np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img[..., :3], 0.0, 1.0)


def _mosaic(cells: list[list[np.ndarray | None]], *, gap: float,
            caption_band: float) -> tuple[np.ndarray, int, int, int]:
    """Images laid out in one white array: row r, column c holds `cells[r][c]` (None: left blank).

    One `imshow` of the whole grid instead of one axes per image: with a subplot each, laying out and drawing
    ~30 axes made every misclassified-samples figure cost about a second, 11 of them per evaluate stage.

    Returns:
        (array (rows * cell_h, columns * cell_w, 3), cell_h, cell_w, band): each image sits in the middle of its
        cell's width, below a free band `band` pixels high (`caption_band` x the image height) for its caption.
    """
    shapes = [img.shape for row in cells for img in row if img is not None]
    height, width = (max(s[0] for s in shapes), max(s[1] for s in shapes)) if shapes else (8, 8)
    pad_w, top = max(1, round(gap * width)), max(1, round(caption_band * height))
    cell_h, cell_w = height + top + max(1, round(gap * height)), width + pad_w
    columns = max(len(row) for row in cells)
    canvas = np.ones((len(cells) * cell_h, columns * cell_w, 3), dtype=np.float32)
    for r, row in enumerate(cells):
        for c, img in enumerate(row):
            if img is not None:
                y, x = r * cell_h + top, c * cell_w + pad_w // 2
                canvas[y:y + img.shape[0], x:x + img.shape[1]] = img
    return canvas, cell_h, cell_w, top


def _mosaic_axes(plt, canvas: np.ndarray, cell_w: int, cell_inches: float, title: str, fontsize: int):
    """A figure showing `canvas` undistorted, each cell `cell_inches` wide, with `title` above it."""
    scale = cell_inches / cell_w  # inches per canvas pixel, the same both ways
    image_h, title_h = canvas.shape[0] * scale, 0.35 if title else 0.0
    fig = plt.figure(figsize=(canvas.shape[1] * scale, image_h + title_h))
    ax = fig.add_axes((0.0, 0.0, 1.0, image_h / (image_h + title_h)))
    ax.imshow(canvas, interpolation="nearest")
    ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=fontsize, y=1.0 - 0.1 / (image_h + title_h), va="top")
    return fig, ax


def image_grid(rows: list[np.ndarray], row_titles: list[str], path: Path, title: str = "") -> Path:
    """Save a grid with one row per array of images (each (n, H, W, C), values 0..255 or 0..1)."""
    plt = _pyplot()
    cells = [[_unit_scale(img, by_max=True) for img in images] for images in rows]
    canvas, cell_h, cell_w, band = _mosaic(cells, gap=0.1, caption_band=0.35)
    fig, ax = _mosaic_axes(plt, canvas, cell_w, 1.2, title, 10)
    for r, name in enumerate(row_titles):
        ax.text(0, r * cell_h + band / 2, name, fontsize=8, ha="left", va="center")
    return _save(fig, path, tight=False)


def captioned_grid(images: np.ndarray, captions: list[str], path: Path, title: str, columns: int = 8) -> Path:
    """Save images in a grid, each with its own caption (e.g. "true 3 -> 8")."""
    plt = _pyplot()
    n = max(len(images), 1)
    rows = (n + columns - 1) // columns
    scaled = [_unit_scale(img, by_max=False) for img in images]
    cells = [scaled[r * columns:(r + 1) * columns] or [None] * columns for r in range(rows)]
    canvas, cell_h, cell_w, band = _mosaic(cells, gap=0.1, caption_band=0.35)
    fig, ax = _mosaic_axes(plt, canvas, cell_w, 1.3, title if len(images) else f"{title}: none", 9)
    for i, caption in enumerate(captions[:len(images)]):
        ax.text((i % columns + 0.5) * cell_w, (i // columns) * cell_h + band / 2, caption, fontsize=7,
                ha="center", va="center")
    return _save(fig, path, tight=False)


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


def band_chart(series: dict[str, tuple[list[float], list[float], list[float], list[float]]], path: Path, *,
               xlabel: str, ylabel: str, title: str, log_x: bool = True) -> Path:
    """One line per named series of (x, y, low, high), the band between low and high shaded."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (x, y, low, high) in series.items():
        (line,) = ax.plot(x, y, marker="o", label=name)
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.15)
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def scatter_chart(points: dict[str, tuple[float, float]], path: Path, *, xlabel: str, ylabel: str, title: str,
                  log_x: bool = True) -> Path:
    """Labelled points, e.g. accuracy against latency (scatter_figure)."""
    fig, _, _ = scatter_figure(points, xlabel=xlabel, ylabel=ylabel, title=title, log_x=log_x)
    return _save(fig, path)


def scatter_figure(points: dict[str, tuple[float, float]], *, xlabel: str, ylabel: str, title: str,
                   log_x: bool = True):
    """The figure, its axes and its labels; labels are moved apart (adjustText) where points crowd, with a line
    back to their point."""
    from adjustText import adjust_text

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    labels = []
    for name, (x, y) in points.items():
        ax.scatter([x], [y])
        labels.append(ax.text(x, y, name, fontsize=7))
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    adjust_text(labels, ax=ax, arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5})
    return fig, ax, labels


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


def cd_chart(blocks, path: Path, *, title: str) -> Path:
    """A critical-difference diagram of `blocks` (a DataFrame: rows are blocks, columns the compared models,
    higher is better), drawn by scikit-posthocs with its Nemenyi test after Friedman's."""
    import scikit_posthocs as sp

    plt = _pyplot()
    ranks = blocks.rank(axis=1, ascending=False).mean()  # rank 1: the best score in a block
    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.25 * blocks.shape[1]))
    sp.critical_difference_diagram(ranks, sp.posthoc_nemenyi_friedman(blocks), ax=ax)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)
