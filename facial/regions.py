"""Facial regions placed on iBUG-68 landmarks and rasterised to boolean masks, in numpy.

`COARSE_REGIONS` are the five areas `meflow dataset stats` reports (the convex hull of a landmark
group, grown by a margin).

`ROI_NAMES` are the 29 regions of MELLM's motion prompts and ROI loss, in its output order.
`roi_boxes` places them where MELLM's code places them on WFLW-98 points, reached here through the
fixed iBUG-68 -> WFLW-98 embedding (`facial.wflw98`), but sized by the face: MELLM's fixed pixel
sizes (9 px eyelids, 14 px brows and mouth, 20 px nostril wings, 24 px chin) and offsets become
multiples of the inter-ocular distance that equal them at REFERENCE_INTER_OCULAR_PX; cheeks keep
MELLM's 12 % of the face height. Where MELLM treats the two sides differently (only the right
cheek is kept below the eye corner), both sides get the same rule, so the regions mirror exactly.

"Left" and "Right" in ROI names mean the IMAGE's left and right, as in MELLM's code ("Left Lower
Eyelid" sits on WFLW 60-67, the eye on the image left) and as `ibug68` names its groups: "Left
Lower Eyelid" is the subject's right eye (iBUG 36-41, `eye_image_left`), and "(Left Side)" is the
part nearer the image's left edge. Flipping an image horizontally (and its landmarks with
`ibug68.mirror_landmarks`) turns every "Left" region into the flipped "Right" one (`ROI_MIRROR`).
"""
from __future__ import annotations

import re

import numpy as np

from .ibug68 import GROUPS, inter_ocular
from .wflw98 import wflw98_from_ibug68

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


# --- MELLM's 29 ROIs ----------------------------------------------------------------------------

# MELLM's fixed sizes (box sides as its slicing leaves them) and offsets, in pixels of a face whose
# outer eye corners are this far apart: a face filling a 512-px image (the stand-in seen frontally
# at 2000 px/m spans 181 px; the v1 recipe frames frontal faces at 150-190 px).
REFERENCE_INTER_OCULAR_PX = 180.0
EYELID_SIDE_PX = 9.0
EYELID_OFFSET_PX = 5.0  # boxes sit off the lid: below / above it, and outwards at the two ends
BROW_SIDE_PX = 14.0
NOSTRIL_SIDE_PX = 20.0
NOSTRIL_OFFSET_PX = 7.0  # outwards and up from the nostril's outer point
MOUTH_SIDE_PX = 14.0
MOUTH_CORNER_OFFSET_PX = 7.0  # outwards from the corner
CHIN_SIDE_PX = 24.0
CHEEK_SIDE_FRACTION = 0.12  # of the face height (the landmarks' vertical extent)
CHEEK_OFFSET_FRACTION = 0.05  # outwards and up from halfway between the outer eye corner and the mouth corner
MIN_CHEEK_SIDE_PX = 4.0
EDGE_TOLERANCE_PX = 1e-6  # a pixel centre on a box edge is inside, on both sides of a flip
MIN_HALF_SIDE_PX = 0.5  # however small the face, a box covers the pixel its centre falls in

_E, _N, _M = EYELID_OFFSET_PX, NOSTRIL_OFFSET_PX, MOUTH_CORNER_OFFSET_PX
# (name, WFLW-98 points whose mean anchors the box, offset (x, y) and side in reference pixels).
_ANCHORED_BOXES: tuple[tuple[str, tuple[int, ...], tuple[float, float], float], ...] = (
    ("Left Lower Eyelid (Left Side)", (67,), (-_E, _E), EYELID_SIDE_PX),
    ("Left Lower Eyelid (Center)", (66,), (0.0, _E), EYELID_SIDE_PX),
    ("Left Lower Eyelid (Right Side)", (65,), (_E, _E), EYELID_SIDE_PX),
    ("Right Lower Eyelid (Left Side)", (75,), (-_E, _E), EYELID_SIDE_PX),
    ("Right Lower Eyelid (Center)", (74,), (0.0, _E), EYELID_SIDE_PX),
    ("Right Lower Eyelid (Right Side)", (73,), (_E, _E), EYELID_SIDE_PX),
    ("Left Upper Eyelid (Left Side)", (61,), (-_E, -_E), EYELID_SIDE_PX),
    ("Left Upper Eyelid (Center)", (62,), (0.0, -_E), EYELID_SIDE_PX),
    ("Left Upper Eyelid (Right Side)", (63,), (_E, -_E), EYELID_SIDE_PX),
    ("Right Upper Eyelid (Left Side)", (69,), (-_E, -_E), EYELID_SIDE_PX),
    ("Right Upper Eyelid (Center)", (70,), (0.0, -_E), EYELID_SIDE_PX),
    ("Right Upper Eyelid (Right Side)", (71,), (_E, -_E), EYELID_SIDE_PX),
    ("Left Outer Eyebrow", (33, 34, 41), (0.0, 0.0), BROW_SIDE_PX),
    ("Left Inner Eyebrow", (36, 37, 38, 39), (0.0, 0.0), BROW_SIDE_PX),
    ("Right Outer Eyebrow", (45, 46, 47), (0.0, 0.0), BROW_SIDE_PX),
    ("Right Inner Eyebrow", (42, 43, 49, 50), (0.0, 0.0), BROW_SIDE_PX),
    ("Left Nostril Wing", (55,), (-_N, -_N), NOSTRIL_SIDE_PX),
    ("Right Nostril Wing", (59,), (_N, -_N), NOSTRIL_SIDE_PX),
    ("Left Mouth Corner", (76,), (-_M, 0.0), MOUTH_SIDE_PX),
    ("Right Mouth Corner", (82,), (_M, 0.0), MOUTH_SIDE_PX),
    ("Upper Lip (Left Side)", (77,), (0.0, 0.0), MOUTH_SIDE_PX),
    ("Upper Lip (Center)", (79,), (0.0, 0.0), MOUTH_SIDE_PX),
    ("Upper Lip (Right Side)", (81,), (0.0, 0.0), MOUTH_SIDE_PX),
    ("Lower Lip (Left Side)", (86, 87), (0.0, 0.0), MOUTH_SIDE_PX),
    ("Lower Lip (Right Side)", (83, 84), (0.0, 0.0), MOUTH_SIDE_PX),
    ("Lower Lip (Center)", (85,), (0.0, 0.0), MOUTH_SIDE_PX),
    ("Chin", (16,), (0.0, 0.0), CHIN_SIDE_PX),
)
_CHIN_FALLBACK = (16, 85)  # a chin box past the bottom edge moves halfway up to the lower lip's centre
# (name, WFLW outer eye corner, WFLW mouth corner, outward x direction)
_CHEEKS: tuple[tuple[str, int, int, float], ...] = (("Left Cheek", 60, 76, -1.0), ("Right Cheek", 72, 82, 1.0))

