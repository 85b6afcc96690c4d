"""Backgrounds, composited behind the transparent Cycles render in numpy (linear RGB in [0, 1]).

Compositing after rendering keeps the Blender scene fixed (no image data-block churn) and makes
the background static by construction, so its flow is exactly zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
NOISE_OCTAVES = 4


class BackgroundError(ValueError):
    """A background image cannot be used; the message names the file."""


@dataclass(frozen=True)
class BackgroundSpec:
    """kind: gradient | noise | checker | images; colours (2, 3) linear RGB; angle (radians);
    scale (cells or features across the image); seed for noise; image path for 'images'."""

    kind: str
    colors: tuple[tuple[float, float, float], tuple[float, float, float]]
    angle: float
    scale: float
    seed: int
    image: str = ""


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(np.asarray(c, np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def _blend(t: np.ndarray, spec: BackgroundSpec) -> np.ndarray:
    a, b = np.asarray(spec.colors[0]), np.asarray(spec.colors[1])
    return a + np.clip(t, 0, 1)[..., None] * (b - a)


def _value_noise(h: int, w: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    import cv2

    out = np.zeros((h, w))
    for octave in range(NOISE_OCTAVES):
        cells = max(2, int(scale * 2**octave))
        grid = rng.random((cells, cells))
        out += cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC) / 2**octave
    out -= out.min()
    return out / max(out.max(), 1e-9)


def _load_image(path: str, h: int, w: int) -> np.ndarray:
    import cv2

    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise BackgroundError(f"background image {path} cannot be read: remove it or replace it with a PNG/JPEG")
    ih, iw = image.shape[:2]
    s = max(h / ih, w / iw)  # cover, then centre-crop
    image = cv2.resize(image, (max(w, round(iw * s)), max(h, round(ih * s))), interpolation=cv2.INTER_AREA)
    y0, x0 = (image.shape[0] - h) // 2, (image.shape[1] - w) // 2
    rgb = image[y0:y0 + h, x0:x0 + w, ::-1].astype(np.float64) / 255.0
    return srgb_to_linear(rgb)


def make_background(spec: BackgroundSpec, height: int, width: int) -> np.ndarray:
    """(H, W, 3) float32 linear RGB."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    u = np.cos(spec.angle) * x + np.sin(spec.angle) * y
    if spec.kind == "gradient":
        image = _blend((u - u.min()) / max(np.ptp(u), 1e-9), spec)
    elif spec.kind == "noise":
        image = _blend(_value_noise(height, width, spec.scale, np.random.default_rng(spec.seed)), spec)
    elif spec.kind == "checker":
        v = -np.sin(spec.angle) * x + np.cos(spec.angle) * y
        image = _blend(((np.floor(u * spec.scale) + np.floor(v * spec.scale)) % 2).astype(float), spec)
    elif spec.kind == "images":
        image = _load_image(spec.image, height, width)
    else:
        raise BackgroundError(f"unknown background kind {spec.kind!r}")
    return image.astype(np.float32)


def list_images(folder: str) -> list[str]:
    """Sorted image files of a background folder (sorted: the choice by index is reproducible)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise BackgroundError(f"background folder {root} does not exist: fix [render.background] image_folder")
    files = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise BackgroundError(f"background folder {root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def composite(premultiplied_rgba: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Alpha-over: (H, W, 4) premultiplied linear render over (H, W, 3) -> (H, W, 3)."""
    alpha = premultiplied_rgba[..., 3:4]
    return premultiplied_rgba[..., :3] + (1.0 - alpha) * background


def to_uint8_srgb(linear_rgb: np.ndarray) -> np.ndarray:
    return np.round(linear_to_srgb(linear_rgb) * 255.0).astype(np.uint8)
