"""Backgrounds, composited behind the transparent Cycles render in numpy (linear RGB in [0, 1]).

Compositing after rendering keeps the Blender scene fixed (no image data-block churn) and makes
the background static by construction, so its flow is exactly zero.

Two kinds imitate where portraits are taken, without any image files: `studio`, a painted canvas
backdrop lit by a spot behind the sitter (muted colour, mottled paint, darker corners), and
`bokeh`, a room out of focus (a soft gradient with blurred highlights). Their colours are muted:
saturated random colours are what first gives a synthetic picture away.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
NOISE_OCTAVES = 4
PHOTO_KINDS = ("studio", "bokeh")  # kinds whose colours are drawn muted (see muted_colour)
MUTED_SATURATION = (0.04, 0.35)  # HSV saturation of a backdrop colour (sRGB)
MUTED_VALUE = (0.12, 0.80)  # HSV value of a backdrop colour (sRGB)
SPOT_SIGMA = 0.42  # studio: the backdrop spot's radius (Gaussian sigma, image units)
SPOT_GAIN = (0.45, 0.75)  # studio: brightness at the corners, and the spot's extra at its centre
MOTTLE = 0.14  # studio: relative amplitude of the paint mottling
BOKEH_SHAPES = (3, 6)  # bokeh: out-of-focus walls, windows and furniture (rectangles) per image
BOKEH_SHAPE_SIZE = (0.15, 0.6)  # bokeh: their sides, image units
BOKEH_SHAPE_BLUR = 0.05  # bokeh: their defocus (Gaussian sigma), image units
BOKEH_BLOBS = (2, 8)  # bokeh: out-of-focus highlights (discs) per image
BOKEH_RADIUS = (0.02, 0.07)  # bokeh: highlight radius, image units
BOKEH_GAIN = (0.25, 0.9)  # bokeh: highlight brightness added, relative to the brighter colour
BOKEH_BLUR = 0.008  # bokeh: Gaussian blur of the highlights' edges, image units


class BackgroundError(ValueError):
    """A background image cannot be used; the message names the file."""


@dataclass(frozen=True)
class BackgroundSpec:
    """kind: gradient | noise | checker | studio | bokeh | images; colours (2, 3) linear RGB; angle (radians);
    scale (cells or features across the image); seed for noise and highlights; image path for 'images'."""

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


def muted_colour(draw: np.ndarray) -> np.ndarray:
    """draw (3,) uniform in [0, 1) -> (3,) linear RGB of a muted colour: hue, then saturation and
    value within MUTED_SATURATION and MUTED_VALUE."""
    import colorsys

    hue, sat, val = draw
    rgb = colorsys.hsv_to_rgb(hue, MUTED_SATURATION[0] + sat * np.ptp(MUTED_SATURATION),
                              MUTED_VALUE[0] + val * np.ptp(MUTED_VALUE))
    return srgb_to_linear(np.array(rgb))


def _studio(spec: BackgroundSpec, height: int, width: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A painted backdrop: the first colour, lit by a spot off the image centre (towards `angle`),
    mottled at `scale` and tinted towards the second colour in the mottle's light patches."""
    cx, cy = 0.5 + 0.2 * np.cos(spec.angle), 0.45 + 0.15 * np.sin(spec.angle)
    spot = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * SPOT_SIGMA**2))
    light = SPOT_GAIN[0] + SPOT_GAIN[1] * spot
    mottle = _value_noise(height, width, spec.scale, np.random.default_rng(spec.seed))
    base = np.asarray(spec.colors[0]) * (1.0 + MOTTLE * (mottle - 0.5))[..., None]
    tint = 0.15 * mottle[..., None] * (np.asarray(spec.colors[1]) - np.asarray(spec.colors[0]))
    return np.clip((base + tint) * light[..., None], 0.0, 1.0)


def _bokeh(spec: BackgroundSpec, height: int, width: int, u: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A room out of focus: a soft gradient between the two colours, blurred rectangles of other
    shades (walls, windows, furniture), then a few blurred disc highlights."""
    import cv2

    rng = np.random.default_rng(spec.seed)
    side = max(height, width)
    image = _blend((u - u.min()) / max(np.ptp(u), 1e-9), spec)
    shapes = np.zeros((height, width, 3))
    cover = np.zeros((height, width, 1))
    for _ in range(int(rng.integers(BOKEH_SHAPES[0], BOKEH_SHAPES[1] + 1))):
        w, h = rng.uniform(*BOKEH_SHAPE_SIZE, 2)
        x0, y0 = rng.uniform(-0.2, 1.0, 2)
        inside = ((x >= x0) & (x < x0 + w) & (y >= y0) & (y < y0 + h))[..., None]
        shade = _blend(np.array(rng.random()), spec) * rng.uniform(0.5, 1.5)
        shapes = np.where(inside, shade, shapes)
        cover = np.maximum(cover, inside)
    sigma = BOKEH_SHAPE_BLUR * side
    shapes, cover = cv2.GaussianBlur(shapes, (0, 0), sigma), cv2.GaussianBlur(cover, (0, 0), sigma)[..., None]
    image = image * (1.0 - cover) + shapes
    bright = np.maximum(np.asarray(spec.colors[0]), np.asarray(spec.colors[1]))
    glow = np.zeros((height, width, 3))
    for _ in range(int(rng.integers(BOKEH_BLOBS[0], BOKEH_BLOBS[1] + 1))):
        cx, cy, radius = rng.random(), rng.random(), rng.uniform(*BOKEH_RADIUS)
        disc = ((x - cx) ** 2 + (y - cy) ** 2 < radius**2).astype(np.float64)
        glow = np.maximum(glow, disc[..., None] * rng.uniform(*BOKEH_GAIN) * bright)
    return np.clip(image + cv2.GaussianBlur(glow, (0, 0), BOKEH_BLUR * side), 0.0, 1.0)


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
    elif spec.kind == "studio":
        image = _studio(spec, height, width, x, y)
    elif spec.kind == "bokeh":
        image = _bokeh(spec, height, width, u, x, y)
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
