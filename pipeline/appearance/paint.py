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

from .curves import polyline_distance
from .identity import Identity
from .layout import TexelLayout
from .lips import lip_mask, mouth_shading, philtrum
from .noise import fbm, lattice_noise, surface_noise

# Absorption per unit of melanin and of haemoglobin (linear R, G, B): melanin darkens blue most,
# blood takes green and blue and leaves red.
MELANIN_ABSORPTION = np.array([0.55, 0.9, 1.5])
BLOOD_ABSORPTION = np.array([0.05, 0.9, 0.55])
SKIN_ROUGHNESS, LIP_ROUGHNESS, HAIR_ROUGHNESS = 0.5, 0.3, 0.4  # hair: a sheen, stretched by the material's anisotropy
# Blood shows through skin in blotches of about a centimetre (capillaries nearer the surface in
# some places than others): haemoglobin noise of this amplitude at full skin_variation, this many
# cycles per face unit. Without it a face was one even tone between its regions.
MOTTLING, MOTTLING_FREQUENCY = 0.5, 14.0
# Feature sizes in face units (1 = brow to chin, about 12 cm).
PORE_SIZE, STUBBLE_SIZE, HAIR_FIBRE_SIZE = 0.004, 0.004, 0.003
FRECKLE_SIZE, BLEMISH_SIZE = 0.012, 0.02
HAIR_STRANDS_ACROSS, HAIR_STRANDS_ALONG = 90.0, 6.0  # lattice cells per radian of azimuth / per unit of height
BROW_INNER, BROW_OUTER = (21, 20, 19, 18, 17), (22, 23, 24, 25, 26)  # inner -> outer, image left / right
BROW_CURVE_POINTS = 32
BROW_CURVE_OVERRUN = 0.08  # face units of arc past each end of the brow
BROW_HAIRS = 200  # per brow at density 1: drawn wider than real hairs, so fewer of them
BROW_HAIR_LENGTH = (0.035, 0.07)  # face units (4-8 mm), shorter towards the tail
BROW_HAIR_WIDTH = 0.0025  # Gaussian sigma, face units: about a texel at 1024
BROW_ROOT_CROWDING = 1.25  # > 1 puts more roots at the inner end
BROW_HAIR_ANGLE_T, BROW_HAIR_ANGLE_DEG = (0.0, 0.12, 0.35, 0.7, 1.0), (62.0, 45.0, 15.0, 4.0, -18.0)
BROW_HERRINGBONE_DEG = 24.0  # lower hairs lean up, upper hairs down, by up to half this
BROW_ANGLE_JITTER_DEG = 10.0
BROW_REACH = 0.06  # how far past the band a hair can reach
BROW_HAIR_CHUNK = 64  # hairs per vectorised step (memory)
BROW_SHADOW = 0.2  # the band's own tint under the hairs
BROW_SEED_OFFSET = 101
# Lid margins, each from the inner corner (39, 42) to the outer one (36, 45).
UPPER_LIDS = ((39, 38, 37, 36), (42, 43, 44, 45))
LOWER_LIDS = ((39, 40, 41, 36), (42, 47, 46, 45))
# Lashes are sparse by the inner corner: they fade in over these shares of the margin's length from
# it (upper, lower). The upper lines once ran outer to inner on one eye and inner to outer on the
# other, so one eye's lashes thinned at its inner corner and the other's at its outer one.
UPPER_LASH_START, LOWER_LASH_START = (0.05, 0.3), (0.2, 0.45)
LASH_WIDTH, LOWER_LASH_WIDTH = 0.02, 0.01  # face units
# Ears are thin and full of blood: pinker than the cheek beside them. Centred behind and below
# the top of the jaw line (landmarks 0, 16), x outwards, face units.
EAR_OFFSET = np.array([0.075, -0.15, -0.26])
EAR_RADIUS = 0.14
EAR_FLUSH = 0.45  # blood at the ear's centre, at full blush
NOSTRIL_OFFSET = np.array([0.01, 0.012, 0.015])  # from the nose-base landmarks beside the tip (x outwards), face units
NOSTRIL_RADII = np.array([0.028, 0.012, 0.03])
NOSTRIL_DARKNESS = 0.8
# Natural lips: this share of their own colour, the rest the skin's, with less green and blue.
NATURAL_LIP_SHARE, LIP_SKIN_TINT = 0.6, np.array([1.0, 0.68, 0.68])
LID_CREASE_HEIGHT, LID_CREASE_WIDTH, LID_CREASE_DARKNESS = 0.05, 0.012, 0.3  # face units above the lid margin
HAIR_EDGE = 0.03  # soft hairline
# The hairline runs from the forehead (its height: identity.hairline above the brows) down to the
# temples between these azimuths. A woman's hairline arches: it falls this much (face units) from
# the middle of the forehead to its sides, so the forehead is framed by an oval, not cut straight.
HAIRLINE_SIDE_DEG = (48.0, 80.0)
HAIRLINE_ARCH = {"female": 0.09, "male": 0.02}
HAIR_FRINGE_ACROSS, HAIR_FRINGE_DEPTH = 220.0, 0.07  # single hairs fraying the hairline: cells per radian, face units
FOREHEAD_LINE_SPACING, FOREHEAD_LINE_WIDTH, FOREHEAD_LINE_WOBBLE = 0.075, 0.11, 0.035  # face units; width as a share of the spacing
NECK_PORE_FADE = 0.7  # share of pore depth lost below the jaw
# At 512 px a pore is under a pixel: at full relief their bump shaded the whole face as stucco.
PORE_RELIEF = 0.45
# Sebum makes the T-zone (forehead, nose) glossier than the cheeks: roughness taken off there.
OILY_SHINE = 0.14
HAIR_CAP_RAMP = 0.25  # the cap's thickness grows over this much height above the hairline (no ledge)
# Hair is cut shorter at the sides than on top: below the crown the cap keeps this share of its
# thickness, growing to the full cap over CROWN_RISE (heights above the brows, face units). A cap
# of one thickness all round reads as a helmet.
SIDE_HAIR_SHARE = 0.4
CROWN_RISE = (0.3, 0.65)  # the crown stands about 0.74 above the brows


