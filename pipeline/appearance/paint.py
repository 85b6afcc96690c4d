"""Paint one identity into UV maps: albedo (linear RGB), height (bump) and roughness.

Everything is a function of a texel's position on the neutral template in the face frame (see
.layout), so each feature sits where the head model's landmarks put it: brows hang from the brow
landmarks, lash lines follow the lid landmarks, lips fill the outer lip contour. Skin colour
varies as melanin and haemoglobin do (absorption in the exponent, as in spectral skin models).
"""
from __future__ import annotations

import numpy as np

from flame_assets.standin.spec import smoothstep
from render.scene_spec import SkinMaps

from .identity import Identity
from .layout import TexelLayout
from .noise import fbm, lattice_noise, texel_noise

# Absorption per unit of melanin and of haemoglobin (linear R, G, B): melanin darkens blue most,
# blood takes green and blue and leaves red.
MELANIN_ABSORPTION = np.array([0.55, 0.9, 1.5])
BLOOD_ABSORPTION = np.array([0.05, 0.9, 0.55])
SKIN_ROUGHNESS, LIP_ROUGHNESS, HAIR_ROUGHNESS = 0.5, 0.3, 0.6
# Feature sizes in face units (1 = brow to chin, about 12 cm).
PORE_SIZE, STUBBLE_SIZE, HAIR_FIBRE_SIZE = 0.004, 0.004, 0.003
FRECKLE_SIZE, BLEMISH_SIZE = 0.012, 0.02
HAIR_STRANDS_ACROSS, HAIR_STRANDS_ALONG = 90.0, 6.0  # lattice cells per radian of azimuth / per unit of height
BROW_INNER, BROW_OUTER = (21, 20, 19, 18, 17), (22, 23, 24, 25, 26)  # inner -> outer, image left / right
UPPER_LIDS = ((36, 37, 38, 39), (42, 43, 44, 45))
LOWER_LIDS = ((39, 40, 41, 36), (45, 46, 47, 42))
OUTER_LIPS = slice(48, 60)
LASH_WIDTH, LOWER_LASH_WIDTH = 0.025, 0.01  # face units
LIP_EDGE = 0.012  # soft vermilion border, face units
HAIR_EDGE = 0.03  # soft hairline
HAIR_CAP_RAMP = 0.12  # the cap's thickness grows over this much height above the hairline (no ledge)


