"""The mouth, painted from the lip landmarks in the face frame (see .layout; x to the subject's left,
y up, 1 unit = brow to chin).

Lips are read as much by their shading as by their colour: a dark line where they meet, the shadow
under the lower lip's roll, darker corners, and an upper lip that faces down, away from most light.
A stand-in or FLAME mouth has the shape but, at 512 px, too little relief for Cycles to make those
cues alone, so they are painted, like a cavity map. The vermilion border is a smooth curve (see
lip_contour): the outer-lip landmarks' 12-point polygon puts corners into the lower lip.
"""
from __future__ import annotations

import numpy as np

from flame_assets.standin.spec import smoothstep

from .curves import catmull_rom, polyline_distance

OUTER_LIPS = tuple(range(48, 60))  # iBUG-68: corner 48, upper lip 49-53, corner 54, lower lip 55-59
MOUTH_LINE = ((48,), (61, 67), (62, 66), (63, 65), (54,))  # where the lips meet: the mean of facing inner points
CURVE_SUBDIVISIONS = 8  # curve points per landmark interval
LIP_EDGE = 0.012  # soft vermilion border, half-width
LIP_REACH = 0.12  # texels further than this behind the front-most lip landmark are not lips
MOUTH_LINE_WIDTH, MOUTH_LINE_DARKNESS = 0.005, 0.6  # Gaussian sigma; albedo taken off on the line
UPPER_LIP_SHADE = 0.12  # albedo taken off the upper lip
LOWER_LIP_SHADOW = (0.03, 0.016, 0.18)  # below the lower lip's border: offset, sigma, darkness
LOWER_LIP_SHADOW_FADE = (0.02, 0.04)  # it fades out between this far past the corners and this far inside them
CORNER_RADIUS, CORNER_DARKNESS = 0.016, 0.35  # the commissures
PHILTRUM_HALF_WIDTH, PHILTRUM_RIDGE_WIDTH, PHILTRUM_RELIEF = 0.022, 0.008, 0.5  # ridges from nose to the bow


def _inside_and_distance(xy: np.ndarray, polygon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """xy (N, 2), closed polygon (M, 2) -> inside (N,) bool (even-odd rule), distance to its edges (N,)."""
    x, y = xy[:, 0], xy[:, 1]
    inside = np.zeros(len(xy), bool)
    dist = np.full(len(xy), np.inf)
    for a, b in zip(polygon, np.roll(polygon, -1, 0)):
        inside ^= ((a[1] > y) != (b[1] > y)) & (x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1] + 1e-12) + a[0])
        d = b - a
        s = np.clip(((x - a[0]) * d[0] + (y - a[1]) * d[1]) / (d @ d + 1e-12), 0, 1)
        dist = np.minimum(dist, np.hypot(x - a[0] - s * d[0], y - a[1] - s * d[1]))
    return inside, dist


def _near_mouth(points: np.ndarray, lm: np.ndarray, margin: float) -> np.ndarray:
    """Indices of the points within `margin` of the outer lips' box, seen from the front, and not
    far behind them (the back of the head projects onto the mouth too)."""
    lips = lm[list(OUTER_LIPS)]
    box = np.all((points[:, :2] > lips[:, :2].min(0) - margin) & (points[:, :2] < lips[:, :2].max(0) + margin), axis=1)
    return np.flatnonzero(box & (points[:, 2] > lips[:, 2].min() - LIP_REACH))


def lip_contour(lm: np.ndarray) -> np.ndarray:
    """landmarks (68, 3) -> (11 * CURVE_SUBDIVISIONS + 1, 2) the vermilion border seen from the front,
    corner 48 over the upper lip to corner 54 and back under the lower lip. The upper lip is a curve
    through its landmarks (the cupid's bow is real); the lower lip is a smooth U through the corners,
    fitted to its landmarks, since its middle landmark sits down on the lip's roll and a curve through
    it comes to a point."""
    upper = catmull_rom(lm[48:55, :2], CURVE_SUBDIVISIONS)
    (x0, y0), (x1, y1) = lm[54, :2], lm[48, :2]
    lower = lm[55:60, :2]

    def bulge(x: np.ndarray) -> np.ndarray:  # (n,) -> (n, 2): zero at both corners, even about their middle
        m = 0.5 * (x0 + x1)
        return ((x - x0) * (x - x1))[:, None] * np.stack([np.ones_like(x), (x - m) ** 2], 1)

    chord = lambda x: y0 + (y1 - y0) * (x - x0) / (x1 - x0)  # noqa: E731
    coefficients = np.linalg.lstsq(bulge(lower[:, 0]), lower[:, 1] - chord(lower[:, 0]), rcond=None)[0]
    x = np.linspace(x0, x1, 5 * CURVE_SUBDIVISIONS + 2)[1:-1]
    return np.concatenate([upper, np.stack([x, chord(x) + bulge(x) @ coefficients], 1)])


