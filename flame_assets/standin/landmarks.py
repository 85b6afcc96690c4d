"""The stand-in's 68-point landmark embedding, in FLAME's two files: 51 static points (iBUG
17-67) and a contour look-up table (iBUG 0-16) for yaw -39..39 degrees.

Static points sit on vertices: eye and inner-lip points on the slit edges (so they follow lids and
lips), the rest at named positions on the face. Contour points are the outline of the jaw as seen
at each yaw: the extreme vertex in 17 directions around the lower face.
"""
from __future__ import annotations

import numpy as np

from ..assets import CONTOUR_MAX_YAW_DEG, N_CONTOUR_LANDMARKS, N_YAW_BINS
from .geometry import Template
from .spec import HeadSpec

# (x, y) targets on the subject's right (-x) for points that are mirrored, iBUG order.
RIGHT_BROW = [(-0.050, 0.021), (-0.042, 0.027), (-0.033, 0.030), (-0.024, 0.029), (-0.015, 0.026)]  # 17-21
NOSE_RIDGE = [(0.0, 0.004), (0.0, -0.008), (0.0, -0.020), (0.0, -0.032)]  # 27-30
NOSE_BASE = [(-0.012, -0.039), (-0.006, -0.041), (0.0, -0.042), (0.006, -0.041), (0.012, -0.039)]  # 31-35
OUTER_UPPER_LIP = [(-0.017, -0.0575), (-0.007, -0.0555), (0.0, -0.0560), (0.007, -0.0555), (0.017, -0.0575)]  # 49-53
OUTER_LOWER_LIP = [(0.017, -0.0660), (0.007, -0.0690), (0.0, -0.0700), (-0.007, -0.0690), (-0.017, -0.0660)]  # 55-59
SLIT_FRACTIONS = (-1 / 3, 1 / 3)  # eye points 37/38 etc. sit at thirds of the slit
LIP_SLIT_FRACTIONS = (-0.5, 0.0, 0.5)
FRONT_Z = 0.04  # static targets are searched among vertices in front of this depth


def _slit_vertex(template: Template, slit_name: str, fraction: float, lower: bool) -> int:
    """Vertex on a slit edge at `fraction` in [-1, 1] from the low-theta corner to the high one."""
    grid = template.grid
    slit = grid.slit(slit_name)
    col = int(round(slit.col_lo + 0.5 * (fraction + 1.0) * (slit.col_hi - slit.col_lo)))
    if col in (slit.col_lo, slit.col_hi):
        lower = False  # corners have one vertex
    match = (grid.row == slit.row) & (grid.col == col) & (grid.lower_copy == lower)
    return int(np.flatnonzero(match)[0])


def _nearest_front(template: Template, xy: tuple[float, float], allowed: np.ndarray) -> int:
    skin = template.vertices[: template.grid.n_vertices]
    cand = np.flatnonzero(allowed & (skin[:, 2] > FRONT_Z))
    d = np.linalg.norm(skin[cand, :2] - np.asarray(xy), axis=1) - 1e-3 * skin[cand, 2]  # prefer the outermost
    return int(cand[np.argmin(d)])