def polyline_distance(points: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """points (N, 3), line (K, 3) -> distance (N,), position along the line t (N,) in [0, 1] by
    arc length, and the nearest point (N, 3)."""
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


def azimuth_deg(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(N,) absolute angle about the cranium's vertical axis, 0 at the front, 180 at the back."""
    return np.abs(np.degrees(np.arctan2(points[:, 0] - centre[0], points[:, 2] - centre[2])))


def hair_coverage(identity: Identity, points: np.ndarray, layout: TexelLayout, jitter: bool = True,
                  edge: float = 0.0) -> np.ndarray:
    """(N,) 0..1 scalp hair at template points (face frame): above a hairline that runs from the
    forehead over the ears to the nape, with temple recession and optional sideburns."""
    if identity.hair_style == "bald":
        return np.zeros(len(points))
    lm = layout.landmarks
    brow_y, nose_y, mouth_y = lm[17:27, 1].mean(), lm[33, 1], lm[48:60, 1].mean()
    a = azimuth_deg(points, layout.centre)
    front = brow_y + identity.hairline + identity.recession * np.exp(-0.5 * ((a - 35.0) / 12.0) ** 2)
    side = brow_y + 0.02 - identity.sideburns * 0.45 * np.exp(-0.5 * ((a - 78.0) / 6.0) ** 2) * (nose_y < 0)
    back = mouth_y + 0.1
    line = front + (side - front) * smoothstep(48.0, 80.0, a)
    line = line + (back - line) * smoothstep(100.0, 150.0, a)
    y = points[:, 1]
    if jitter:
        y = y + 0.05 * (fbm(points, 10.0, 3, identity.seed + 11, layout.nyquist) - 0.5)
    return smoothstep(line - HAIR_EDGE, line + HAIR_EDGE + edge, y)


def vertex_hair_thickness(identity: Identity, layout: TexelLayout) -> np.ndarray:
    """(V,) metres by which each template vertex is pushed out along its normal: the hair cap.
    Scalp vertices only move rigidly with the head, so the cap keeps flow exact."""
    cover = hair_coverage(identity, layout.vertex_points, layout, jitter=False, edge=HAIR_CAP_RAMP)
    return identity.hair_thickness * layout.unit_m * cover


def _lip_mask(points: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """(N,) soft inside of the outer lip contour, seen from the front."""
    poly = lm[OUTER_LIPS, :2]
    # Only texels within LIP_EDGE of the contour's box can be non-zero: test those alone.
    near_box = np.all((points[:, :2] > poly.min(0) - LIP_EDGE) & (points[:, :2] < poly.max(0) + LIP_EDGE), axis=1)
    candidates = np.flatnonzero(near_box & (points[:, 2] > lm[OUTER_LIPS, 2].min() - 0.12))
    x, y = points[candidates, 0], points[candidates, 1]
    inside = np.zeros(len(candidates), bool)
    dist = np.full(len(candidates), np.inf)
    for a, b in zip(poly, np.roll(poly, -1, 0)):
        crosses = ((a[1] > y) != (b[1] > y)) & (x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1] + 1e-12) + a[0])
        inside ^= crosses
        d = b - a
        s = np.clip(((x - a[0]) * d[0] + (y - a[1]) * d[1]) / (d @ d), 0, 1)
        dist = np.minimum(dist, np.hypot(x - a[0] - s * d[0], y - a[1] - s * d[1]))
    out = np.zeros(len(points))
    out[candidates] = smoothstep(-LIP_EDGE, LIP_EDGE, np.where(inside, dist, -dist))
    return out


def _brows(identity: Identity, points: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """(N,) brow hair opacity: a band hanging below the brow landmarks (which sit on the brow's
    upper edge, as iBUG and mediapipe annotate it), thick at the inner end, with strands."""
    out = np.zeros(len(points))
    for side, ids in enumerate((BROW_INNER, BROW_OUTER)):
        line = lm[list(ids)] + np.array([0.0, identity.brow_lift, 0.015])
        near = np.flatnonzero(np.linalg.norm(points - line.mean(0), axis=1) < 0.45)
        if near.size == 0:
            continue
        dist, t, nearest = polyline_distance(points[near], line)
        below = nearest[:, 1] - points[near, 1]  # > 0 under the curve
        thick = identity.brow_thickness * (1.25 - 0.75 * t)
        body = smoothstep(-0.012, 0.004, below) * smoothstep(thick + 0.01, thick - 0.006, below)
        body *= smoothstep(1.08, 0.95, t) * smoothstep(-0.08, 0.02, t) * (dist < 0.2)
        # Strands run along the brow: fine across it, coarse along it.
        strand_coords = np.stack([t * 8.0, below * 110.0], 1)
        strands = 0.6 * lattice_noise(strand_coords, identity.seed + 101 + side) + 0.4 * fbm(points[near], 30.0, 1, identity.seed + 103 + side)
        out[near] = np.clip(body * identity.brow_density * (0.5 + 1.2 * strands), 0.0, 1.0)
    return out


def _lids(points: np.ndarray, lm: np.ndarray, upper_width: float, lower_width: float) -> np.ndarray:
    """(N,) lash-line opacity along the upper lids (and fainter along the lower lids)."""
    out = np.zeros(len(points))
    for lids, width, strength in ((UPPER_LIDS, upper_width, 1.0), (LOWER_LIDS, lower_width, 0.5)):
        for ids in lids:
            line = lm[list(ids)]
            near = np.flatnonzero(np.linalg.norm(points - line.mean(0), axis=1) < 0.35)
            dist, t, _ = polyline_distance(points[near], line)
            taper = smoothstep(0.0, 0.15, t) * smoothstep(1.0, 0.8, t) if strength < 1 else smoothstep(-0.05, 0.2, t) * 0.6 + 0.4
            out[near] = np.maximum(out[near], strength * taper * smoothstep(width, 0.3 * width, dist))
    return out


def _gauss(points: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    return np.exp(-0.5 * np.sum((points - centre) ** 2, axis=1) / radius**2)


def paint(identity: Identity, layout: TexelLayout, skin_tone: np.ndarray, base: np.ndarray | None = None) -> SkinMaps:
    """identity, layout, skin_tone (3,) linear albedo; base (S, S, 3) linear library texture or
    None -> SkinMaps of size S."""
    p, lm, nyq, seed = layout.points, layout.landmarks, layout.nyquist, identity.seed
    n = len(p)

    def detail(feature_size: float, seed: int) -> np.ndarray:
        return texel_noise(layout.size, layout.texels, layout.texel_size, feature_size, seed)

    colour = np.broadcast_to(np.asarray(skin_tone, np.float64), (n, 3)).copy() if base is None \
        else base.reshape(-1, 3)[layout.texels].astype(np.float64)

    # Melanin and haemoglobin: blotches, cheeks, nose, eye surrounds, freckles, blemishes.
    melanin = identity.skin_variation * 0.35 * (fbm(p, 4.0, 4, seed + 1, nyq) - 0.5)
    cheeks = sum(_gauss(p, 0.5 * (lm[i] + lm[j]) + np.array([s * 0.08, 0.02, 0.0]), 0.16)
                 for i, j, s in ((41, 48, -1), (46, 54, 1)))
    blood = identity.blush * (0.22 * cheeks + 0.15 * _gauss(p, lm[30], 0.08))
    blood += identity.makeup_blush * 0.25 * cheeks
    melanin += 0.18 * sum(_gauss(p, lm[list(ids)].mean(0) + np.array([0, -0.06, 0]), 0.07) for ids in LOWER_LIDS)
    if identity.freckles:
        spots = detail(FRECKLE_SIZE, seed + 5)
        area = _gauss(p, lm[29], 0.3)
        melanin += 0.9 * smoothstep(2.4 - 0.8 * identity.freckles, 2.8 - 0.8 * identity.freckles, spots) * area
    blemish = detail(BLEMISH_SIZE, seed + 7)
    blood += 0.5 * smoothstep(3.2, 3.6, blemish) * (p[:, 2] > -0.3)
    colour *= np.exp(-(melanin[:, None] * MELANIN_ABSORPTION + blood[:, None] * BLOOD_ABSORPTION))

    # Pores (pits), fine wrinkles on the forehead, and the nasolabial folds.
    pores = detail(PORE_SIZE, seed + 13)
    height = -identity.pores * smoothstep(0.5, 1.8, pores)
    colour *= (1.0 - 0.06 * identity.pores * smoothstep(0.8, 2.0, pores))[:, None]
    brow_y = lm[17:27, 1].mean()
    forehead = (smoothstep(brow_y + 0.08, brow_y + 0.14, p[:, 1]) * smoothstep(brow_y + 0.45, brow_y + 0.3, p[:, 1])
                * smoothstep(0.45, 0.25, np.abs(p[:, 0])))
    wobble = 0.02 * (fbm(p, 6.0, 2, seed + 17, nyq) - 0.5)
    phase = np.mod((p[:, 1] + wobble) / 0.055, 1.0)
    creases = np.exp(-0.5 * ((phase - 0.5) / 0.07) ** 2) * forehead
    for wing, corner, s in ((31, 48, -1), (35, 54, 1)):
        line = np.stack([lm[wing] + np.array([s * 0.04, 0.0, 0.0]), lm[corner] + np.array([s * 0.06, -0.06, 0.0])])
        dist, t, _ = polyline_distance(p, line)
        creases += 0.8 * np.exp(-0.5 * (dist / 0.012) ** 2) * smoothstep(0.0, 0.2, t) * smoothstep(1.0, 0.7, t)
    age = identity.wrinkles**2  # most faces are smooth; a few are lined
    height -= 1.2 * age * creases
    colour *= (1.0 - 0.08 * age * creases)[:, None]
    roughness = np.full(n, SKIN_ROUGHNESS)

    # Stubble: dark dots and a grey-blue shadow where a beard grows.
    lips = _lip_mask(p, lm)
    if identity.stubble:
        top = lm[33, 1] - 0.03 + (lm[2, 1] - lm[33, 1] + 0.05) * smoothstep(0.2, 0.55, np.abs(p[:, 0]))
        beard = smoothstep(top + 0.02, top - 0.03, p[:, 1]) * smoothstep(lm[8, 1] - 0.45, lm[8, 1] - 0.25, p[:, 1])
        beard *= smoothstep(105.0, 90.0, azimuth_deg(p, layout.centre)) * (1.0 - smoothstep(0.2, 0.8, lips))
        dots = smoothstep(0.3, 1.5, detail(STUBBLE_SIZE, seed + 19))
        alpha = beard * identity.stubble * (0.35 + 0.5 * dots)
        colour = colour * (1 - alpha[:, None]) + alpha[:, None] * np.asarray(identity.hair_colour) * 0.7

    # Lips: their own colour (or lipstick) and gloss.
    on = np.flatnonzero(lips > 0)
    if on.size:
        lip_colour = np.asarray(identity.lipstick if identity.lipstick is not None else identity.lip_colour)
        lip_tone = lip_colour * (0.85 + 0.3 * fbm(p[on], 40.0, 2, seed + 23, nyq))[:, None]
        if identity.lipstick is None:  # natural lips keep some of the skin's own tone
            lip_tone = 0.45 * lip_tone + 0.55 * colour[on] * np.array([1.0, 0.72, 0.72])
        w = lips[on]
        colour[on] = colour[on] * (1 - w[:, None]) + w[:, None] * lip_tone
        roughness[on] = roughness[on] * (1 - w) + w * (LIP_ROUGHNESS - 0.2 * identity.lip_gloss)
        height[on] += w * 0.3 * (lattice_noise(p[on] * np.array([60.0, 6.0, 60.0]), seed + 29) - 0.5)

    # Brows and lash lines.
    brows = _brows(identity, p, lm)
    colour = colour * (1 - brows[:, None]) + brows[:, None] * np.asarray(identity.brow_colour)
    height += 0.6 * brows
    lash = _lids(p, lm, LASH_WIDTH * (1 + 1.5 * identity.eyeliner), LOWER_LASH_WIDTH * (1 + identity.eyeliner))
    lash_alpha = lash * identity.lash_darkness
    colour = colour * (1 - lash_alpha[:, None]) + lash_alpha[:, None] * np.asarray(identity.hair_colour) * 0.3

    # Scalp hair: colour with strands running down from the crown.
    hair = hair_coverage(identity, p, layout)
    if hair.any():
        a = np.radians(azimuth_deg(p, layout.centre)) * np.sign(p[:, 0] - layout.centre[0] + 1e-9)
        strand_coords = np.stack([a * HAIR_STRANDS_ACROSS, p[:, 1] * HAIR_STRANDS_ALONG], 1)
        strands = 0.5 * lattice_noise(strand_coords, seed + 31) + 0.5 * np.clip(0.5 + 0.2 * detail(HAIR_FIBRE_SIZE, seed + 37), 0, 1)
        shade = 0.55 + 0.9 * strands
        if identity.hair_style == "buzz":  # skin shows through clipped hair
            hair = hair * (0.55 + 0.35 * smoothstep(-0.5, 0.8, detail(HAIR_FIBRE_SIZE, seed + 41)))
        colour = colour * (1 - hair[:, None]) + hair[:, None] * np.asarray(identity.hair_colour) * shade[:, None]
        roughness = roughness * (1 - hair) + hair * HAIR_ROUGHNESS
        height += hair * 1.5 * strands

    return _to_maps(layout, colour, height, roughness)


def _to_maps(layout: TexelLayout, colour: np.ndarray, height: np.ndarray, roughness: np.ndarray) -> SkinMaps:
    """Scatter per-texel values into S x S maps; uncovered texels take the mean (no seams in mips)."""
    size = layout.size

    def scatter(values: np.ndarray, channels: int) -> np.ndarray:
        values = values.reshape(len(values), channels)
        out = np.empty((size * size, channels), np.float32)
        out[:] = values.mean(0)
        out[layout.texels] = values
        return out.reshape(size, size, channels) if channels > 1 else out.reshape(size, size)

    return SkinMaps(albedo=np.clip(scatter(colour, 3), 0.0, 1.0), height=scatter(height, 1), roughness=scatter(roughness, 1))