def azimuth_deg(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(N,) absolute angle about the cranium's vertical axis, 0 at the front, 180 at the back."""
    return np.abs(np.degrees(np.arctan2(points[:, 0] - centre[0], points[:, 2] - centre[2])))


def strand_coordinates(points: np.ndarray, centre: np.ndarray, across: float) -> np.ndarray:
    """(N, 2) lattice coordinates in which scalp hair runs down from the crown: `across` cells per
    radian of signed azimuth about the cranium's axis, HAIR_STRANDS_ALONG per unit of height."""
    azimuth = np.radians(azimuth_deg(points, centre)) * np.sign(points[:, 0] - centre[0] + 1e-9)
    return np.stack([azimuth * across, points[:, 1] * HAIR_STRANDS_ALONG], 1)


def hair_coverage(identity: Identity, points: np.ndarray, layout: TexelLayout, jitter: bool = True,
                  edge: float = 0.0, fray: bool = False) -> np.ndarray:
    """(N,) 0..1 scalp hair at template points (face frame): above a hairline that runs from the
    forehead over the ears to the nape, with temple recession and optional sideburns. fray: noise
    along the strands moves the edge up and down hair by hair, so the line breaks into single hairs
    (computed only near the line)."""
    if identity.hair_style == "bald":
        return np.zeros(len(points))
    lm = layout.landmarks
    brow_y, nose_y, mouth_y = lm[17:27, 1].mean(), lm[33, 1], lm[48:60, 1].mean()
    a = azimuth_deg(points, layout.centre)
    arch = HAIRLINE_ARCH[identity.sex] * np.minimum(a / HAIRLINE_SIDE_DEG[0], 1.0) ** 2
    front = brow_y + identity.hairline + identity.recession * np.exp(-0.5 * ((a - 35.0) / 12.0) ** 2) - arch
    side = brow_y + 0.02 - identity.sideburns * 0.45 * np.exp(-0.5 * ((a - 78.0) / 6.0) ** 2) * (nose_y < 0)
    back = mouth_y + 0.1
    line = front + (side - front) * smoothstep(*HAIRLINE_SIDE_DEG, a)
    line = line + (back - line) * smoothstep(100.0, 150.0, a)
    y = points[:, 1]
    if jitter:
        y = y + 0.05 * (fbm(points, 10.0, 3, identity.seed + 11, layout.nyquist) - 0.5)
    if fray:
        band = np.flatnonzero(np.abs(y - line) < HAIR_EDGE + edge + HAIR_FRINGE_DEPTH)
        fine, coarse = (lattice_noise(strand_coordinates(points[band], layout.centre, cells), identity.seed + 47 + k)
                        for k, cells in enumerate((HAIR_FRINGE_ACROSS, HAIR_STRANDS_ACROSS)))
        y = y.copy()
        y[band] += HAIR_FRINGE_DEPTH * (0.6 * fine + 0.4 * coarse - 0.5)
    return smoothstep(line - HAIR_EDGE, line + HAIR_EDGE + edge, y)


def vertex_hair_thickness(identity: Identity, layout: TexelLayout) -> np.ndarray:
    """(V,) metres by which each template vertex is pushed out along its normal: the hair cap.
    Scalp vertices only move rigidly with the head, so the cap keeps flow exact."""
    points = layout.vertex_points
    cover = hair_coverage(identity, points, layout, jitter=False, edge=HAIR_CAP_RAMP)
    brow_y = layout.landmarks[17:27, 1].mean()
    taper = SIDE_HAIR_SHARE + (1.0 - SIDE_HAIR_SHARE) * smoothstep(brow_y + CROWN_RISE[0], brow_y + CROWN_RISE[1], points[:, 1])
    return identity.hair_thickness * layout.unit_m * cover * taper


def brow_curve(landmarks: np.ndarray, ids: tuple[int, ...], lift: float) -> tuple[np.ndarray, float, float]:
    """A smooth arc through one brow's landmarks (inner -> outer), lifted by `lift` and set just off
    the skin: a quadratic in x, so the brow has no corners at landmarks. It runs BROW_CURVE_OVERRUN
    past both ends, so texels beyond an end still get a frame -> (BROW_CURVE_POINTS, 3) points,
    and where the brow itself starts and ends along it, as shares of its arc length (the unit of
    polyline_distance's t)."""
    points = landmarks[list(ids)] + np.array([0.0, lift, 0.015])
    x0, x1 = points[0, 0], points[-1, 0]
    overrun = np.sign(x1 - x0) * BROW_CURVE_OVERRUN
    x = np.linspace(x0 - overrun, x1 + overrun, BROW_CURVE_POINTS)
    fit = [np.polyval(np.polyfit(points[:, 0], points[:, c], 2), x) for c in (1, 2)]
    curve = np.stack([x, fit[0], fit[1]], 1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))]) / _arc_length(curve)
    along_x = (np.array([x0, x1]) - x[0]) / (x[-1] - x[0])  # rises from 0 to 1 whichever way the brow runs
    start, end = np.interp(along_x, np.linspace(0.0, 1.0, BROW_CURVE_POINTS), arc)
    return curve, float(start), float(end)


