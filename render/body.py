"""Shoulders in a shirt under the head (pure numpy): an open torso surface whose collar hugs the
model's neck above the neck's cut, so a portrait ends in clothing instead of a tube.

Drawn like the glasses: a separate object placed per sample around the onset neck, then moved
rigidly with the head's global rotation about the root joint (the models' head pose is a global
rotation: the neck turns with it, so the shoulders must too). Its flow targets are exact.

Local frame: the model's unposed frame (y up, z towards the face) with the origin at the root
joint; `place_body` turns it into the world by the onset rotation.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

SEGMENTS = 72  # vertices around each ring
COLLAR_RINGS = 3  # the collar band, vertical
YOKE_RINGS = 12  # from the collar out along the shoulder line
ROUND_RINGS = 6  # the shoulder turning down into the arm
SIDE_RINGS = 4  # straight down the sides
RINGS = COLLAR_RINGS + YOKE_RINGS + ROUND_RINGS + SIDE_RINGS
VERTICES = RINGS * SEGMENTS
COLLAR_GAP = 0.006  # m between the neck and the collar
COLLAR_HEIGHT = 0.035  # m of collar above the neck's cut at the back: the cut stays inside the shirt
COLLAR_BAND = 0.025  # m the collar band runs straight down before the shoulders start
NECKLINE_DIP = 0.018  # m the collar's top edge dips at the front (a crew neckline)
YOKE_CURVE = 1.3  # the shoulder line falls as s^this (s: 0 at the collar, 1 at the shoulder)
SHOULDER_ROUND = 0.045  # m radius where the shoulder line turns down into the arm
TORSO_LENGTH = 0.30  # m the torso reaches below the shoulders (out of any portrait's frame)
CHEST_SHIFT = -0.01  # m the chest's centre sits behind the neck's
NECK_SQUARENESS = 2.0  # superellipse exponent of the collar (an ellipse)
TORSO_SQUARENESS = 3.2  # ... of the chest (boxier)
PART_CLOTH = 0  # the one material part (the scene's material index)


@dataclass(frozen=True)
class Clothing:
    """One sample's shirt: colours linear RGB; stripes 0 or 1 with their period (m) and the share
    of each period in the stripe colour; the torso's shape in metres."""

    colour: tuple[float, float, float]
    stripe_colour: tuple[float, float, float]
    stripes: float
    stripe_period: float
    stripe_share: float
    shoulder_half_width: float
    shoulder_drop: float
    chest_half_depth: float

    def to_json(self) -> dict:
        return asdict(self)


def body_faces() -> np.ndarray:
    """(F, 3) triangles of the ring grid, top ring first, facing away from the torso's axis."""
    r, s = np.meshgrid(np.arange(RINGS - 1), np.arange(SEGMENTS), indexing="ij")
    a, b = r * SEGMENTS + s, r * SEGMENTS + (s + 1) % SEGMENTS
    c, d = a + SEGMENTS, b + SEGMENTS
    return np.concatenate([np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)])


def neck_loop(faces: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """faces (F, 3), vertices (V, 3) of the unposed model -> indices of the vertices on the lowest
    open boundary (the neck's cut), where the collar goes."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    boundary = unique[counts == 1]
    if not len(boundary):
        raise ValueError("the head model has no open boundary for a neck: render it without clothing")
    graph = coo_matrix((np.ones(len(boundary)), (boundary[:, 0], boundary[:, 1])), shape=(len(vertices),) * 2)
    _, label = connected_components(graph, directed=False)
    on_boundary = np.unique(boundary)
    loops = [on_boundary[label[on_boundary] == k] for k in np.unique(label[on_boundary])]
    return min(loops, key=lambda members: vertices[members, 1].mean())


def _profile(neck: np.ndarray, shape: Clothing) -> np.ndarray:
    """neck (N, 3) local cut points -> (RINGS, 5): per ring half-width x, half-depth z, height y,
    centre z and superellipse exponent, top ring first."""
    centre_z = 0.5 * (neck[:, 2].max() + neck[:, 2].min())
    half_x = 0.5 * np.ptp(neck[:, 0]) + COLLAR_GAP
    half_z = 0.5 * np.ptp(neck[:, 2]) + COLLAR_GAP
    top = neck[:, 1].mean() + COLLAR_HEIGHT
    start = top - COLLAR_BAND
    width, depth, drop = shape.shoulder_half_width, shape.chest_half_depth, shape.shoulder_drop
    rows = [(half_x, half_z, y, centre_z, NECK_SQUARENESS) for y in np.linspace(top, start, COLLAR_RINGS)]
    inner = width - SHOULDER_ROUND

    def ring(x: float, y: float) -> tuple:
        t = np.clip((x - half_x) / max(width - half_x, 1e-6), 0.0, 1.0)  # 0 at the collar, 1 at the shoulder
        return (x, half_z + t * (depth - half_z), y, centre_z + t * CHEST_SHIFT,
                NECK_SQUARENESS + t * (TORSO_SQUARENESS - NECK_SQUARENESS))

    for s in np.linspace(0.0, 1.0, YOKE_RINGS + 1)[1:]:
        rows.append(ring(half_x + s * (inner - half_x), start - drop * s**YOKE_CURVE))
    shoulder = start - drop
    for phi in np.linspace(0.0, 0.5 * np.pi, ROUND_RINGS + 1)[1:]:
        rows.append(ring(inner + SHOULDER_ROUND * np.sin(phi), shoulder - SHOULDER_ROUND * (1.0 - np.cos(phi))))
    side = shoulder - SHOULDER_ROUND
    for y in np.linspace(side, side - TORSO_LENGTH, SIDE_RINGS + 1)[1:]:
        rows.append(ring(width, y))
    return np.array(rows)


def body_vertices(neck: np.ndarray, shape: Clothing) -> np.ndarray:
    """neck (N, 3) the neck-cut vertices in the local frame, shape -> (VERTICES, 3) local
    vertices of the torso whose collar rings the neck COLLAR_GAP away."""
    profile = _profile(neck, shape)
    centre_x = 0.5 * (neck[:, 0].max() + neck[:, 0].min())
    theta = 2.0 * np.pi * np.arange(SEGMENTS) / SEGMENTS
    cos, sin = np.cos(theta), np.sin(theta)
    out = []
    front = np.clip(sin, 0.0, None) ** 2  # 1 at the front (+z), 0 from the sides round the back
    for ring, (half_x, half_z, y, centre_z, power) in enumerate(profile):
        x = centre_x + half_x * np.sign(cos) * np.abs(cos) ** (2.0 / power)
        z = centre_z + half_z * np.sign(sin) * np.abs(sin) ** (2.0 / power)
        dip = NECKLINE_DIP * front * max(0.0, 1.0 - ring / (COLLAR_RINGS - 1))  # the band's bottom stays level
        out.append(np.stack([x, y - dip, z], -1))
    return np.concatenate(out)


def to_local(points: np.ndarray, root: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """(N, 3) posed points -> the local frame of a head posed by `rotation` (3, 3) about `root` (3,)."""
    return (np.asarray(points) - root) @ rotation


def place_body(local: np.ndarray, root: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """(N, 3) local vertices -> world, posed with the head (rotation (3, 3) about root (3,))."""
    return np.asarray(local) @ rotation.T + root
