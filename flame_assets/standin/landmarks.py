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


# The jaw outline follows iBUG's convention: points 0 and 16 beside the eyes, 8 at the chin, and
# the rest spread evenly along the outline between them, on the cheek in front of the ear.
CONTOUR_FRONT_Z = 0.012  # metres: in front of the ear (centre z -0.012, sigma 0.011)
CONTOUR_TOP_Y = 0.007  # metres above the eye centres where points 0 and 16 sit
CHIN_FRONT_Z = 0.02  # metres: chin candidates are on the front of the face
CHIN_BELOW_MOUTH = 0.015  # metres: chin candidates are this far below the mouth line
OUTLINE_RAYS = 64  # rays per side that trace the outline, from its top down to the chin
MIDLINE_HALF_WIDTH = 2e-3  # metres: vertices this close to x = 0 are on the midline
YAW_SMOOTHING_DEG = 3.0  # Gaussian sigma over yaw: the outline can switch between the cheekbone
# and the jaw side from one degree to the next; a fitter needs the points to slide, not jump


def _contour_candidates(template: Template, spec: HeadSpec) -> np.ndarray:
    """Skin vertices that may carry the jaw outline: cheeks and jaw sides in front of the ears,
    from the eyes' height down, and the chin."""
    grid = template.grid
    skin = template.vertices[: grid.n_vertices]
    x, y, z = skin[:, 0], skin[:, 1], skin[:, 2]
    head = grid.neck == 0
    sides = (np.abs(x) > 0.035) & (y < spec.eye_center_y + CONTOUR_TOP_Y) & (z > CONTOUR_FRONT_Z)
    chin = (y < spec.mouth_y - CHIN_BELOW_MOUTH) & (z > CHIN_FRONT_Z)
    return np.flatnonzero(head & (sides | chin))


def yaw_of_bin(k: int) -> float:
    """Head yaw (degrees, rotation about +y) served by look-up-table row k, as smplx indexes it."""
    return -float(k) if k <= CONTOUR_MAX_YAW_DEG else float(k - CONTOUR_MAX_YAW_DEG)


def menton_vertex(template: Template, candidates: np.ndarray) -> int:
    """The chin point (iBUG 8): the lowest candidate on the midline."""
    pts = template.vertices[candidates]
    midline = np.flatnonzero(np.abs(pts[:, 0]) < MIDLINE_HALF_WIDTH)
    return int(candidates[midline[np.argmin(pts[midline, 1])]])


def outline_half(xy: np.ndarray, top_y: float, chin: np.ndarray, sign: float, count: int) -> tuple[np.ndarray, np.ndarray]:
    """One side of the lower face's outline as a camera sees it, sampled at `count` points evenly
    spaced along it from the top (height top_y) to the chin, the chin excluded.

    xy (N, 2) candidate points of that side in the view (x right, y up); chin (2,) the chin point;
    sign -1 for the side at -x, +1 for +x. The outline is the farthest candidate from the centre
    (chin x, top_y) along each of OUTLINE_RAYS rays from the horizontal down to the chin (extreme
    points along directions would bunch at the outline's corners instead). Returns (count, 2)
    indices into xy of the outline points each sample lies between, and (count,) the fraction of
    the way from the first to the second.
    """
    centre = np.array([chin[0], top_y])
    rel = xy - centre
    angle = np.arctan2(rel[:, 1], sign * rel[:, 0])  # 0: straight out to the side; -pi/2: down
    edges = np.linspace(0.0, np.arctan2(chin[1] - top_y, 0.0), OUTLINE_RAYS + 1)
    radius = np.linalg.norm(rel, axis=1)
    traced = []
    for high, low in zip(edges[:-1], edges[1:]):
        on_ray = np.flatnonzero((angle <= high) & (angle > low))
        if on_ray.size:
            traced.append(int(on_ray[np.argmax(radius[on_ray])]))
    if len(traced) < 2:
        raise ValueError(f"the jaw outline found {len(traced)} skin vertices between the eyes' height and the chin: "
                         "the head spec leaves no cheek in front of the ears (check eye_center_y and the jaw sizes)")
    path = xy[traced]
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    total = arc[-1] + np.linalg.norm(chin - path[-1])  # the outline ends at the chin
    wanted = total * np.arange(count) / count
    segment = np.clip(np.searchsorted(arc, wanted, side="right") - 1, 0, len(traced) - 2)
    fraction = np.clip((wanted - arc[segment]) / np.maximum(arc[segment + 1] - arc[segment], 1e-12), 0.0, 1.0)
    ends = np.asarray(traced)[np.stack([segment, segment + 1], 1)]
    return ends, fraction


