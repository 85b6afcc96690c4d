"""The WFLW 98-point landmark layout, related to iBUG-68 by a fixed linear map.

MELLM places its ROI boxes on WFLW-98 points and its loader wants (98, 2) landmark files; MEFlow
detects, fits and stores iBUG-68. WFLW's published layout (0-based, image sides as in `ibug68`):
contour 0-32 from the image left; brow on the image left 33-41 (upper arc 33 outer tip .. 37 inner
end, lower arc 38 under the inner end .. 41 near the tip); brow on the image right 42-50 (upper 42
inner .. 46 outer tip, lower 47 near the tip .. 50 under the inner end); nose bridge 51-54 (54 the
tip); nostril base 55-59; eye on the image left 60-67 (60 outer corner, 61-63 upper lid, 64 inner
corner, 65-67 lower lid from inner to outer); eye on the image right 68-75 (68 inner corner, 69-71
upper, 72 outer corner, 73-75 lower from outer to inner); outer lips 76-87 and inner lips 88-95 in
iBUG order; pupils 96 (image left) and 97.

68 of the 98 points are iBUG points (`IBUG68_FROM_WFLW98`, the usual WFLW -> 300-W mapping).
`WFLW98_FROM_IBUG68` makes the other 30 from them: contour points halfway between jaw points,
lower brow arcs a little towards the eye below, the eyelid points iBUG skips halfway between their
neighbours, pupils at the centroid of each eye. Being linear (rows sum to 1), the map applies alike
to 2D pixels and to 3D mesh points before a projection.
"""
from __future__ import annotations

import numpy as np

from .ibug68 import GROUPS
from .ibug68 import N_POINTS as N_POINTS_IBUG

N_POINTS_WFLW = 98
NOSE_TIP_WFLW = 54  # iBUG 30: where MELLM measures the head's residual motion (5 x 5 window)
PUPILS_WFLW = (96, 97)  # image left, image right
# The lower brow arc sits this share of the way from the brow's upper arc to the eye below it: about
# the brow's thickness (a brow is ~1 cm thick, ~3-4 cm above the eye's upper lid).
BROW_LOWER_ARC_FRACTION = 0.25

_JAW_STEP = 2  # iBUG's 17 jaw points are every other of WFLW's 33 contour points
IBUG68_FROM_WFLW98 = np.array(
    list(range(0, 33, _JAW_STEP))  # jaw 0-16
    + list(range(33, 38)) + list(range(42, 47))  # brows 17-21, 22-26: the upper arcs
    + list(range(51, 60))  # nose 27-35
    + [60, 61, 63, 64, 65, 67]  # eye on the image left 36-41: corners and the thirds of each lid
    + [68, 69, 71, 72, 73, 75]  # eye on the image right 42-47
    + list(range(76, 96)))  # mouth 48-67
"""(68,) WFLW index of each iBUG point: ibug = wflw[IBUG68_FROM_WFLW98]."""

# Mirror partner of every WFLW point (image left <-> right), as `ibug68.MIRROR` is for iBUG.
MIRROR_WFLW98 = np.array(
    list(range(32, -1, -1))  # contour
    + list(range(46, 41, -1)) + list(range(50, 46, -1))  # brow on the left: upper arc, lower arc
    + list(range(37, 32, -1)) + list(range(41, 37, -1))  # brow on the right
    + [51, 52, 53, 54] + [59, 58, 57, 56, 55]  # nose
    + list(range(72, 67, -1)) + [75, 74, 73]  # eye on the left: 60-64 <-> 72-68, 65-67 <-> 75-73
    + list(range(64, 59, -1)) + [67, 66, 65]  # eye on the right
    + [82, 81, 80, 79, 78, 77, 76, 87, 86, 85, 84, 83]  # outer lips
    + [92, 91, 90, 89, 88, 95, 94, 93]  # inner lips
    + [97, 96])  # pupils


def _embedding() -> np.ndarray:
    """(98, 68) weights: WFLW point w = sum_i weights[w, i] * iBUG point i."""
    weights: dict[int, dict[int, float]] = {int(w): {i: 1.0} for i, w in enumerate(IBUG68_FROM_WFLW98)}
    jaw = list(GROUPS["jaw"])
    for a, b in zip(jaw[:-1], jaw[1:]):  # odd contour points between two jaw points
        weights[_JAW_STEP * a + 1] = {a: 0.5, b: 0.5}
    t = BROW_LOWER_ARC_FRACTION
    # Lower brow arc: (WFLW point, iBUG brow point above it, iBUG eye points below it), image left
    # from the inner end outwards, image right from the outer tip inwards (WFLW's order).
    lower_arcs = [(38, 21, (39,)), (39, 20, (38,)), (40, 19, (37, 38)), (41, 18, (37,)),
                  (47, 25, (44,)), (48, 24, (43, 44)), (49, 23, (43,)), (50, 22, (42,))]
    for w, brow, eye in lower_arcs:
        weights[w] = {brow: 1.0 - t}
        for e in eye:
            weights[w][e] = t / len(eye)
    for w, (a, b) in {62: (37, 38), 66: (40, 41), 70: (43, 44), 74: (46, 47)}.items():  # mid-lid points
        weights[w] = {a: 0.5, b: 0.5}
    for w, group in zip(PUPILS_WFLW, ("eye_image_left", "eye_image_right")):
        points = list(GROUPS[group])
        weights[w] = {i: 1.0 / len(points) for i in points}
    matrix = np.zeros((N_POINTS_WFLW, N_POINTS_IBUG))
    for w, row in weights.items():
        for i, value in row.items():
            matrix[w, i] = value
    return matrix


WFLW98_FROM_IBUG68 = _embedding()
"""(98, 68) float64, rows summing to 1: wflw = WFLW98_FROM_IBUG68 @ ibug."""
WFLW98_FROM_IBUG68.flags.writeable = False


def wflw98_from_ibug68(points: np.ndarray) -> np.ndarray:
    """points (..., 68, D) iBUG-68 (2D pixels or 3D positions) -> (..., 98, D) WFLW-98.

    Shared points are exact copies; the dtype is kept for float input (float64 otherwise)."""
    points = np.asarray(points)
    if points.ndim < 2 or points.shape[-2] != N_POINTS_IBUG:
        raise ValueError(f"expected iBUG-68 points of shape (..., 68, D), got {points.shape}")
    dtype = points.dtype if np.issubdtype(points.dtype, np.floating) else np.float64
    out = np.einsum("wi,...id->...wd", WFLW98_FROM_IBUG68, points.astype(np.float64))
    return out.astype(dtype)


def ibug68_from_wflw98(points: np.ndarray) -> np.ndarray:
    """points (..., 98, D) WFLW-98 -> (..., 68, D) iBUG-68, the shared points (same dtype)."""
    points = np.asarray(points)
    if points.ndim < 2 or points.shape[-2] != N_POINTS_WFLW:
        raise ValueError(f"expected WFLW-98 points of shape (..., 98, D), got {points.shape}")
    return points[..., IBUG68_FROM_WFLW98, :]
