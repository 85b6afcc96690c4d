"""The inside of the mouth, pure numpy: an upper and a lower dental arch (one closed mesh per
tooth), the gums over each arch, and the tongue.

Built like the glasses: the topology is fixed, built once in a mouth frame (origin at the
stomion, x towards the subject's left, y up, z forward; metres), placed on each sample's onset
lips, then moved rigidly per state: the upper arch with the head, the lower arch and the tongue
with the jaw. Flow stays exact because the renderer draws, and takes its targets from, exactly
these positions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rigid import Motion, apply_motion, facing_frame

TEETH, GUMS, TONGUE = 0, 1, 2  # part ids, in the renderer's material order
MM = 0.001
REFERENCE_MOUTH_WIDTH = 0.050  # corner to corner of an adult mouth; the arches are sized for it
MOUTH_SCALE_RANGE = (0.85, 1.15)  # how far a mouth's width may rescale the arches
TOOTH_RINGS, TOOTH_SEGMENTS = 8, 12
GUM_SEGMENTS, ARCH_SAMPLES = 10, 40
ARCH_HALF_SPAN = 0.06  # metres of arch line sampled either side of the midline (past the last molar)
TONGUE_RINGS, TONGUE_SEGMENTS = 10, 16
INNER_LIP_POINTS = slice(60, 68)  # iBUG-68 inner lip contour
LEFT_CORNER, RIGHT_CORNER = 54, 48  # the subject's left and right mouth corners


@dataclass(frozen=True)
class ToothRow:
    """One side of one arch, midline outwards: (mesiodistal width, crown height, labiolingual
    depth) in mm per tooth (central incisor, lateral incisor, canine, two premolars, first molar)."""

    widths: tuple[float, ...]
    heights: tuple[float, ...]
    depths: tuple[float, ...]


UPPER = ToothRow((8.5, 6.6, 7.6, 7.0, 6.6, 10.0), (10.5, 9.0, 10.0, 8.4, 7.6, 7.0), (7.0, 6.2, 8.0, 9.0, 9.0, 11.0))
LOWER = ToothRow((5.4, 5.9, 6.9, 7.0, 7.2, 11.0), (9.0, 9.2, 10.0, 8.2, 7.8, 7.2), (6.0, 6.2, 7.6, 7.8, 8.4, 10.5))


@dataclass(frozen=True)
class MouthStyle:
    """Metres unless named otherwise. The upper arch's labial line is z = -incisor_depth - a x^2."""

    incisor_depth: float = 0.0055  # labial face of the upper incisors behind the stomion
    arch_curvature: float = 26.0  # a, per metre: the canines sit ~8 mm behind the incisors
    upper_tip: float = -0.0025  # upper incisal edge below the stomion (2-3 mm show when the lips part)
    overbite: float = 0.0020  # the lower incisal edge sits this far above the upper one...
    overjet: float = 0.0020  # ...and this far behind it
    tooth_gap: float = 0.00025
    gum_height: float = 0.0045
    gum_depth: float = 0.0060
    tongue_size: tuple[float, float, float] = (0.019, 0.0065, 0.026)  # half width, height, length
    tongue_drop: float = 0.0085  # tongue top below the lower incisal edge


@dataclass(frozen=True)
class MouthMesh:
    """vertices (N, 3) in the mouth frame; faces (K, 3); part (K,) TEETH | GUMS | TONGUE;
    lower (N,) bool: moves with the jaw (lower arch, its gums, the tongue)."""

    vertices: np.ndarray
    faces: np.ndarray
    part: np.ndarray
    lower: np.ndarray


def _grid_faces(rings: int, segments: int, offset: int = 0) -> list[list[int]]:
    """Quads as triangle pairs between consecutive rings of a closed loop of `segments`."""
    faces = []
    for r in range(rings - 1):
        for s in range(segments):
            a, b = offset + r * segments + s, offset + r * segments + (s + 1) % segments
            c, d = a + segments, b + segments
            faces += [[a, c, b], [b, c, d]]
    return faces


