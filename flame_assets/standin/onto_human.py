"""The stand-in's skin carried onto the human head (human.py) along the cranium's rays (surface.py):
where a ray misses, or dives between the lips or through an eye opening, the distance is filled in
from its surroundings, the lids stay on the eyeballs, and round the ear roots the skin fades back to
the cranium, where the stand-in hangs its own ears. The head's identity targets are carried the
same way."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.spatial import cKDTree

from . import human
from .mesh import barycentric, diffuse, phong_point, vertex_normals
from .spec import HeadSpec, smoothstep
from .surface import EAR, NECK_BLEND_END, cranium, ear_mound, eye_centers, neck_surface, socket_weights, temple_fill, wrap_eye_sockets

# Round each ear root the skin fades back to the cranium (MakeHuman's ears are flattened away, the
# stand-in's hang there): (sigma_y, sigma_z) metres of the zone, and where it starts at the side (|x|).
EAR_ZONE = dict(sigma_y=0.022, sigma_z=0.020, side=(0.040, 0.060))
MOUTH_SEAM = (0.004, 0.003)  # metres beyond the mouth corners and above / below the lip line
MOUTH_SEAM_DEPTH = 0.0025  # metres: a lip-line point this far inside its smooth surroundings dived between the lips
FILL_NEIGHBOURS = 256
FILL_SIGMA = 0.06  # radians of direction over which a filled value averages its surroundings
LID_HOLD = 2.0  # identity targets move the skin round an eye as one piece where the socket pull is over 1/LID_HOLD
PROJECTION_REACH = 0.04  # metres: a skin point farther than this from the human surface keeps its own place
# MakeHuman's targets carry local bumps of their own: a hundred of them summed at random leave lumps
# and creases on every face. Low-passed over this much skin they keep their shapes (a broader nose,
# a fuller cheek) without the lumps (8 mm left some).
FIELD_SMOOTHING_RADIUS = 0.012


@dataclass(frozen=True)
class Projection:
    """Where rays met the human head: distance (V,) along each ray, hit (V,) bool, triangle (V,)
    and barycentric weights (V, 3) of the meeting point (meaningless where not hit)."""

    distance: np.ndarray
    hit: np.ndarray
    triangle: np.ndarray
    barycentric: np.ndarray


def project(head: human.HumanHead, origins: np.ndarray, directions: np.ndarray) -> Projection:
    """Meet the lines through origins (V, 3) along unit directions (V, 3) with the human head, at
    the outermost crossing within PROJECTION_REACH of each origin (either side of it): inner
    surfaces (the mouth's lining) lie behind the skin."""
    import trimesh  # the render and fit groups bring it; the rest of flame_assets does not need it

    mesh = trimesh.Trimesh(head.vertices, head.triangles, process=False)
    start = origins - PROJECTION_REACH * directions
    locations, rays, triangles = mesh.ray.intersects_location(start, directions, multiple_hits=True)
    n = len(origins)
    distance, triangle, best = np.zeros(n), np.zeros(n, np.int64), np.full(n, np.inf)
    along = np.einsum("ij,ij->i", locations - start[rays], directions[rays]) - PROJECTION_REACH
    within = np.abs(along) <= PROJECTION_REACH
    for k in np.flatnonzero(within)[np.argsort(along[within])]:  # outermost last, so it wins
        best[rays[k]], distance[rays[k]], triangle[rays[k]] = abs(along[k]), along[k], triangles[k]
    hit = np.isfinite(best)
    corners = head.vertices[head.triangles[triangle]]
    weights = barycentric(origins + distance[:, None] * directions, corners)
    # The head's triangles are 5 mm across, coarser than the stand-in's grid: meet its smooth
    # (Phong-tessellated) surface rather than the flat facets, which would shade as ripples.
    curved = phong_point(weights, corners, vertex_normals(head.vertices, head.triangles)[head.triangles[triangle]])
    distance = np.where(hit, np.einsum("ij,ij->i", curved - origins, directions), distance)
    return Projection(distance, hit, triangle, weights)


def ear_zone(points: np.ndarray) -> np.ndarray:
    """(V,) 1 round the ear roots, where the skin keeps the cranium's surface, falling to 0."""
    y, z = points[:, 1], points[:, 2]
    side = smoothstep(*EAR_ZONE["side"], np.abs(points[:, 0]))
    return side * np.exp(-0.5 * (((y - EAR["y"]) / EAR_ZONE["sigma_y"]) ** 2 + ((z - EAR["z"]) / EAR_ZONE["sigma_z"]) ** 2))


def _outside_lid_spheres(origins: np.ndarray, rays: np.ndarray, distance: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(V,) distances along the rays, moved out to where a ray leaves the sphere the lids wrap (the
    human head's lids fold into a socket; here they must lie on the stand-in's eyeball)."""
    out = distance.copy()
    radius = spec.eyeball_radius + spec.lid_thickness
    for center in eye_centers(spec):
        rel = origins - center
        b = np.einsum("ij,ij->i", rel, rays)
        disc = b * b - (np.einsum("ij,ij->i", rel, rel) - radius**2)
        leave = -b + np.sqrt(np.maximum(disc, 0.0))
        out = np.where(disc > 0.0, np.maximum(out, leave), out)
    return out


def _mouth_seam(points: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(V,) bool: the band along the lip line, where rays can dive between the lips."""
    return (np.abs(points[:, 0]) < spec.mouth_half_width + MOUTH_SEAM[0]) & (np.abs(points[:, 1] - spec.mouth_y) < MOUTH_SEAM[1])


def _through_eye_holes(points: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(V,) bool: rays that passed through the human head's eye openings (taller than the
    stand-in's) and met the socket behind them: hits deeper than an eyeball's centre, in front of it."""
    out = np.zeros(len(points), bool)
    for center in eye_centers(spec):
        dx = (points[:, 0] - center[0]) / spec.eye_socket_half_width
        dy = (points[:, 1] - center[1]) / spec.eye_socket_half_height
        out |= (dx**2 + dy**2 < 1.0) & (points[:, 2] < center[2])
    return out


def _unseen(projection: Projection, origins: np.ndarray, rays: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(V,) bool: rays whose meeting point is not the face's skin (missed, or behind an eye opening)."""
    return ~projection.hit | _through_eye_holes(origins + projection.distance[:, None] * rays, spec)


def _fill(directions: np.ndarray, values: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """values (V, ...) with the holes replaced by a Gaussian-weighted mean of the rest over the
    unit directions (V, 3) they were measured along: smooth, and never beyond the values round it."""
    out = values.copy()
    if hole.any() and (~hole).any():
        known = np.flatnonzero(~hole)
        dist, index = cKDTree(directions[known]).query(directions[hole], k=min(FILL_NEIGHBOURS, len(known)))
        weight = np.exp(-0.5 * (dist / FILL_SIGMA) ** 2) + 1e-300
        weight /= weight.sum(1, keepdims=True)
        out[hole] = np.einsum("hk,hk...->h...", weight, values[known][index])
    return out


def human_skin(origins: np.ndarray, rays: np.ndarray, spec: HeadSpec, projection: Projection | None = None) -> np.ndarray:
    """(V, 3) points of the human head along the rays (V, 3) from origins (V, 3), where
    `projection` (computed here unless given) met it. Where a ray misses or dives between the lips,
    the distance is filled in smoothly from the rest; round the ear roots the surface fades back to
    the cranium, with the mound the stand-in's ears grow from; the lids lie on the eyeballs."""
    if projection is None:
        projection = project(human.human_head(spec), origins, rays)
    directions = origins / np.linalg.norm(origins, axis=1, keepdims=True)
    hole = _unseen(projection, origins, rays, spec)
    distance = _fill(directions, projection.distance, hole) * (1.0 - ear_zone(origins))
    seam = _mouth_seam(origins + distance[:, None] * rays, spec)
    smooth = _fill(directions, distance, seam)
    distance = _fill(directions, distance, hole | (seam & (distance < smooth - MOUTH_SEAM_DEPTH)))
    distance = _outside_lid_spheres(origins, rays, distance, spec)
    return origins + (distance + ear_mound(origins) + temple_fill(origins, rays))[:, None] * rays


def head_surface(theta: np.ndarray, phi: np.ndarray, neck: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(V, 3) skin positions for grid parameters theta, phi (V,) and neck position (V,) in [0, 1]."""
    origins, rays = cranium(theta, phi, neck, spec)
    return _with_neck(theta, neck, wrap_eye_sockets(human_skin(origins, rays, spec), spec), spec)


def _with_neck(theta: np.ndarray, neck: np.ndarray, skin: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """skin (V, 3) on the head rows, the neck rows replaced by the neck's surface below it."""
    return np.where((neck == 0)[:, None], skin, neck_surface(theta, neck, skin, spec))


def human_fields(theta: np.ndarray, phi: np.ndarray, neck: np.ndarray, faces: np.ndarray, fields: np.ndarray,
                 spec: HeadSpec) -> np.ndarray:
    """fields (C, 3, K) over the human head's control points (its identity targets) -> (V, 3, K) at the
    stand-in's skin points (grid parameters (V,), the grid's faces (F, 3)): interpolated where a
    ray met the head, filled in from the rest where it did not, low-passed over the skin, fading
    out round the ear roots, down the neck and on the lids."""
    origins, rays = cranium(theta, phi, neck, spec)
    head = human.human_head(spec)
    projection = project(head, origins, rays)
    n = len(origins)
    at_hit = scipy.sparse.coo_matrix((projection.barycentric.ravel(), (np.repeat(np.arange(n), 3), head.triangles[projection.triangle].ravel())),
                                     shape=(n, len(head.vertices))).tocsr()
    out = ((at_hit @ head.subdivision) @ fields.reshape(len(fields), -1)).reshape(n, *fields.shape[1:])
    directions = origins / np.linalg.norm(origins, axis=1, keepdims=True)
    out = _fill(directions, out, _unseen(projection, origins, rays, spec))
    skin = human_skin(origins, rays, spec, projection)
    out = diffuse(_with_neck(theta, neck, skin, spec), faces, out, FIELD_SMOOTHING_RADIUS)
    # Lids stay on the eyeballs: the skin an eye socket wraps moves as one piece, by the socket's
    # mean displacement (which the eyeball follows, shape_space._with_eyeballs), so no crease forms
    # where the lids meet the moving face round them.
    for pull in socket_weights(skin, spec):
        rigid = np.clip(LID_HOLD * pull, 0.0, 1.0)[:, None, None]
        mean = np.einsum("v,vdk->dk", pull, out) / max(pull.sum(), 1e-12)
        out = (1.0 - rigid) * out + rigid * mean
    keep = (1.0 - ear_zone(origins)) * (1.0 - smoothstep(0.0, NECK_BLEND_END, neck))
    return out * keep[:, None, None]
