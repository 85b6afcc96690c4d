"""Eyeballs: UV spheres with the pole (the pupil) looking forward, textured as discs in the atlas."""
from __future__ import annotations

import numpy as np

from .spec import HeadSpec


def eyeball(center: np.ndarray, spec: HeadSpec, uv_origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One eyeball: vertices (E, 3), outward faces (G, 3) indexing them, UVs (E, 2) in a square
    of side spec.uv_eye_size at uv_origin (pupil at the square's centre)."""
    rings, segments = spec.eyeball_rings, spec.eyeball_segments
    polar = np.linspace(0.0, np.pi, rings + 1)[1:-1]  # from the front pole to the back pole
    azimuth = 2.0 * np.pi * np.arange(segments) / segments
    pa, az = np.meshgrid(polar, azimuth, indexing="ij")
    ring_pts = np.stack([np.sin(pa) * np.cos(az), np.sin(pa) * np.sin(az), np.cos(pa)], -1).reshape(-1, 3)
    unit = np.concatenate([[[0.0, 0.0, 1.0]], ring_pts, [[0.0, 0.0, -1.0]]])
    vertices = center + spec.eyeball_radius * unit
    front, back = 0, len(unit) - 1

    def idx(r: int, s: int) -> int:
        return 1 + r * segments + s % segments

    faces = []
    for s in range(segments):
        faces.append([front, idx(0, s), idx(0, s + 1)])
        for r in range(rings - 2):
            faces.append([idx(r, s), idx(r + 1, s), idx(r, s + 1)])
            faces.append([idx(r, s + 1), idx(r + 1, s), idx(r + 1, s + 1)])
        faces.append([idx(rings - 2, s), back, idx(rings - 2, s + 1)])
    faces = np.asarray(faces, np.int64)
    # Fix orientation so normals point away from the centre.
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    inward = np.einsum("ij,ij->i", normal, tri.mean(1) - center) < 0
    faces[inward] = faces[inward][:, ::-1]
    # Polar projection: the front pole in the middle of the square, the equator at its edge.
    r_uv = 0.5 * np.arccos(np.clip(unit[:, 2], -1, 1)) / np.pi
    phi = np.arctan2(unit[:, 1], unit[:, 0])
    uv = np.stack([0.5 + r_uv * np.cos(phi), 0.5 + r_uv * np.sin(phi)], -1) * spec.uv_eye_size + np.asarray(uv_origin)
    return vertices, faces, uv
