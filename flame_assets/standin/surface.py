"""Geometry of the stand-in head: a superellipsoid cranium and a tapered jaw from which rays carry
the skin onto a real human head (onto_human.py), lids pulled onto the eyeballs, the mound the ears
grow from, and a neck tube."""
from __future__ import annotations

import numpy as np

from . import human
from .spec import HeadSpec, smoothstep

# MakeHuman's head is pinched at the height of the ear tops (13.1 cm across, against 14.8 cm at the
# widest): the sides are filled out along the rays there, fading in as the rays turn sideways.
TEMPLES = dict(y=0.030, sigma_y=0.020, height=0.0065, sideways=(0.55, 0.9))
EAR = dict(y=-0.008, z=-0.010, sigma_y=0.016, sigma_z=0.010, height=0.004)  # the mound the ear (ears.py) grows from
JAW_UNDERSIDE_COS = (-0.1, 0.35)  # cos(azimuth) over which the underside of the jaw fades out towards the nape
NECK_BLEND_END, SUBMENTAL_BLEND_END = 0.8, 0.4  # share of the neck over which the skin reaches the tube
FORWARD_RAYS = (0.35, 0.75)  # the cranium normal's forward share over which rays turn to straight ahead
FORWARD_RAYS_BOTTOM_Y = (-0.085, -0.065)  # metres: below the lower lip rays turn back to the normal, to reach under the chin


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


def neck_surface(theta: np.ndarray, s: np.ndarray, top: np.ndarray, spec: HeadSpec) -> np.ndarray:
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


def ear_mound(points: np.ndarray) -> np.ndarray:
    y, z = points[:, 1], points[:, 2]
    side = smoothstep(0.045, 0.065, np.abs(points[:, 0]))
    return EAR["height"] * side * np.exp(-0.5 * (((y - EAR["y"]) / EAR["sigma_y"]) ** 2 + ((z - EAR["z"]) / EAR["sigma_z"]) ** 2))


def temple_fill(points: np.ndarray, rays: np.ndarray) -> np.ndarray:
    """(V,) metres the skin moves out along rays (V, 3) from points (V, 3): a band round the sides
    at the height of the ear tops, nothing on the face (whose rays point forward)."""
    band = np.exp(-0.5 * ((points[:, 1] - TEMPLES["y"]) / TEMPLES["sigma_y"]) ** 2)
    return TEMPLES["height"] * band * smoothstep(*TEMPLES["sideways"], np.abs(rays[:, 0]))


def eye_centers(spec: HeadSpec) -> np.ndarray:
    """(2, 3) eyeball centres [left, right]: at the layout's eye positions, the cornea where the
    human head's own eye has it."""
    front_z = human.human_head(spec).eye_fronts[:, 2].mean()
    z = front_z - spec.eyeball_radius
    return np.array([[spec.eye_center_x, spec.eye_center_y, z], [-spec.eye_center_x, spec.eye_center_y, z]])


def socket_weights(points: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(2, V) how far each point is pulled onto each eyeball's lid sphere [left, right]."""
    out = []
    for center in eye_centers(spec):
        dx = (points[:, 0] - center[0]) / spec.eye_socket_half_width
        dy = (points[:, 1] - center[1]) / spec.eye_socket_half_height
        in_front = smoothstep(center[2] - 0.004, center[2] + 0.002, points[:, 2])
        out.append(np.exp(-(dx**2 + dy**2) ** 2) * in_front)
    return np.array(out)


def wrap_eye_sockets(points: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """Pull the skin around each eye onto a sphere just outside the eyeball: lids and a socket."""
    out = points.copy()
    lid_radius = spec.eyeball_radius + spec.lid_thickness
    for center, w in zip(eye_centers(spec), socket_weights(points, spec)):
        offset = out - center
        on_sphere = center + lid_radius * offset / np.linalg.norm(offset, axis=1, keepdims=True)
        out = out + w[:, None] * (on_sphere - out)
    return out


def cranium(theta: np.ndarray, phi: np.ndarray, neck: np.ndarray, spec: HeadSpec) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3) points of the tapered cranium for grid parameters theta, phi (V,) (neck rows at the
    jaw's polar angle) and (V, 3) unit directions of the rays that carry them onto the human head:
    straight forward over the face, so a point keeps its place in the frontal plane (the slits and
    landmark targets are laid out there), turning to the cranium's normal round the sides and
    under the chin."""
    on_head = neck == 0
    # The skull meets the neck higher at the back (the nape) than under the chin.
    lift = 1.0 - spec.nape_lift * 0.5 * (1.0 - np.cos(theta)) * smoothstep(1.5, spec.jaw_polar_angle, phi)
    base = superellipsoid_point(theta, np.where(on_head, phi, spec.jaw_polar_angle) * lift, spec)
    normal = superellipsoid_normal(base, spec)
    forward = (smoothstep(*FORWARD_RAYS, normal[:, 2]) * smoothstep(*FORWARD_RAYS_BOTTOM_Y, base[:, 1]))[:, None]
    rays = (1.0 - forward) * normal + forward * [0.0, 0.0, 1.0]
    return _taper_jaw(base, spec), rays / np.linalg.norm(rays, axis=1, keepdims=True)
