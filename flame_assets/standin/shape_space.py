"""Identity directions of the stand-in: 10 named proportions, then 290 smooth local variations
with decaying amplitude (as PCA components decay). One unit is about one population standard
deviation, so shape coefficients ~ N(0, 1) give plausible heads."""
from __future__ import annotations

import numpy as np

from facial.flame_layout import N_SHAPE

from .regions import Regions
from .spec import SEED, gaussian2d, smoothstep

RANDOM_BUMPS_PER_DIRECTION = 3
RANDOM_AMPLITUDE = 0.0025  # metres at the first random direction
RANDOM_DECAY = 12.0  # amplitude halves after this many directions
N_EYES = 2  # Regions.points ends with the two eye centres
EYE_FOLLOW_RADIUS = 0.008  # m: the skin whose motion an eyeball follows (lids, socket rim)
ASYMMETRIC_EVERY = 5  # every 5th random direction is asymmetric: real faces are not mirror images

NAMED_SHAPES = ("head_width", "head_height", "head_depth", "jaw_width", "lower_face_length", "nose_size",
                "nose_width", "eye_spacing", "lip_fullness", "chin_prominence")


def _named(r: Regions) -> list[np.ndarray]:
    p = r.points
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    zero = np.zeros_like(x)

    def vec(dx, dy, dz):
        return np.stack([dx + zero, dy + zero, dz + zero], -1)

    nose = gaussian2d(x, y, 0, -0.020, 0.012, 0.020) * r.front
    return [
        vec(0.065 * x, 0, 0),
        vec(0, 0.045 * np.maximum(y, 0) + 0.02 * y, 0),
        vec(0, 0, 0.05 * z),
        vec(0.08 * x * smoothstep(-0.02, -0.09, y), 0, 0),
        vec(0, 0.06 * np.minimum(y, 0) * smoothstep(-0.01, -0.05, y), 0),
        vec(0, 0, 0.004 * nose),
        vec(0.25 * x * gaussian2d(x, y, 0, -0.033, 0.015, 0.008) * r.front, 0, 0),
        vec(0.0025 * np.sign(x) * (gaussian2d(np.abs(x), y, 0.032, 0.004, 0.015, 0.014) * r.front), 0, 0),
        vec(0, 0, 0.002 * (r.upper_lip + r.lower_lip)),
        vec(0, -0.002 * gaussian2d(x, y, 0, -0.092, 0.016, 0.012) * r.front, 0.003 * gaussian2d(x, y, 0, -0.092, 0.016, 0.012) * r.front),
    ]


def shape_directions(r: Regions, normals: np.ndarray) -> np.ndarray:
    """(P, 3, 300) identity displacement per unit coefficient. normals (P, 3) outward."""
    rng = np.random.default_rng(SEED + 1)
    dirs = _named(r)
    anchors = r.points[rng.integers(0, len(r.points) - 2, size=(N_SHAPE, RANDOM_BUMPS_PER_DIRECTION))]
    sigmas = rng.uniform(0.015, 0.040, size=(N_SHAPE, RANDOM_BUMPS_PER_DIRECTION))
    signs = rng.choice([-1.0, 1.0], size=(N_SHAPE, RANDOM_BUMPS_PER_DIRECTION))
    for k in range(len(dirs), N_SHAPE):
        field = np.zeros(len(r.points))
        mirror = (k % ASYMMETRIC_EVERY) != 0
        for a, s, sg in zip(anchors[k], sigmas[k], signs[k]):
            field += sg * np.exp(-0.5 * np.sum((r.points - a) ** 2, 1) / s**2)
            if mirror:
                field += sg * np.exp(-0.5 * np.sum((r.points - a * [-1, 1, 1]) ** 2, 1) / s**2)
        field *= RANDOM_AMPLITUDE / (1.0 + (k - len(NAMED_SHAPES)) / RANDOM_DECAY) / max(np.abs(field).max(), 1e-12)
        dirs.append(_with_eyeballs(field[:, None] * normals, r.points))
    return np.stack(dirs, -1)


def _with_eyeballs(displacement: np.ndarray, points: np.ndarray) -> np.ndarray:
    """displacement (P, 3) of the skin (the last N_EYES rows, the eye centres, zero), points (P, 3)
    -> the same with each eye centre moved as the skin around it moves, so a bump that sinks or
    raises the brow and cheek takes the eyeball with it and the lids keep hugging it."""
    out = displacement.copy()
    skin = points[:-N_EYES]
    for eye in range(-N_EYES, 0):
        weight = np.exp(-0.5 * np.sum((skin - points[eye]) ** 2, axis=1) / EYE_FOLLOW_RADIUS**2)
        out[eye] = weight @ displacement[:-N_EYES] / weight.sum()
    return out

