"""Facial regions placed on iBUG-68 landmarks and rasterised to boolean masks, in numpy.

`COARSE_REGIONS` are the five areas `meflow dataset stats` reports (the convex hull of a landmark
group, grown by a margin). The 29 regions of MELLM's motion prompts will live beside them.
"""
from __future__ import annotations

import numpy as np

from .ibug68 import GROUPS

COARSE_REGIONS: dict[str, tuple[int, ...]] = {
    "brows": (*GROUPS["brow_image_left"], *GROUPS["brow_image_right"]),
    "eyes": (*GROUPS["eye_image_left"], *GROUPS["eye_image_right"]),
    "nose": (*GROUPS["nose_bridge"], *GROUPS["nostrils"]),
    "mouth": (*GROUPS["mouth_outer"], *GROUPS["mouth_inner"]),
    "jaw": tuple(GROUPS["jaw"]),
}
COARSE_MARGIN_PX = 3  # regions grow by this many pixels (a square neighbourhood)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """points (N, 2) -> (K, 2) hull vertices counter-clockwise in (x, y-down) pixel coordinates
    (Andrew's monotone chain); collinear points are dropped."""
    pts = np.unique(np.asarray(points, np.float64), axis=0)
    if len(pts) < 3:
        return pts

    def half(chain: np.ndarray) -> list:
        out: list = []
        for p in chain:
            while len(out) >= 2 and np.cross(out[-1] - out[-2], p - out[-2]) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def fill_convex(hull: np.ndarray, height: int, width: int) -> np.ndarray:
    """hull (K, 2) convex polygon, counter-clockwise -> (H, W) bool: the pixels whose centres
    (x = j, y = i) lie inside it or on it, plus the pixels its edges pass through (the 8-connected
    line of each edge, both pixels where it passes halfway between two), as OpenCV's
    fillConvexPoly marks them. A point or a segment (K < 3) marks just its line."""
    mask = np.zeros((height, width), bool)
    hull = np.asarray(hull, np.float64)
    if len(hull) == 0:
        return mask
    if len(hull) >= 3:
        j, i = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
        mask[:] = True
        for a, b in zip(hull, np.roll(hull, -1, axis=0)):
            mask &= (b[0] - a[0]) * (i - a[1]) - (b[1] - a[1]) * (j - a[0]) >= -1e-9
    for a, b in zip(hull, np.roll(hull, -1, axis=0)):
        steps = int(np.ceil(np.abs(b - a).max()))
        along = a + np.linspace(0.0, 1.0, steps + 1)[:, None] * (b - a)
        pixels = np.concatenate([np.floor(along + 0.5), np.ceil(along - 0.5)]).astype(np.int64)
        inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < width) & (pixels[:, 1] >= 0) & (pixels[:, 1] < height)
        mask[pixels[inside, 1], pixels[inside, 0]] = True
    return mask


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """(H, W) bool grown by `radius` pixels in a (2 r + 1)-square neighbourhood."""
    out = mask.copy()
    for axis in (0, 1):
        grown = out.copy()
        for shift in range(1, radius + 1):
            lead = [slice(None)] * 2
            trail = [slice(None)] * 2
            lead[axis], trail[axis] = slice(shift, None), slice(None, -shift)
            grown[tuple(lead)] |= out[tuple(trail)]
            grown[tuple(trail)] |= out[tuple(lead)]
        out = grown
    return out


def coarse_region_masks(landmarks: np.ndarray, height: int, width: int,
                        margin_px: int = COARSE_MARGIN_PX) -> dict[str, np.ndarray]:
    """landmarks (68, 2) pixels -> {region: (H, W) bool}: each COARSE_REGIONS group's convex hull
    (corners at the rounded landmark positions), grown by margin_px."""
    landmarks = np.round(np.asarray(landmarks, np.float64))
    return {name: dilate(fill_convex(convex_hull(landmarks[list(idx)]), height, width), margin_px)
            for name, idx in COARSE_REGIONS.items()}