def _arc_length(line: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(line, axis=0), axis=1).sum())


def brow_hairs(rng: np.random.Generator, count: int, thickness: float) -> np.ndarray:
    """(count, 5) hairs in a brow's own frame (s: along the brow from its inner end, 0..1; b: down
    from its upper edge, face units): root t, root b, direction angle (radians from the outward
    axis towards the forehead), length and opacity. Hairs at the inner end stand up, those of the
    body lie outwards, the tail's point down, and upper and lower hairs lean towards the middle
    line: the herringbone of real brows."""
    t = rng.random(count) ** BROW_ROOT_CROWDING
    depth = rng.random(count)
    angle = np.interp(t, BROW_HAIR_ANGLE_T, np.radians(BROW_HAIR_ANGLE_DEG))
    angle += np.radians(BROW_HERRINGBONE_DEG) * (depth - 0.5) + np.radians(BROW_ANGLE_JITTER_DEG) * rng.standard_normal(count)
    length = rng.uniform(*BROW_HAIR_LENGTH, count) * (1.0 - 0.4 * t)
    return np.stack([t, depth * brow_thickness_at(t, thickness), angle, length, rng.uniform(0.35, 0.8, count)], 1)


def brow_thickness_at(t: np.ndarray, thickness: float) -> np.ndarray:
    """Brow height at position t along it (0 inner end, 1 tail): full at the head, tapering to a point."""
    return thickness * (1.05 - 0.45 * t) * smoothstep(1.05, 0.7, t) ** 0.5


