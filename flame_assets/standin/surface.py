"""Geometry of the stand-in head: a superellipsoid cranium, a tapered jaw, a neck tube and facial
relief (brow ridge, nose, cheekbones, lips, chin, ears) added along the surface normal."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import HeadSpec, gaussian2d, smoothstep


@dataclass(frozen=True)
class Relief:
    """A bump of `height` metres (negative = dent) centred at (x, y) on the face, mirrored if asked."""

    x: float
    y: float
    sigma_x: float
    sigma_y: float
    height: float
    mirrored: bool = False


# The face, as a list of named bumps: easy to read and to tune.
FACE_RELIEF: dict[str, Relief] = {
    "brow_ridge": Relief(0.030, 0.024, 0.020, 0.007, 0.0045, mirrored=True),
    "glabella": Relief(0.0, 0.021, 0.010, 0.008, 0.0035),
    "temple": Relief(0.064, 0.030, 0.012, 0.018, -0.0030, mirrored=True),
    "cheekbone": Relief(0.046, -0.010, 0.014, 0.012, 0.0055, mirrored=True),
    "cheek_hollow": Relief(0.046, -0.045, 0.012, 0.014, -0.0025, mirrored=True),
    "nose_ala": Relief(0.0135, -0.037, 0.0055, 0.0055, 0.0095, mirrored=True),
    "nose_lobule": Relief(0.0, -0.0345, 0.0055, 0.0050, 0.0035),  # the rounded tip
    "philtrum": Relief(0.0, -0.048, 0.006, 0.006, 0.0030),
    "upper_lip": Relief(0.0, -0.0560, 0.019, 0.0045, 0.0055),
    "lower_lip": Relief(0.0, -0.0675, 0.017, 0.0055, 0.0060),
    "mouth_corner": Relief(0.0265, -0.0615, 0.005, 0.005, -0.0030, mirrored=True),
    "lip_line": Relief(0.0, -0.0615, 0.015, 0.0013, -0.0035),
    "labiomental_fold": Relief(0.0, -0.0790, 0.014, 0.0040, -0.0030),
    "chin": Relief(0.0, -0.0925, 0.016, 0.0095, 0.0065),
}
NOSE_BRIDGE_TOP = (0.004, 0.0045)  # (y, height) where the ridge starts between the eyes
NOSE_TIP = (-0.034, 0.0225)  # (y, height) of the tip
NOSE_HALF_WIDTH = (0.0055, 0.0072)  # Gaussian sigma at the bridge and at the tip
NOSE_UNDERSIDE = 0.0060  # how fast the tip falls back to the lip
EAR = dict(y=-0.008, z=-0.010, sigma_y=0.016, sigma_z=0.010, height=0.004)  # the mound the ear (ears.py) grows from
CHIN_SPAN_Y = (-0.066, -0.090)  # the chin comes forward from under the lower lip to its lowest row
CHIN_HALF_WIDTH = 0.034  # Gaussian sigma across the chin and the front of the jaw
JAW_UNDERSIDE_COS = (-0.1, 0.35)  # cos(azimuth) over which the underside of the jaw fades out towards the nape
NECK_BLEND_END, SUBMENTAL_BLEND_END = 0.8, 0.4  # share of the neck over which the skin reaches the tube
FRONT_FADE = (0.02, 0.06)  # relief fades in over this z range, so the back of the head stays smooth


def superellipsoid_point(theta: np.ndarray, phi: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(V, 3) points of the cranium along the directions (theta, phi)."""
    d = np.stack([np.sin(phi) * np.sin(theta), np.cos(phi), np.sin(phi) * np.cos(theta)], -1)
    p = spec.superellipse_power
    radii = np.array([spec.half_width, spec.half_height, spec.half_depth])
    r = np.sum(np.abs(d / radii) ** p, -1) ** (-1.0 / p)
    return d * r[:, None]


def superellipsoid_normal(points: np.ndarray, spec: HeadSpec) -> np.ndarray:
    p = spec.superellipse_power
    radii = np.array([spec.half_width, spec.half_height, spec.half_depth])
    g = np.sign(points) * np.abs(points / radii) ** (p - 1) / radii
    return g / np.linalg.norm(g, axis=-1, keepdims=True)


def front_point(x: float, y: float, spec: HeadSpec) -> tuple[float, float]:
    """(theta, phi) of the cranium point in front of the face at (x, y), before relief."""
    p = spec.superellipse_power
    rest = 1.0 - abs(x / spec.half_width) ** p - abs(y / spec.half_height) ** p
    z = spec.half_depth * rest ** (1.0 / p)
    norm = np.sqrt(x * x + y * y + z * z)
    return float(np.arctan2(x, z)), float(np.arccos(y / norm))


def _taper_jaw(points: np.ndarray, spec: HeadSpec) -> np.ndarray:
    out = points.copy()
    out[:, 0] *= 1.0 - spec.jaw_taper * smoothstep(-0.015, -0.100, points[:, 1])
    return out