def surface_embedding(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mesh point nearest each of `points` (P, 3), searched among the faces around its nearest
    vertex -> (P,) face index and (P, 3) barycentric coordinates (non-negative, summing to 1)."""
    used = np.unique(faces)
    face_idx, bary = np.zeros(len(points), np.int64), np.zeros((len(points), 3))
    for n, q in enumerate(points):
        nearest = used[np.argmin(np.linalg.norm(vertices[used] - q, axis=1))]
        best = np.inf
        for f in np.flatnonzero((faces == nearest).any(1)):
            a, b, c = vertices[faces[f]]
            w = np.linalg.lstsq(np.stack([b - a, c - a], 1), q - a, rcond=None)[0]
            coords = np.clip(np.array([1.0 - w.sum(), w[0], w[1]]), 0.0, None)
            coords /= coords.sum()
            dist = np.linalg.norm(coords @ vertices[faces[f]] - q)
            if dist < best:
                best, face_idx[n], bary[n] = dist, f, coords
    return face_idx, bary


def smooth_over_yaw(points: np.ndarray, sigma_deg: float = YAW_SMOOTHING_DEG) -> np.ndarray:
    """(79, 17, 3) contour points per look-up-table row -> the same, each point's path over yaw
    smoothed by a Gaussian of sigma_deg degrees (ends held: the table clamps beyond them)."""
    yaws = np.array([yaw_of_bin(k) for k in range(len(points))])
    weights = np.exp(-0.5 * ((yaws[:, None] - yaws[None, :]) / sigma_deg) ** 2)
    return np.einsum("kj,jnd->knd", weights / weights.sum(1, keepdims=True), points)


def contour_embedding(template: Template, spec: HeadSpec) -> tuple[np.ndarray, np.ndarray]:
    """Contour points 0..16 for each yaw bin on the stand-in's skin -> (79, 17) face index and
    (79, 17, 3) barycentric coordinates (FLAME's dynamic embedding). Each point lies on the skin
    between two outline vertices, so it slides smoothly along the outline as the yaw changes."""
    cand = _contour_candidates(template, spec)
    pts = template.vertices[cand]
    chin = menton_vertex(template, cand)
    half = (N_CONTOUR_LANDMARKS - 1) // 2
    top_y = spec.eye_center_y + CONTOUR_TOP_Y
    skin_face_ids = np.flatnonzero((template.faces < template.grid.n_vertices).all(1))  # eyeballs excluded
    points = np.zeros((N_YAW_BINS, N_CONTOUR_LANDMARKS, 3))
    for k in range(N_YAW_BINS):
        a = np.deg2rad(yaw_of_bin(k))
        rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        xy = (pts @ rot.T)[:, :2]
        chin_xy = (rot @ template.vertices[chin])[:2]
        points[k, half] = template.vertices[chin]
        for side, sign, slots in ((pts[:, 0] < 0.0, -1.0, slice(0, half)), (pts[:, 0] > 0.0, 1.0, slice(2 * half, half, -1))):
            members = np.flatnonzero(side)
            ends, t = outline_half(xy[members], top_y, chin_xy, sign, half)
            first, second = pts[members[ends[:, 0]]], pts[members[ends[:, 1]]]
            points[k, slots] = first + t[:, None] * (second - first)
    faces, bary = surface_embedding(smooth_over_yaw(points).reshape(-1, 3), template.vertices, template.faces[skin_face_ids])
    return skin_face_ids[faces].reshape(N_YAW_BINS, N_CONTOUR_LANDMARKS), bary.reshape(N_YAW_BINS, N_CONTOUR_LANDMARKS, 3)


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
