"""Turn files and arrays into the one image format every later stage reads: uint8, (N, H, W, C).

Decoding is defensive because image folders come from the wild: unreadable files raise `Unreadable` with a reason
the ingest stage lists in its rejected report, instead of stopping the run or vanishing silently.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from archlab.errors import DataError

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
# Refuse images whose declared size is absurd before decoding them: a 100-byte PNG can declare 10^10 pixels.
MAX_PIXELS = 64_000_000


class Unreadable(Exception):
    """One sample cannot be used; the message is the reason shown in reports/ingest_rejected.csv."""


def channels_for(color_mode: str) -> int:
    """1 channel for grayscale, 3 for rgb."""
    return 1 if color_mode == "grayscale" else 3


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Composite transparent images (RGBA, LA, palette with transparency) over black, like digits' background."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img


def decode_file(path: Path, size: tuple[int, int], color_mode: str) -> np.ndarray:
    """Read one image file into a (H, W, C) uint8 array of the requested size and colour mode.

    Args:
        path: the image file (PNG, JPEG, BMP or GIF; a GIF's first frame is used).
        size: (height, width) to resize to.
        color_mode: "grayscale" or "rgb".

    Returns:
        uint8 array of shape (height, width, channels).

    Raises:
        Unreadable: empty, truncated, corrupt, oversized or zero-sized files.
    """
    if path.stat().st_size == 0:
        raise Unreadable("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            with Image.open(path) as img:
                if img.width == 0 or img.height == 0:
                    raise Unreadable(f"zero-sized image ({img.width}x{img.height})")
                if img.width * img.height > MAX_PIXELS:
                    raise Unreadable(f"declared size {img.width}x{img.height} exceeds {MAX_PIXELS} pixels")
                img.seek(0)
                img.load()
                img = _flatten_alpha(img).convert("L" if color_mode == "grayscale" else "RGB")
                img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                array = np.asarray(img, dtype=np.uint8)
    except Unreadable:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Unreadable(f"decompression bomb refused: {exc}") from None
    except UnidentifiedImageError:
        raise Unreadable("not a recognised image format") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise Unreadable(f"corrupt or truncated image: {exc}") from None
    return array[..., None] if array.ndim == 2 else array


def to_uint8_range(images: np.ndarray, *, source: str) -> np.ndarray:
    """Scale an array's pixels to 0..255: floats in [0, 1] are multiplied by 255, others must already fit."""
    if images.dtype == np.uint8:
        return images
    finite = images[np.isfinite(images)] if np.issubdtype(images.dtype, np.floating) else images
    if finite.size and (finite.min() < 0 or finite.max() > 255):
        raise DataError(f"{source}: pixel values must lie in [0, 1] or [0, 255], got [{finite.min()}, {finite.max()}]")
    if np.issubdtype(images.dtype, np.floating) and finite.size and finite.max() <= 1.0:
        images = images * 255.0
    return np.rint(images).astype(np.uint8)


def normalise_batch(images: np.ndarray, size: tuple[int, int] | None, color_mode: str) -> np.ndarray:
    """Bring a uint8 (N, H, W[, C]) batch to (N, size..., channels of color_mode)."""
    if images.ndim == 3:
        images = images[..., None]
    want = channels_for(color_mode)
    have = images.shape[-1]
    if have == 1 and want == 3:
        images = np.repeat(images, 3, axis=-1)
    elif have == 3 and want == 1:
        # ITU-R 601 luma, the same weights PIL uses for convert("L").
        luma = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        images = np.rint(luma)[..., None].astype(np.uint8)
    elif have not in (1, 3):
        raise DataError(f"images must have 1 or 3 channels, got {have} (shape {images.shape})")
    if size is None or tuple(images.shape[1:3]) == tuple(size):
        return images
    mode = "L" if images.shape[-1] == 1 else "RGB"
    resized = [
        np.asarray(Image.fromarray(img.squeeze(-1) if mode == "L" else img, mode=mode).resize(
            (size[1], size[0]), Image.Resampling.BILINEAR))
        for img in images
    ]
    out = np.stack(resized).astype(np.uint8)
    return out[..., None] if out.ndim == 3 else out