def _orient_away(vertices: np.ndarray, faces: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """faces (K, 3) with each normal turned away from its point `inside` ((K, 3) or (3,))."""
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    inward = np.einsum("ij,ij->i", normal, tri.mean(1) - inside) < 0
    faces = faces.copy()
    faces[inward] = faces[inward][:, ::-1]
    return faces


def _closed_blob(rings: int, segments: int, shape) -> tuple[np.ndarray, np.ndarray]:
    """A closed surface from a ring-by-ring shape(polar (R,), azimuth (S,)) -> (R, S, 3), with a
    vertex at each pole. Returns vertices (R*S + 2, 3) and outward faces."""
    polar = np.linspace(0.0, np.pi, rings + 2)[1:-1]
    azimuth = 2.0 * np.pi * np.arange(segments) / segments
    body = shape(polar, azimuth).reshape(-1, 3)
    poles = shape(np.array([0.0, np.pi]), np.zeros(1)).reshape(2, 3)
    vertices = np.concatenate([body, poles])
    top, bottom = len(body), len(body) + 1
    faces = _grid_faces(rings, segments)
    for s in range(segments):
        s2 = (s + 1) % segments
        faces.append([top, s2, s])
        last = (rings - 1) * segments
        faces.append([bottom, last + s, last + s2])
    return vertices, _orient_away(vertices, np.asarray(faces, np.int64), vertices.mean(0))


def _superellipsoid(half: np.ndarray, exponent: float, taper: float):
    """shape() for a rounded box of half sizes (3,) (x across, y along the crown, z depth);
    `taper` thins the depth towards the incisal edge at y = -half[1] (incisors are blades)."""
    def shape(polar: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
        p, a = np.meshgrid(polar, azimuth, indexing="ij")

        def signed_pow(v):
            return np.sign(v) * np.abs(v) ** exponent

        y = -signed_pow(np.cos(p))  # polar 0 = incisal edge (y = -1)
        x = signed_pow(np.sin(p)) * signed_pow(np.cos(a))
        z = signed_pow(np.sin(p)) * signed_pow(np.sin(a))
        thin = 1.0 - taper * (1.0 - y) / 2.0
        return np.stack([x * half[0], y * half[1], z * half[2] * thin], -1)
    return shape


def arch_line(style: MouthStyle, half_width: float, lower: bool) -> np.ndarray:
    """(A, 3) the labial line of one arch at y = 0, from -half_width to +half_width in x."""
    x = np.linspace(-half_width, half_width, ARCH_SAMPLES)
    back = style.incisor_depth + (style.overjet if lower else 0.0)
    return np.stack([x, np.zeros_like(x), -back - style.arch_curvature * x**2], -1)


def _arch_frame(line: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points (n, 3), unit tangents (n, 3) and outward normals (n, 3) at arc lengths s along line."""
    seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)]) - 0.5 * seg.sum()
    points = np.stack([np.interp(s, arc, line[:, k]) for k in range(3)], -1)
    tangent = np.stack([np.interp(s, arc, np.gradient(line[:, k], arc)) for k in range(3)], -1)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    outward = np.cross(tangent, np.array([0.0, 1.0, 0.0]))  # tangent +x -> outward +z
    return points, tangent, outward


def _teeth(style: MouthStyle, row: ToothRow, lower: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """One closed mesh per tooth of an arch, incisal edges at y = 0 (upper crowns go up)."""
    widths = np.asarray(row.widths) * MM
    centres = np.concatenate([[0.0], np.cumsum(widths + style.tooth_gap)])[:-1] + 0.5 * widths
    line = arch_line(style, ARCH_HALF_SPAN, lower)
    meshes = []
    for side in (1.0, -1.0):
        points, tangent, outward = _arch_frame(line, side * centres)
        for k, (w, h, d) in enumerate(zip(widths, np.asarray(row.heights) * MM, np.asarray(row.depths) * MM)):
            blade = 0.55 if k < 2 else 0.2  # incisors thin to an edge, the rest stay blunt
            v, f = _closed_blob(TOOTH_RINGS, TOOTH_SEGMENTS, _superellipsoid(np.array([w / 2, h / 2, d / 2]), 0.6, blade))
            up = 1.0 if not lower else -1.0
            v[:, 1] *= up  # the incisal edge (local y = -h/2) faces the other arch
            frame = np.stack([tangent[k], np.array([0.0, 1.0, 0.0]), outward[k]], 1)  # right-handed
            centre = points[k] - outward[k] * d / 2 + np.array([0.0, up * h / 2, 0.0])
            world = v @ frame.T + centre
            if up < 0:
                f = f[:, ::-1]  # mirroring y flips the winding
            meshes.append((world, f))
    return meshes


def _gum(style: MouthStyle, row: ToothRow, lower: bool) -> tuple[np.ndarray, np.ndarray]:
    """A tube of elliptic section along the arch, covering the necks of its teeth."""
    reach = 0.5 * sum(row.widths) * MM + len(row.widths) * style.tooth_gap
    line = arch_line(style, ARCH_HALF_SPAN, lower)
    s = np.linspace(-reach, reach, ARCH_SAMPLES)
    points, _, outward = _arch_frame(line, s)
    up = -1.0 if lower else 1.0
    crown = np.interp(np.abs(s), np.cumsum(np.asarray(row.widths) * MM) - 0.5 * np.asarray(row.widths) * MM,
                      np.asarray(row.heights) * MM)
    angle = 2.0 * np.pi * np.arange(GUM_SEGMENTS) / GUM_SEGMENTS
    centre = points - outward * (0.45 * style.gum_depth) + np.array([0.0, 1.0, 0.0]) * up * (crown + 0.35 * style.gum_height)[:, None]
    ring = (np.cos(angle)[None, :, None] * outward[:, None] * (0.5 * style.gum_depth)
            + np.sin(angle)[None, :, None] * np.array([0.0, 1.0, 0.0]) * (0.5 * style.gum_height))
    vertices = (centre[:, None] + ring).reshape(-1, 3)
    faces = np.asarray(_grid_faces(ARCH_SAMPLES, GUM_SEGMENTS), np.int64)
    return vertices, _orient_away(vertices, faces, np.repeat(centre, GUM_SEGMENTS, 0)[faces[:, 0]])


def _tongue(style: MouthStyle) -> tuple[np.ndarray, np.ndarray]:
    half = np.asarray(style.tongue_size)

    def shape(polar: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
        p, a = np.meshgrid(polar, azimuth, indexing="ij")
        # Polar axis along z (tip at the front), flattened on top.
        z, x, y = np.cos(p), np.sin(p) * np.cos(a), np.sin(p) * np.sin(a)
        y = np.where(y > 0, 0.7 * y, y)
        return np.stack([x * half[0], y * half[1], z * half[2]], -1)

    vertices, faces = _closed_blob(TONGUE_RINGS, TONGUE_SEGMENTS, shape)
    tip_behind_incisors = style.incisor_depth + style.overjet + 0.004
    return vertices + np.array([0.0, style.upper_tip + style.overbite - style.tongue_drop - half[1],
                                -tip_behind_incisors - half[2]]), faces


def mouth_local(style: MouthStyle = MouthStyle()) -> MouthMesh:
    """The mouth's fixed topology in the mouth frame (see the module docstring)."""
    parts: list[tuple[np.ndarray, np.ndarray, int, bool]] = []
    lift_upper = np.array([0.0, style.upper_tip, 0.0])
    lift_lower = np.array([0.0, style.upper_tip + style.overbite, 0.0])
    for lower, row, lift in ((False, UPPER, lift_upper), (True, LOWER, lift_lower)):
        for v, f in _teeth(style, row, lower):
            parts.append((v + lift, f, TEETH, lower))
        v, f = _gum(style, row, lower)
        parts.append((v + lift, f, GUMS, lower))
    v, f = _tongue(style)
    parts.append((v, f, TONGUE, True))
    vertices, faces, part, moves = [], [], [], []
    offset = 0
    for v, f, pid, lower in parts:
        vertices.append(v)
        faces.append(f + offset)
        part.append(np.full(len(f), pid))
        moves.append(np.full(len(v), lower))
        offset += len(v)
    return MouthMesh(np.concatenate(vertices), np.concatenate(faces), np.concatenate(part), np.concatenate(moves))


def mouth_frame(landmarks: np.ndarray, head_rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """landmarks (68, 3) of the onset face, head_rotation (3, 3) -> origin (3,) at the stomion,
    axes (3, 3) as columns (x to the subject's left, y up, z forward), scale: mouth width over
    REFERENCE_MOUTH_WIDTH, clipped to MOUTH_SCALE_RANGE."""
    width = float(np.linalg.norm(landmarks[LEFT_CORNER] - landmarks[RIGHT_CORNER]))
    axes = facing_frame(landmarks[RIGHT_CORNER], landmarks[LEFT_CORNER], head_rotation)
    return landmarks[INNER_LIP_POINTS].mean(0), axes, float(np.clip(width / REFERENCE_MOUTH_WIDTH, *MOUTH_SCALE_RANGE))


def place_mouth(local: np.ndarray, landmarks: np.ndarray, head_rotation: np.ndarray) -> np.ndarray:
    """World positions (N, 3) of mouth_local vertices behind the lips of a face with landmarks
    (68, 3) and head rotation (3, 3)."""
    origin, axes, scale = mouth_frame(landmarks, head_rotation)
    return (scale * local) @ axes.T + origin


def move_mouth(placed: np.ndarray, lower: np.ndarray, head: Motion, jaw: Motion) -> np.ndarray:
    """placed (N, 3) onset positions; lower (N,) bool; head / jaw: rigid motions from the onset
    -> (N, 3) positions in the new state (upper parts by head, lower parts by jaw)."""
    out = apply_motion(placed, head)
    out[lower] = apply_motion(placed[lower], jaw)
    return out
