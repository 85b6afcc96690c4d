"""The stand-in's template mesh: grid skin with opened eye and mouth slits, plus two eyeballs
and two ears."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .ears import ear
from .eyes import eyeball
from .grid import HeadGrid, build_grid, open_slits
from .onto_human import head_surface
from .spec import SPEC, HeadSpec
from .surface import eye_centers, front_point, superellipsoid_point

EYE_SHAPE_POWER = 0.75  # < 1 rounds the lid arc into an almond


@dataclass(frozen=True)
class Template:
    """vertices (V, 3): skin grid first (Vg), then left and right eyeball, then left and right
    ear; faces (F, 3); uv (T, 2), uv_faces (F, 3); eyeball_vertices[k] / ear_vertices[k] index
    eyeball / ear k (0 = left); ear_anchors[k]: the skin vertex ear k hangs on."""

    grid: HeadGrid
    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    uv_faces: np.ndarray
    eyeball_vertices: tuple[np.ndarray, np.ndarray]
    eye_centers: np.ndarray
    ear_vertices: tuple[np.ndarray, np.ndarray]
    ear_anchors: tuple[int, int]


def _grid_for(spec: HeadSpec) -> HeadGrid:
    eye_phi = front_point(spec.eye_center_x, spec.eye_center_y, spec)[1]
    inner = front_point(spec.eye_center_x - spec.eye_half_width, spec.eye_center_y, spec)[0]
    outer = front_point(spec.eye_center_x + spec.eye_half_width, spec.eye_center_y, spec)[0]
    mouth_phi = front_point(0.0, spec.mouth_y, spec)[1]
    mouth_corner = front_point(spec.mouth_half_width, spec.mouth_y, spec)[0]
    return build_grid(spec, (eye_phi, inner, outer), (mouth_phi, mouth_corner))


def slit_arc(grid: HeadGrid, slit_name: str) -> np.ndarray:
    """(Vg,) 1 at the middle of a slit, falling to 0 at its corners and outside it."""
    slit = grid.slit(slit_name)
    lo, hi = grid.column_theta[slit.col_lo], grid.column_theta[slit.col_hi]
    s = np.clip(2.0 * (grid.theta - lo) / (hi - lo) - 1.0, -1.0, 1.0)
    return np.where(np.abs(s) < 1.0, (1.0 - s**2) ** EYE_SHAPE_POWER, 0.0)


def _profile(grid: HeadGrid, slit_name: str, spec: HeadSpec) -> np.ndarray:
    """slit_arc in radians of polar angle per metre of opening."""
    row_phi = np.full(grid.n_vertices, grid.row_phi[grid.slit(slit_name).row])
    return slit_arc(grid, slit_name) / np.linalg.norm(superellipsoid_point(grid.theta, row_phi, spec), axis=1)


def slit_shifts(grid: HeadGrid, spec: HeadSpec, closed_eyes: tuple[bool, bool] = (False, False)) -> dict:
    """Polar-angle shifts that open the eyes (or close one: the upper lid meets the lower lid) and
    leave the lips just touching."""
    shifts = {}
    for name, closed in zip(("left_eye", "right_eye"), closed_eyes):
        arc = _profile(grid, name, spec)
        down = spec.eye_lower_opening * arc
        up = -down if closed else spec.eye_upper_opening * arc
        shifts[name] = (up, down)
    arc = _profile(grid, "mouth", spec)
    shifts["mouth"] = (0.5 * spec.mouth_gap * arc, 0.5 * spec.mouth_gap * arc)
    return shifts


def skin(grid: HeadGrid, spec: HeadSpec, closed_eyes: tuple[bool, bool] = (False, False)) -> np.ndarray:
    """(Vg, 3) skin vertices with the slits opened as asked."""
    phi = open_slits(grid, slit_shifts(grid, spec, closed_eyes))
    return head_surface(grid.theta, phi, grid.neck, spec)


@lru_cache(maxsize=2)
def build_template(spec: HeadSpec = SPEC) -> Template:
    grid = _grid_for(spec)
    skin_vertices = skin(grid, spec)
    centers = eye_centers(spec)
    vertices, faces, uv, uv_faces = [skin_vertices], [grid.faces], [grid.uv], [grid.uv_faces]
    counts = [len(skin_vertices), len(grid.uv)]

    def add(v: np.ndarray, f: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Append a part (its faces index both its vertices and its UVs) -> its vertex indices."""
        n_v, n_uv = counts
        vertices.append(v)
        faces.append(f + n_v)
        uv.append(t)
        uv_faces.append(f + n_uv)
        counts[:] = n_v + len(v), n_uv + len(t)
        return np.arange(n_v, n_v + len(v))

    eyeballs = [add(*eyeball(center, spec, (k * (spec.uv_eye_size + 0.02), 0.0))) for k, center in enumerate(centers)]
    u0, v0, u1, v1 = spec.uv_ear_box
    step = u1 - u0 + 0.01  # the right ear's chart sits beside the left one's
    anchors = [ear_anchor(skin_vertices, side, spec) for side in (1.0, -1.0)]
    ears = [add(*ear(side, skin_vertices[anchor], spec, (u0 + k * step, v0, u1 + k * step, v1)))
            for k, (side, anchor) in enumerate(zip((1.0, -1.0), anchors))]
    return Template(
        grid=grid, vertices=np.concatenate(vertices), faces=np.concatenate(faces),
        uv=np.concatenate(uv), uv_faces=np.concatenate(uv_faces),
        eyeball_vertices=(eyeballs[0], eyeballs[1]), eye_centers=centers,
        ear_vertices=(ears[0], ears[1]), ear_anchors=(anchors[0], anchors[1]),
    )


def ear_anchor(skin: np.ndarray, side: float, spec: HeadSpec) -> int:
    """The skin vertex at the side of the head (side +1: +x) nearest the ear's root."""
    lateral = np.flatnonzero(side * skin[:, 0] > 0.5 * spec.half_width)
    d = (skin[lateral, 1] - spec.ear_center_y) ** 2 + (skin[lateral, 2] - spec.ear_root_z) ** 2
    return int(lateral[np.argmin(d)])