def brow_opacity(identity: Identity, points: np.ndarray, lm: np.ndarray, texel_size: float) -> np.ndarray:
    """(N,) brow hair opacity: short hair strokes rooted in a band that hangs below the brow
    landmarks (which sit on the brow's upper edge, as iBUG and mediapipe annotate it), over a
    faint shadow of the band. Each texel's place in the brow's frame (along, down) comes from the
    nearest point of the brow arc, so the hairs follow the brow on any head. A hair is never drawn
    finer than half a texel (texel_size, face units): thinner would alias into dots."""
    out = np.zeros(len(points))
    width = max(BROW_HAIR_WIDTH, 0.5 * texel_size)
    rng = np.random.default_rng(identity.seed + BROW_SEED_OFFSET)
    count = int(round(BROW_HAIRS * identity.brow_density))
    for ids in (BROW_INNER, BROW_OUTER):
        hairs = brow_hairs(rng, count, identity.brow_thickness)  # drawn for both brows whatever the texels
        curve, start, end = brow_curve(lm, ids, identity.brow_lift)
        reach = identity.brow_thickness * 1.2 + BROW_REACH + 0.02
        near = np.flatnonzero(np.all((points > curve.min(0) - reach) & (points < curve.max(0) + reach), axis=1))
        if near.size == 0:
            continue
        dist, arc, nearest = polyline_distance(points[near], curve)
        t = (arc - start) / (end - start)  # 0 inner end, 1 tail: the hairs' frame
        length = (end - start) * _arc_length(curve)
        below = nearest[:, 1] - points[near, 1]  # > 0 under the arc
        keep = (dist < 0.2) & (below > -BROW_REACH) & (below < identity.brow_thickness * 1.2 + BROW_REACH)
        near, t, below = near[keep], t[keep], below[keep]
        thick = brow_thickness_at(t, identity.brow_thickness)
        band = smoothstep(-0.01, 0.01, below) * smoothstep(thick + 0.01, thick - 0.01, below) * smoothstep(0.0, 0.06, t)
        along = t * length
        bare = np.ones(len(near))
        for first in range(0, len(hairs), BROW_HAIR_CHUNK):
            h = hairs[first:first + BROW_HAIR_CHUNK]
            direction = np.stack([np.cos(h[:, 2]), -np.sin(h[:, 2])], 1)  # (along, down); up is -down
            rel = np.stack([along[:, None] - h[None, :, 0] * length, below[:, None] - h[None, :, 1]], -1)
            u = np.clip(np.einsum("nhc,hc->nh", rel, direction) / h[None, :, 3], 0.0, 1.0)
            off = rel - u[..., None] * h[None, :, 3, None] * direction[None]
            stroke = np.exp(-0.5 * np.sum(off**2, -1) / width**2) * (1.0 - 0.6 * u) * h[None, :, 4]
            bare *= np.prod(1.0 - stroke, axis=1)
        out[near] = np.clip(BROW_SHADOW * band * identity.brow_density + (1.0 - bare), 0.0, 1.0)
    return out