def _neck(theta: np.ndarray, s: np.ndarray, top: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """Blend from the under-jaw ring `top` (V, 3) to the neck tube, s in [0, 1] down the neck.
    Under the jaw (front and sides, not the nape) the surface first runs back to the throat nearly
    level, the underside of chin and jaw, and only then drops: the jaw line reads as an edge."""
    under_jaw = smoothstep(*JAW_UNDERSIDE_COS, np.cos(theta))
    top_y = np.minimum(top[:, 1], -0.06)
    y = top_y + (spec.neck_bottom_y - top_y) * s ** (1.0 + spec.submental_flatness * under_jaw)
    tube = np.stack([spec.neck_half_width * np.sin(theta), y,
                     spec.neck_center_z + spec.neck_half_depth * np.cos(theta)], -1)
    w = smoothstep(0.0, NECK_BLEND_END - (NECK_BLEND_END - SUBMENTAL_BLEND_END) * under_jaw, s)[:, None]
    return (1.0 - w) * top + w * tube


def _chin_forward(points: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(V,) forward shift of the chin and the front of the jaw below the lower lip (metres)."""
    x, y = points[:, 0], points[:, 1]
    return spec.chin_forward * smoothstep(CHIN_SPAN_Y[0], CHIN_SPAN_Y[1], y) * np.exp(-0.5 * (x / CHIN_HALF_WIDTH) ** 2)


def face_relief(points: np.ndarray) -> np.ndarray:
    """(V,) signed height of the facial relief at each point (metres along the normal)."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    h = np.zeros(len(points))
    for bump in FACE_RELIEF.values():
        for sx in ((1.0, -1.0) if bump.mirrored else (1.0,)):
            h += bump.height * gaussian2d(x, y, sx * bump.x, bump.y, bump.sigma_x, bump.sigma_y)
    # Nose: a ridge whose height and width grow from the bridge to the tip, then falls to the lip.
    (y0, h0), (y1, h1) = NOSE_BRIDGE_TOP, NOSE_TIP
    t = np.clip((y0 - y) / (y0 - y1), 0.0, 1.0)
    ridge_h = h0 + (h1 - h0) * t**1.4
    ridge_w = NOSE_HALF_WIDTH[0] + (NOSE_HALF_WIDTH[1] - NOSE_HALF_WIDTH[0]) * t
    along = np.where(y > y0, np.exp(-0.5 * ((y - y0) / 0.006) ** 2),
                     np.where(y < y1, np.exp(-0.5 * ((y - y1) / NOSE_UNDERSIDE) ** 2), 1.0))
    h += ridge_h * along * np.exp(-0.5 * (x / ridge_w) ** 2)
    return h * smoothstep(FRONT_FADE[0], FRONT_FADE[1], z)


def ear_mound(points: np.ndarray) -> np.ndarray:
    y, z = points[:, 1], points[:, 2]
    side = smoothstep(0.045, 0.065, np.abs(points[:, 0]))
    return EAR["height"] * side * np.exp(-0.5 * (((y - EAR["y"]) / EAR["sigma_y"]) ** 2 + ((z - EAR["z"]) / EAR["sigma_z"]) ** 2))


def eye_centers(spec: HeadSpec) -> np.ndarray:
    """(2, 3) eyeball centres [left, right]: the cornea sits just in front of the relief surface."""
    theta, phi = front_point(spec.eye_center_x, spec.eye_center_y, spec)
    base = superellipsoid_point(np.array([theta]), np.array([phi]), spec)
    surface_z = base[0, 2] + face_relief(base)[0]
    z = surface_z - spec.eyeball_radius + spec.eyeball_protrusion
    return np.array([[spec.eye_center_x, spec.eye_center_y, z], [-spec.eye_center_x, spec.eye_center_y, z]])


def _wrap_eye_sockets(points: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """Pull the skin around each eye onto a sphere just outside the eyeball: lids and a socket."""
    out = points.copy()
    lid_radius = spec.eyeball_radius + spec.lid_thickness
    for center in eye_centers(spec):
        dx = (points[:, 0] - center[0]) / spec.eye_socket_half_width
        dy = (points[:, 1] - center[1]) / spec.eye_socket_half_height
        in_front = smoothstep(center[2] - 0.004, center[2] + 0.002, points[:, 2])
        w = np.exp(-(dx**2 + dy**2) ** 2) * in_front
        offset = out - center
        on_sphere = center + lid_radius * offset / np.linalg.norm(offset, axis=1, keepdims=True)
        out = out + w[:, None] * (on_sphere - out)
    return out


def head_surface(theta: np.ndarray, phi: np.ndarray, neck: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(V, 3) skin positions for grid parameters theta, phi (V,) and neck position (V,) in [0, 1]."""
    on_head = neck == 0
    # The skull meets the neck higher at the back (the nape) than under the chin.
    lift = 1.0 - spec.nape_lift * 0.5 * (1.0 - np.cos(theta)) * smoothstep(1.5, spec.jaw_polar_angle, phi)
    base = superellipsoid_point(theta, np.where(on_head, phi, spec.jaw_polar_angle) * lift, spec)
    normal = superellipsoid_normal(base, spec)
    tapered = _taper_jaw(base, spec)
    skin = tapered + (face_relief(base) + ear_mound(base))[:, None] * normal
    skin[:, 2] += _chin_forward(base, spec)
    skin = _wrap_eye_sockets(skin, spec)
    return np.where(on_head[:, None], skin, _neck(theta, neck, skin, spec))