ROI_NAMES: tuple[str, ...] = tuple(name for name, *_ in _ANCHORED_BOXES) + tuple(name for name, *_ in _CHEEKS)
"""The 29 ROI display names in MELLM's output order."""


def _mirror_name(name: str) -> str:
    swap = {"Left": "Right", "Right": "Left"}
    return re.sub(r"\b(Left|Right)\b", lambda word: swap[word.group()], name)


ROI_MIRROR = np.array([ROI_NAMES.index(_mirror_name(name)) for name in ROI_NAMES])
"""(29,) after a horizontal flip, ROI i covers where ROI ROI_MIRROR[i] covered (Left <-> Right)."""


def roi_boxes(landmarks: np.ndarray, height: int) -> np.ndarray:
    """landmarks (..., 68, 2) iBUG-68 pixels (x, y) of images `height` pixels tall -> (..., 29, 3)
    float64 boxes in ROI_NAMES order: centre x, centre y and half side (at least half a pixel), in
    pixels. A box covers the pixels whose centres are within half a side of its centre along both
    axes. `height` matters only to the chin box, which moves up towards the lips when the image
    cuts it. Batched: any leading dimensions (a training batch) are kept."""
    landmarks = np.asarray(landmarks, np.float64)
    wflw = wflw98_from_ibug68(landmarks)  # (..., 98, 2)
    scale = (inter_ocular(landmarks) / REFERENCE_INTER_OCULAR_PX)[..., None]  # (..., 1)
    boxes = np.zeros((*landmarks.shape[:-2], len(ROI_NAMES), 3))
    for n, (name, points, offset, side) in enumerate(_ANCHORED_BOXES):
        centre = wflw[..., list(points), :].mean(-2) + scale * np.asarray(offset)
        half = np.maximum(MIN_HALF_SIDE_PX, 0.5 * scale[..., 0] * side)
        if name == "Chin":  # MELLM's rule: keep the chin box in the image
            cut = (height - centre[..., 1]) < half
            centre = np.where(cut[..., None], wflw[..., list(_CHIN_FALLBACK), :].mean(-2), centre)
        boxes[..., n, :2], boxes[..., n, 2] = centre, half
    face_height = np.ptp(landmarks[..., 1], axis=-1)
    half = 0.5 * np.maximum(MIN_CHEEK_SIDE_PX, CHEEK_SIDE_FRACTION * face_height)
    shift = CHEEK_OFFSET_FRACTION * face_height
    for n, (_, eye_corner, mouth_corner, outward) in enumerate(_CHEEKS, start=len(_ANCHORED_BOXES)):
        centre = 0.5 * (wflw[..., eye_corner, :] + wflw[..., mouth_corner, :])
        boxes[..., n, 0] = centre[..., 0] + outward * shift
        boxes[..., n, 1] = np.maximum(centre[..., 1] - shift, wflw[..., eye_corner, 1] + half)  # never above the eye corner
        boxes[..., n, 2] = half
    return boxes


def roi_masks(landmarks: np.ndarray, height: int, width: int) -> np.ndarray:
    """landmarks (..., 68, 2) iBUG-68 pixels (x, y) -> (..., 29, H, W) bool, one mask per ROI in
    ROI_NAMES order (the boxes of `roi_boxes`, clipped to the image). A box wholly outside the
    image, or on non-finite landmarks, gives an empty mask. Pixel (i, j) has its centre at x = j,
    y = i, and a pixel is in a box when |j - cx| and |i - cy| are at most its half side: the test
    is symmetric about the centre, so the masks of a flipped image are the flipped masks."""
    boxes = roi_boxes(landmarks, height)
    cx, cy, half = (boxes[..., k, None] for k in range(3))
    reach = half + EDGE_TOLERANCE_PX
    with np.errstate(invalid="ignore"):  # NaN landmarks compare False: empty masks
        in_x = np.abs(np.arange(width) - cx) <= reach  # (..., 29, W)
        in_y = np.abs(np.arange(height) - cy) <= reach  # (..., 29, H)
    return in_y[..., :, None] & in_x[..., None, :]


def roi_union(landmarks: np.ndarray, height: int, width: int) -> np.ndarray:
    """landmarks (..., 68, 2) iBUG-68 pixels -> (..., H, W) bool: the union of the 29 ROI masks
    (where MELLM's ROI loss averages)."""
    return roi_masks(landmarks, height, width).any(-3)