def _lids(points: np.ndarray, lm: np.ndarray, upper_width: float, lower_width: float) -> np.ndarray:
    """(N,) lash-line opacity along the upper lids (and fainter along the lower lids), none in the
    inner corners; the lower lashes thin out again towards the outer corner."""
    out = np.zeros(len(points))
    for lids, width, strength, start in ((UPPER_LIDS, upper_width, 1.0, UPPER_LASH_START),
                                         (LOWER_LIDS, lower_width, 0.5, LOWER_LASH_START)):
        for ids in lids:
            line = lm[list(ids)]
            near = np.flatnonzero(np.linalg.norm(points - line.mean(0), axis=1) < 0.35)
            dist, t, _ = polyline_distance(points[near], line)
            taper = smoothstep(*start, t) * (smoothstep(1.0, 0.8, t) if strength < 1 else 1.0)
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
        return surface_noise(p, feature_size, seed)

    colour = np.broadcast_to(np.asarray(skin_tone, np.float64), (n, 3)).copy() if base is None \
        else base.reshape(-1, 3)[layout.texels].astype(np.float64)

    # Melanin and haemoglobin: blotches, cheeks, nose, eye surrounds, freckles, blemishes.
    melanin = identity.skin_variation * 0.35 * (fbm(p, 4.0, 4, seed + 1, nyq) - 0.5)
    cheeks = sum(_gauss(p, 0.5 * (lm[i] + lm[j]) + np.array([s * 0.08, 0.02, 0.0]), 0.16)
                 for i, j, s in ((41, 48, -1), (46, 54, 1)))
    blood = identity.blush * (0.22 * cheeks + 0.15 * _gauss(p, lm[30], 0.08))
    blood += identity.skin_variation * MOTTLING * (fbm(p, MOTTLING_FREQUENCY, 3, seed + 3, nyq) - 0.5)
    blood += identity.makeup_blush * 0.25 * cheeks
    blood += EAR_FLUSH * (0.5 + 0.5 * identity.blush) * sum(_gauss(p, lm[i] + EAR_OFFSET * [s, 1, 1], EAR_RADIUS) for i, s in ((0, -1), (16, 1)))
    melanin += 0.18 * sum(_gauss(p, lm[list(ids)].mean(0) + np.array([0, -0.06, 0]), 0.07) for ids in LOWER_LIDS)
    if identity.freckles:
        spots = detail(FRECKLE_SIZE, seed + 5)
        area = _gauss(p, lm[29], 0.3)
        melanin += 0.9 * smoothstep(2.4 - 0.8 * identity.freckles, 2.8 - 0.8 * identity.freckles, spots) * area
    blemish = detail(BLEMISH_SIZE, seed + 7)
    blood += 0.5 * smoothstep(3.2, 3.6, blemish) * (p[:, 2] > -0.3)
    colour *= np.exp(-(melanin[:, None] * MELANIN_ABSORPTION + blood[:, None] * BLOOD_ABSORPTION))

    # Pores (pits), fine wrinkles on the forehead, and the nasolabial folds.
    # Pores are fainter on the neck (their depth fades below the jaw).
    pore_depth = identity.pores * (1.0 - NECK_PORE_FADE * smoothstep(lm[8, 1] - 0.05, lm[8, 1] - 0.2, p[:, 1]))
    pores = detail(PORE_SIZE, seed + 13)
    height = -PORE_RELIEF * pore_depth * smoothstep(0.5, 1.8, pores)
    colour *= (1.0 - 0.06 * pore_depth * smoothstep(0.8, 2.0, pores))[:, None]
    brow_y = lm[17:27, 1].mean()
    forehead = (smoothstep(brow_y + 0.08, brow_y + 0.14, p[:, 1]) * smoothstep(brow_y + 0.45, brow_y + 0.3, p[:, 1])
                * smoothstep(0.45, 0.25, np.abs(p[:, 0])))
    # Forehead lines: a few soft, wavy furrows that break up across the brow, not ruled lines.
    lined = np.flatnonzero(forehead > 0)
    wobble = FOREHEAD_LINE_WOBBLE * (fbm(p[lined], 4.0, 2, seed + 17, nyq) - 0.5)
    phase = np.mod((p[lined, 1] + wobble) / FOREHEAD_LINE_SPACING, 1.0)
    broken = smoothstep(0.35, 0.65, fbm(p[lined] * np.array([1.0, 3.0, 1.0]), 3.0, 2, seed + 43, nyq))
    creases = np.zeros(n)
    creases[lined] = np.exp(-0.5 * ((phase - 0.5) / FOREHEAD_LINE_WIDTH) ** 2) * forehead[lined] * broken
    for wing, corner, s in ((31, 48, -1), (35, 54, 1)):
        line = np.stack([lm[wing] + np.array([s * 0.04, 0.0, 0.0]), lm[corner] + np.array([s * 0.06, -0.06, 0.0])])
        dist, t, _ = polyline_distance(p, line)
        creases += 0.8 * np.exp(-0.5 * (dist / 0.012) ** 2) * smoothstep(0.0, 0.2, t) * smoothstep(1.0, 0.7, t)
    age = identity.wrinkles**2  # most faces are smooth; a few are lined
    height -= 1.2 * age * creases
    colour *= (1.0 - 0.08 * age * creases)[:, None]
    t_zone = np.clip(_gauss(p, lm[30] + np.array([0.0, 0.08, 0.0]), 0.1) + forehead * smoothstep(0.3, 0.1, np.abs(p[:, 0])), 0.0, 1.0)
    roughness = SKIN_ROUGHNESS - OILY_SHINE * identity.skin_shine * t_zone

    # Stubble: dark dots and a grey-blue shadow where a beard grows.
    lips = lip_mask(p, lm)
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
            lip_tone = NATURAL_LIP_SHARE * lip_tone + (1 - NATURAL_LIP_SHARE) * colour[on] * LIP_SKIN_TINT
        w = lips[on]
        colour[on] = colour[on] * (1 - w[:, None]) + w[:, None] * lip_tone
        roughness[on] = roughness[on] * (1 - w) + w * (LIP_ROUGHNESS - 0.2 * identity.lip_gloss)
        height[on] += w * 0.3 * (lattice_noise(p[on] * np.array([60.0, 6.0, 60.0]), seed + 29) - 0.5)
    colour *= mouth_shading(p, lm, lips, layout.texel_size)[:, None]
    height += philtrum(p, lm)

    # Nostrils: dark openings under the tip, seen from the front as two shadowed ovals.
    for wing in (32, 34):
        centre = lm[wing] + NOSTRIL_OFFSET * np.array([np.sign(lm[wing, 0]), 1.0, 1.0])
        nostril = np.exp(-0.5 * np.sum(((p - centre) / NOSTRIL_RADII) ** 2, axis=1))
        colour *= (1.0 - NOSTRIL_DARKNESS * nostril)[:, None]
    # The upper lid's fold: a soft shadowed crease above each lash line.
    for ids in UPPER_LIDS:
        line = lm[list(ids)] + np.array([0.0, LID_CREASE_HEIGHT, 0.0])
        near = np.flatnonzero(np.linalg.norm(p - line.mean(0), axis=1) < 0.3)
        dist, t, _ = polyline_distance(p[near], line)
        fold = np.exp(-0.5 * (dist / LID_CREASE_WIDTH) ** 2) * smoothstep(-0.1, 0.25, t) * smoothstep(1.1, 0.75, t)
        colour[near] *= (1.0 - LID_CREASE_DARKNESS * fold)[:, None]
        height[near] -= 0.8 * fold

    # Brows and lash lines.
    brows = brow_opacity(identity, p, lm, layout.texel_size)
    colour = colour * (1 - brows[:, None]) + brows[:, None] * np.asarray(identity.brow_colour)
    height += 0.6 * brows
    lash = _lids(p, lm, LASH_WIDTH * (1 + 1.5 * identity.eyeliner), LOWER_LASH_WIDTH * (1 + identity.eyeliner))
    lash_alpha = lash * identity.lash_darkness
    colour = colour * (1 - lash_alpha[:, None]) + lash_alpha[:, None] * np.asarray(identity.hair_colour) * 0.3

    # Scalp hair: colour with strands running down from the crown.
    hair = hair_coverage(identity, p, layout, fray=True)
    if hair.any():
        strands = (0.5 * lattice_noise(strand_coordinates(p, layout.centre, HAIR_STRANDS_ACROSS), seed + 31)
                   + 0.5 * np.clip(0.5 + 0.2 * detail(HAIR_FIBRE_SIZE, seed + 37), 0, 1))
        shade = 0.55 + 0.9 * strands
        if identity.hair_style == "buzz":  # skin shows through clipped hair
            hair = hair * (0.55 + 0.35 * smoothstep(-0.5, 0.8, detail(HAIR_FIBRE_SIZE, seed + 41)))
        colour = colour * (1 - hair[:, None]) + hair[:, None] * np.asarray(identity.hair_colour) * shade[:, None]
        roughness = roughness * (1 - hair) + hair * HAIR_ROUGHNESS
        height += hair * 1.5 * strands

    return _to_maps(layout, colour, height, roughness, hair)


def _to_maps(layout: TexelLayout, colour: np.ndarray, height: np.ndarray, roughness: np.ndarray, hair: np.ndarray) -> SkinMaps:
    """Scatter per-texel values into S x S maps; uncovered texels take the mean (no seams in mips)."""
    size = layout.size

    def scatter(values: np.ndarray, channels: int) -> np.ndarray:
        values = values.reshape(len(values), channels)
        out = np.empty((size * size, channels), np.float32)
        out[:] = values.mean(0)
        out[layout.texels] = values
        return out.reshape(size, size, channels) if channels > 1 else out.reshape(size, size)

    return SkinMaps(albedo=np.clip(scatter(colour, 3), 0.0, 1.0), height=scatter(height, 1), roughness=scatter(roughness, 1),
                    hair=scatter(hair, 1))
