"""Procedural eyeglasses, pure numpy: two rims, a bridge, two temples (tubes) and two lenses.

The topology is fixed (only positions change), so the renderer builds the object once and moves
its vertices per sample. Geometry is built in a glasses frame (x from the right eye to the left,
y up, z forward) and placed from the eye joints and the head's rotation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rigid import facing_frame

RIM_SEGMENTS = 48
TUBE_SEGMENTS = 8
TEMPLE_SEGMENTS = 12


@dataclass(frozen=True)
class GlassesStyle:
    """Metres. Lenses sit `lens_offset` in front of the eye centres."""

    lens_half_width: float = 0.024
    lens_half_height: float = 0.018
    rim_radius: float = 0.0014
    lens_offset: float = 0.020
    temple_length: float = 0.095
    temple_spread: float = 0.012


def _tube(path: np.ndarray, radius: float, closed: bool) -> tuple[np.ndarray, np.ndarray]:
    """A tube of TUBE_SEGMENTS sides along path (P, 3): vertices (P*S, 3), faces."""
    n = len(path)
    tangent = np.gradient(path, axis=0) if not closed else np.roll(path, -1, 0) - np.roll(path, 1, 0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    ref = np.where(np.abs(tangent[:, 1:2]) < 0.9, np.array([[0.0, 1.0, 0.0]]), np.array([[1.0, 0.0, 0.0]]))
    side = np.cross(tangent, ref)
    side /= np.linalg.norm(side, axis=1, keepdims=True)
    up = np.cross(side, tangent)
    angles = 2 * np.pi * np.arange(TUBE_SEGMENTS) / TUBE_SEGMENTS
    verts = (path[:, None] + radius * (np.cos(angles)[None, :, None] * side[:, None] + np.sin(angles)[None, :, None] * up[:, None]))
    faces = []
    rings = n if closed else n - 1
    for r in range(rings):
        r2 = (r + 1) % n
        for s in range(TUBE_SEGMENTS):
            s2 = (s + 1) % TUBE_SEGMENTS
            a, b, c, d = r * TUBE_SEGMENTS + s, r * TUBE_SEGMENTS + s2, r2 * TUBE_SEGMENTS + s2, r2 * TUBE_SEGMENTS + s
            faces += [[a, b, c], [a, c, d]]
    return verts.reshape(-1, 3), np.asarray(faces, np.int64)


def _disc(center: np.ndarray, hx: float, hy: float) -> tuple[np.ndarray, np.ndarray]:
    t = 2 * np.pi * np.arange(RIM_SEGMENTS) / RIM_SEGMENTS
    ring = center + np.stack([hx * np.cos(t), hy * np.sin(t), np.zeros_like(t)], -1)
    verts = np.concatenate([center[None], ring])
    faces = np.stack([np.zeros(RIM_SEGMENTS, np.int64), 1 + np.arange(RIM_SEGMENTS), 1 + (np.arange(RIM_SEGMENTS) + 1) % RIM_SEGMENTS], 1)
    return verts, faces


def glasses_local(eye_distance: float, style: GlassesStyle = GlassesStyle()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Glasses in their own frame (origin between the eyes). Returns vertices (G, 3), faces
    (K, 3) and a per-face part id (K,): 0 frame, 1 lens."""
    offset = 0
    verts_all, faces_all, ids = [], [], []

    def add(v, f, part):
        nonlocal offset
        verts_all.append(v)
        faces_all.append(f + offset)
        ids.append(np.full(len(f), part))
        offset += len(v)

    t = 2 * np.pi * np.arange(RIM_SEGMENTS) / RIM_SEGMENTS
    half = 0.5 * eye_distance
    for side in (1.0, -1.0):
        c = np.array([side * half, 0.0, style.lens_offset])
        rim = c + np.stack([style.lens_half_width * np.cos(t), style.lens_half_height * np.sin(t), np.zeros_like(t)], -1)
        add(*_tube(rim, style.rim_radius, closed=True), 0)
        add(*_disc(c, style.lens_half_width, style.lens_half_height), 1)
        outer = c + np.array([side * style.lens_half_width, 0.25 * style.lens_half_height, 0.0])
        s = np.linspace(0.0, 1.0, TEMPLE_SEGMENTS)[:, None]
        temple = outer + s * np.array([side * style.temple_spread, 0.0, -style.temple_length])
        add(*_tube(temple, 0.8 * style.rim_radius, closed=False), 0)
    inner = [np.array([side * (half - style.lens_half_width), 0.3 * style.lens_half_height, style.lens_offset]) for side in (1.0, -1.0)]
    s = np.linspace(0.0, 1.0, TEMPLE_SEGMENTS)[:, None]
    bridge = inner[1] + s * (inner[0] - inner[1]) + np.array([0.0, 0.004, 0.004]) * np.sin(np.pi * s)
    add(*_tube(bridge, 0.8 * style.rim_radius, closed=False), 0)
    return np.concatenate(verts_all), np.concatenate(faces_all), np.concatenate(ids)


def place_glasses(local: np.ndarray, left_eye: np.ndarray, right_eye: np.ndarray, head_rotation: np.ndarray) -> np.ndarray:
    """World positions (G, 3) of glasses built by glasses_local for eyes at left_eye / right_eye
    (world, (3,)) on a head rotated by head_rotation (3, 3)."""
    return local @ facing_frame(right_eye, left_eye, head_rotation).T + 0.5 * (left_eye + right_eye)
