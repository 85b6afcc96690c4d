"""Flow pictures: the Middlebury colour wheel (Baker et al. 2011), a legend, magnified differences."""
from __future__ import annotations

import numpy as np

# Hue steps between the wheel's six primaries (red, yellow, green, cyan, blue, magenta), chosen
# by Baker et al. for perceptual evenness.
WHEEL_STEPS = (("RY", 15), ("YG", 6), ("GC", 4), ("CB", 11), ("BM", 13), ("MR", 6))


def color_wheel() -> np.ndarray:
    """(55, 3) wheel colours in [0, 1]."""
    ry, yg, gc, cb, bm, mr = (n for _, n in WHEEL_STEPS)
    rows = []
    rows += [(1, t / ry, 0) for t in range(ry)]
    rows += [(1 - t / yg, 1, 0) for t in range(yg)]
    rows += [(0, 1, t / gc) for t in range(gc)]
    rows += [(0, 1 - t / cb, 1) for t in range(cb)]
    rows += [(t / bm, 0, 1) for t in range(bm)]
    rows += [(1, 0, 1 - t / mr) for t in range(mr)]
    return np.asarray(rows, np.float64)


def flow_to_rgb(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """(H, W, 2) flow -> (H, W, 3) uint8. Hue is direction on the Middlebury wheel (right red,
    down yellow, left cyan, up violet; the wheel is indexed by its own angle, atan2(-v, -u), not
    by the direction convention of facial.directions), saturation is magnitude over max_magnitude
    (default: the largest)."""
    u, v = flow[..., 0].astype(np.float64), flow[..., 1].astype(np.float64)
    magnitude = np.hypot(u, v)
    scale = max_magnitude if max_magnitude else max(magnitude.max(), 1e-9)
    wheel = color_wheel()
    n = len(wheel)
    angle = np.arctan2(-v, -u) / np.pi  # -1..1, as the Middlebury code orients the wheel
    k = (angle + 1) / 2 * (n - 1)
    k0 = np.floor(k).astype(int)
    k1 = (k0 + 1) % n
    f = (k - k0)[..., None]
    colour = (1 - f) * wheel[k0] + f * wheel[k1]
    r = np.clip(magnitude / scale, 0, 1)[..., None]
    colour = 1 - r * (1 - colour)
    return np.round(255 * colour).astype(np.uint8)


def wheel_legend(size: int = 128) -> np.ndarray:
    """(size, size, 3) uint8: the colour of every direction and magnitude."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    c = (size - 1) / 2
    flow = np.stack([(x - c) / c, (y - c) / c], -1)
    image = flow_to_rgb(flow, 1.0)
    image[np.hypot(flow[..., 0], flow[..., 1]) > 1] = 255
    return image


def magnified_difference(a: np.ndarray, b: np.ndarray, gain: float = 8.0) -> np.ndarray:
    """|b - a| * gain as uint8: makes micro-movements visible."""
    diff = np.abs(b.astype(np.float64) - a.astype(np.float64)) * gain
    return np.clip(diff, 0, 255).astype(np.uint8)