def static_landmark_vertices(template: Template) -> np.ndarray:
    """(51,) vertex index of iBUG points 17..67."""
    grid = template.grid
    n = grid.n_vertices
    every = np.ones(n, bool)
    mouth = grid.slit("mouth")
    upper_side = ~grid.lower_copy & (grid.phi <= grid.row_phi[mouth.row])
    lower_side = ~upper_side
    brow_r = [_nearest_front(template, p, every) for p in RIGHT_BROW]
    brow_l = [_nearest_front(template, (-x, y), every) for x, y in reversed(RIGHT_BROW)]
    nose = [_nearest_front(template, p, every) for p in NOSE_RIDGE + NOSE_BASE]
    eyes = []
    # Right eye: outer corner (low theta), upper thirds, inner corner, lower thirds (clockwise in
    # the image). The left eye starts at its inner corner (low theta as well).
    for name in ("right_eye", "left_eye"):
        upper = [_slit_vertex(template, name, f, False) for f in SLIT_FRACTIONS]
        lower = [_slit_vertex(template, name, f, True) for f in reversed(SLIT_FRACTIONS)]
        eyes += [_slit_vertex(template, name, -1.0, False), *upper, _slit_vertex(template, name, 1.0, False), *lower]
    right_corner, left_corner = (_slit_vertex(template, "mouth", f, False) for f in (-1.0, 1.0))
    outer = ([right_corner] + [_nearest_front(template, p, upper_side) for p in OUTER_UPPER_LIP]
             + [left_corner] + [_nearest_front(template, p, lower_side) for p in OUTER_LOWER_LIP])
    inner = ([right_corner] + [_slit_vertex(template, "mouth", f, False) for f in LIP_SLIT_FRACTIONS]
             + [left_corner] + [_slit_vertex(template, "mouth", f, True) for f in reversed(LIP_SLIT_FRACTIONS)])
    return np.asarray(brow_r + brow_l + nose + eyes + outer + inner, np.int64)


CONTOUR_MIN_Z = -0.03  # metres


def _contour_candidates(template: Template, spec: HeadSpec) -> np.ndarray:
    """Skin vertices that may carry the jaw outline: cheeks and jaw sides, and the chin."""
    grid = template.grid
    skin = template.vertices[: grid.n_vertices]
    x, y, z = skin[:, 0], skin[:, 1], skin[:, 2]
    head = grid.neck == 0
    # No outer limit on |x|: the frontal outline (where annotators and detectors put the jaw
    # line) is the widest skin at each height, just behind z = 0.
    sides = (np.abs(x) > 0.035) & (y < spec.eye_center_y - 0.012) & (z > CONTOUR_MIN_Z)
    chin = (y < spec.mouth_y - 0.015) & (z > 0.02)
    return np.flatnonzero(head & (sides | chin))


def yaw_of_bin(k: int) -> float:
    """Head yaw (degrees, rotation about +y) served by look-up-table row k, as smplx indexes it."""
    return -float(k) if k <= CONTOUR_MAX_YAW_DEG else float(k - CONTOUR_MAX_YAW_DEG)


def contour_vertices(template: Template, spec: HeadSpec) -> np.ndarray:
    """(79, 17) vertex index of contour points 0..16 for each yaw bin."""
    cand = _contour_candidates(template, spec)
    pts = template.vertices[cand]
    angles = np.deg2rad(180.0 + np.arange(N_CONTOUR_LANDMARKS) * 180.0 / (N_CONTOUR_LANDMARKS - 1))  # image-left, down, image-right
    directions = np.stack([np.cos(angles), np.sin(angles)], -1)
    table = np.zeros((N_YAW_BINS, N_CONTOUR_LANDMARKS), np.int64)
    for k in range(N_YAW_BINS):
        a = np.deg2rad(yaw_of_bin(k))
        rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        xy = (pts @ rot.T)[:, :2]
        for j, d in enumerate(directions):
            side = np.ones(len(cand), bool)
            if j < 8:
                side = pts[:, 0] < 0.0
            elif j > 8:
                side = pts[:, 0] > 0.0
            score = np.where(side, xy @ d, -np.inf)
            table[k, j] = cand[int(np.argmax(score))]
    return table


def vertex_embedding(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Face index and barycentric coordinates that put a landmark exactly on each vertex.
    vertices: (...,) vertex indices; returns (...,) face indices and (..., 3) barycentrics."""
    first_face = np.full(faces.max() + 1, -1)
    corner = np.zeros(faces.max() + 1, np.int64)
    for c in (2, 1, 0):  # the last assignment wins: prefer corner 0 of the lowest face
        first_face[faces[::-1, c]] = np.arange(len(faces))[::-1]
        corner[faces[::-1, c]] = c
    flat = np.asarray(vertices).ravel()
    f = first_face[flat]
    bary = np.zeros((flat.size, 3))
    bary[np.arange(flat.size), corner[flat]] = 1.0
    shape = np.asarray(vertices).shape
    return f.reshape(shape), bary.reshape(*shape, 3)
