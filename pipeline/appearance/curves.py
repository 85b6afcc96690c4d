"""Curves for painting from landmarks (pure numpy, any dimension): a smooth curve through points,
and the distance from points to a polyline."""
from __future__ import annotations

import numpy as np


def catmull_rom(points: np.ndarray, per_interval: int) -> np.ndarray:
    """points (K, D) -> ((K - 1) * per_interval + 1, D): a uniform Catmull-Rom curve through every
    point, per_interval points per interval, ending on the last point; its end tangents mirror the
    neighbours."""
    padded = np.concatenate([2 * points[:1] - points[1:2], points, 2 * points[-1:] - points[-2:-1]])
    t = np.arange(per_interval) / per_interval
    basis = 0.5 * np.stack([-t**3 + 2 * t**2 - t, 3 * t**3 - 5 * t**2 + 2, -3 * t**3 + 4 * t**2 + t, t**3 - t**2], 1)  # (T, 4)
    windows = np.stack([padded[i:i + 4] for i in range(len(points) - 1)])  # (K - 1, 4, D)
    curve = np.einsum("tj,ijd->itd", basis, windows).reshape(-1, points.shape[1])
    return np.concatenate([curve, points[-1:]])


def polyline_distance(points: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """points (N, D), line (K, D) -> distance (N,), position along the line t (N,) in [0, 1] by
    arc length, and the nearest point (N, D)."""
    seg_a, seg_b = line[:-1], line[1:]
    d = seg_b - seg_a
    lengths = np.linalg.norm(d, axis=1)
    starts = np.concatenate([[0.0], np.cumsum(lengths)])[:-1] / lengths.sum()
    s = np.clip(np.einsum("nkc,kc->nk", points[:, None] - seg_a[None], d) / (lengths**2)[None], 0.0, 1.0)
    nearest = seg_a[None] + s[..., None] * d[None]
    dist = np.linalg.norm(points[:, None] - nearest, axis=-1)
    k = dist.argmin(1)
    rows = np.arange(len(points))
    return dist[rows, k], starts[k] + s[rows, k] * lengths[k] / lengths.sum(), nearest[rows, k]
