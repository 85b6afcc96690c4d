"""Where every texel of an S x S UV texture sits on the neutral template, in a face frame.

The face frame makes painting independent of the head model's scale and topology: origin between
the eyes, x towards the subject's left, y up, z forward, one unit = brow-to-chin distance. The
same painter then serves the stand-in and FLAME (any model with a UV layout and landmarks).
UV convention as in pipeline.fitting.texture: texel (row i, col j) sits at u = (j + 0.5) / S,
v = 1 - (i + 0.5) / S.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fitting.raster import rasterize
from ..fitting.texture import surface_points


@dataclass(frozen=True)
class TexelLayout:
    """size S; texels (N,) flat indices of the skin texels; points (N, 3) and vertex_points (V, 3)
    in the face frame; landmarks (68, 3) in the face frame; centre (3,) of the cranium (azimuths
    are taken about its vertical axis); texel_size: mean texel spacing in face units."""

    size: int
    texels: np.ndarray
    points: np.ndarray
    vertex_points: np.ndarray
    landmarks: np.ndarray
    centre: np.ndarray
    texel_size: float
    unit_m: float  # metres per face unit

    @property
    def nyquist(self) -> float:
        """Highest noise frequency (cycles per face unit) the texture holds without aliasing."""
        return 0.5 / self.texel_size


def face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """landmarks (68, 3) neutral template -> origin (3,) between the eyes, unit (brow-to-chin, m)."""
    eyes = 0.5 * (landmarks[36:42].mean(0) + landmarks[42:48].mean(0))
    unit = float(np.linalg.norm(landmarks[17:27].mean(0) - landmarks[8]))
    return eyes, unit


def build_layout(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, uv_faces: np.ndarray,
                 landmarks: np.ndarray, skin_faces: np.ndarray, size: int) -> TexelLayout:
    """vertices (V, 3) neutral template; faces (F, 3); uv (T, 2), uv_faces (F, 3); landmarks (68, 3)
    on the template; skin_faces (F,) bool (eyeballs excluded) -> TexelLayout."""
    origin, unit = face_frame(landmarks)
    xy = np.stack([uv[:, 0] * size - 0.5, (1.0 - uv[:, 1]) * size - 0.5], -1)
    skin = np.flatnonzero(skin_faces)
    face, bary = rasterize(xy, uv_faces[skin], size, size)
    covered = face >= 0
    points = (surface_points(vertices, faces[skin], face[covered], bary[covered]) - origin) / unit
    vertex_points = (vertices - origin) / unit
    skin_vertices = np.unique(faces[skin])
    lo, hi = vertex_points[skin_vertices].min(0), vertex_points[skin_vertices].max(0)
    tri = vertex_points[faces[skin]]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
    return TexelLayout(
        size=size, texels=np.flatnonzero(covered), points=points, vertex_points=vertex_points,
        landmarks=(landmarks - origin) / unit, centre=np.array([0.0, 0.5 * (lo[1] + hi[1]), 0.5 * (lo[2] + hi[2])]),
        texel_size=float(np.sqrt(area / max(covered.sum(), 1))), unit_m=unit,
    )
