"""Soft masks over the stand-in's vertices: which lid, which lip, how much the jaw carries."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import Template, slit_arc
from .spec import HeadSpec, smoothstep

FRONT_FACE_Z = (0.0, 0.04)  # masks fade in over this depth: the face, not the back of the head
LID_REACH = 0.008  # how far above / below the eye slit a lid mask reaches (metres)
LIP_REACH = 0.012


@dataclass(frozen=True)
class Regions:
    """All arrays are (P,) over P = skin vertices + 2 eye centres (so eyeballs can move rigidly)."""

    points: np.ndarray  # (P, 3)
    front: np.ndarray
    upper_lid: tuple[np.ndarray, np.ndarray]  # [left, right]
    lower_lid: tuple[np.ndarray, np.ndarray]
    upper_lip: np.ndarray
    lower_lip: np.ndarray
    lip_arc: np.ndarray  # 1 at the middle of the mouth slit, 0 at the corners and beyond
    jaw: np.ndarray


def _extend(values: np.ndarray, n_extra: int) -> np.ndarray:
    return np.concatenate([values, np.zeros(n_extra)])


def _side_masks(template: Template, slit_name: str, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """(upper, lower) masks: vertices on each side of a slit, within `reach` of its line."""
    grid = template.grid
    slit = grid.slit(slit_name)
    skin = template.vertices[: grid.n_vertices]
    line_phi = grid.row_phi[slit.row]
    upper_side = ~grid.lower_copy & (grid.phi <= line_phi)
    lower_side = grid.lower_copy | (grid.phi > line_phi)
    slit_rows = grid.row == slit.row
    line_y = np.interp(grid.theta, np.sort(grid.theta[slit_rows]), skin[slit_rows][np.argsort(grid.theta[slit_rows]), 1])
    near = np.exp(-0.5 * ((skin[:, 1] - line_y) / reach) ** 2)
    lo, hi = grid.column_theta[slit.col_lo], grid.column_theta[slit.col_hi]
    pad = 0.25 * (hi - lo)
    across = smoothstep(lo - pad, lo + 0.15 * (hi - lo), grid.theta) * smoothstep(hi + pad, hi - 0.15 * (hi - lo), grid.theta)
    return near * across * upper_side, near * across * lower_side


def jaw_weight(template: Template, spec: HeadSpec) -> np.ndarray:
    """(Vg,) how much each skin vertex follows the jaw: lower lip and chin fully, cheeks partly."""
    grid = template.grid
    skin = template.vertices[: grid.n_vertices]
    x, y, z = skin[:, 0], skin[:, 1], skin[:, 2]
    cut = spec.mouth_y + (spec.jaw_joint_y - spec.mouth_y) * smoothstep(spec.mouth_half_width, spec.jaw_hinge_x, np.abs(x))
    w = smoothstep(cut + 0.003, cut - 0.012, y)
    w *= smoothstep(spec.jaw_joint_z - 0.01, spec.jaw_joint_z + 0.03, z)
    w *= (grid.neck == 0)
    upper, lower = _side_masks(template, "mouth", 0.004)
    arc = slit_arc(grid, "mouth")
    on_upper = upper > 0.05
    w = np.where(on_upper, w * (1.0 - upper), w)
    return np.where(lower > 0.05, np.maximum(w, arc * lower), w)


def build_regions(template: Template, spec: HeadSpec) -> Regions:
    n_extra = len(template.eye_centers)
    points = np.concatenate([template.vertices[: template.grid.n_vertices], template.eye_centers])
    front = smoothstep(FRONT_FACE_Z[0], FRONT_FACE_Z[1], points[:, 2])
    lids = [_side_masks(template, name, LID_REACH) for name in ("left_eye", "right_eye")]
    upper_lip, lower_lip = _side_masks(template, "mouth", LIP_REACH)
    arc = slit_arc(template.grid, "mouth")
    return Regions(
        points=points, front=front,
        upper_lid=tuple(_extend(u, n_extra) for u, _ in lids),
        lower_lid=tuple(_extend(lo, n_extra) for _, lo in lids),
        upper_lip=_extend(upper_lip, n_extra), lower_lip=_extend(lower_lip, n_extra),
        lip_arc=_extend(arc, n_extra), jaw=_extend(jaw_weight(template, spec), n_extra),
    )
