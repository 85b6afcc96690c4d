"""Triangle-mesh math the stand-in's generator shares: vertex normals, barycentric weights and
Phong tessellation, on numpy arrays."""
from __future__ import annotations

import numpy as np

PHONG_SHAPE = 0.75  # Boubekeur and Alexa's alpha: how far the surface bulges towards the vertex normals' planes


def phong_point(weights: np.ndarray, corners: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """(V, 3) points of the Phong-tessellated triangles at barycentric weights (V, 3); corners
    and unit vertex normals (V, 3, 3)."""
    flat = np.einsum("vc,vcd->vd", weights, corners)
    offset = flat[:, None] - corners
    on_planes = flat[:, None] - np.einsum("vcd,vcd->vc", offset, normals)[..., None] * normals
    return (1.0 - PHONG_SHAPE) * flat + PHONG_SHAPE * np.einsum("vc,vcd->vd", weights, on_planes)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) area-weighted unit vertex normals."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(vertices)
    for c in range(3):
        np.add.at(vn, faces[:, c], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def barycentric(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """points (V, 3) in the planes of triangles corners (V, 3, 3) -> (V, 3) weights summing to 1."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    v0, v1, v2 = b - a, c - a, points - a
    d00, d01, d11 = (np.einsum("ij,ij->i", p, q) for p, q in ((v0, v0), (v0, v1), (v1, v1)))
    d20, d21 = np.einsum("ij,ij->i", v2, v0), np.einsum("ij,ij->i", v2, v1)
    denom = np.where(np.abs(d00 * d11 - d01**2) > 1e-30, d00 * d11 - d01**2, 1.0)
    w1, w2 = (d11 * d20 - d01 * d21) / denom, (d00 * d21 - d01 * d20) / denom
    return np.stack([1.0 - w1 - w2, w1, w2], 1)