def mouth_line(lm: np.ndarray) -> np.ndarray:
    """landmarks (68, 3) -> (M, 2) the line where the lips meet, corner to corner, from the front."""
    return catmull_rom(np.stack([lm[list(ids), :2].mean(0) for ids in MOUTH_LINE]), CURVE_SUBDIVISIONS)


def lip_mask(points: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """points (N, 3), landmarks (68, 3) -> (N,) 0..1 inside the vermilion border, soft across it."""
    near = _near_mouth(points, lm, LIP_EDGE)
    inside, dist = _inside_and_distance(points[near, :2], lip_contour(lm))
    out = np.zeros(len(points))
    out[near] = smoothstep(-LIP_EDGE, LIP_EDGE, np.where(inside, dist, -dist))
    return out


def mouth_shading(points: np.ndarray, lm: np.ndarray, lips: np.ndarray, texel_size: float) -> np.ndarray:
    """points (N, 3), landmarks (68, 3), lips (N,) from lip_mask, texel_size (the line is never
    thinner than a texel) -> (N,) albedo factor in (0, 1]: the line where the lips meet, a darker
    upper lip, the corners, and the shadow under the lower lip."""
    shade = np.ones(len(points))
    line_width = max(MOUTH_LINE_WIDTH, texel_size)
    offset, width, darkness = LOWER_LIP_SHADOW
    near = _near_mouth(points, lm, offset + 3 * width)
    xy = points[near, :2]
    dist, _, nearest = polyline_distance(xy, mouth_line(lm))
    above = xy[:, 1] - nearest[:, 1]
    line = np.exp(-0.5 * (dist / line_width) ** 2)
    upper = lips[near] * smoothstep(-line_width, line_width, above)
    corners = sum(np.exp(-0.5 * np.sum(((xy - lm[i, :2]) / CORNER_RADIUS) ** 2, 1)) for i in (48, 54))
    contour = lip_contour(lm)
    lower_border = np.concatenate([contour[6 * CURVE_SUBDIVISIONS:], contour[:1]])  # corner 54 -> lower lip -> corner 48
    below_dist, _, nearest = polyline_distance(xy, lower_border)
    below = xy[:, 1] - nearest[:, 1]
    under = np.exp(-0.5 * ((below_dist - offset) / width) ** 2) * (below < 0) * (1.0 - lips[near])
    beyond, within = LOWER_LIP_SHADOW_FADE
    span = smoothstep(lm[54, 0] + beyond, lm[54, 0] - within, xy[:, 0]) * smoothstep(lm[48, 0] - beyond, lm[48, 0] + within, xy[:, 0])
    shade[near] = ((1.0 - MOUTH_LINE_DARKNESS * line) * (1.0 - UPPER_LIP_SHADE * upper)
                   * (1.0 - CORNER_DARKNESS * np.clip(corners, 0, 1)) * (1.0 - darkness * under * span))
    return shade


def philtrum(points: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """points (N, 3), landmarks (68, 3) -> (N,) height: two ridges from the nose base (33) down to
    the peaks of the cupid's bow (50, 52), and the groove between them."""
    height = np.zeros(len(points))
    top, bottom = lm[33, 1], lm[[50, 52], 1].mean()
    near = np.flatnonzero((points[:, 1] < top) & (points[:, 1] > bottom) & (np.abs(points[:, 0]) < 3 * PHILTRUM_HALF_WIDTH)
                          & (points[:, 2] > lm[33, 2] - LIP_REACH))
    x, y = points[near, 0], points[near, 1]
    t = (top - y) / (top - bottom)  # 0 at the nose, 1 at the bow
    ridge_x = PHILTRUM_HALF_WIDTH * (0.6 + 0.4 * t)  # the columns part towards the lip
    ridges = np.exp(-0.5 * ((np.abs(x) - ridge_x) / PHILTRUM_RIDGE_WIDTH) ** 2)
    height[near] = PHILTRUM_RELIEF * ridges * smoothstep(0.0, 0.3, t) * smoothstep(1.0, 0.85, t)
    return height
