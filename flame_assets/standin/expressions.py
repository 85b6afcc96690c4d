"""Named expression directions of the stand-in, one facial action each, in FLAME's layout.

Directions 0-17 are bilateral actions (with their FACS action unit), 18-49 the left-only and
right-only versions of 0-15 (micro-expressions are often one-sided), 50-99 small fixed mixtures,
as FLAME's higher PCA components are. One unit moves skin by a few millimetres; 2-3 units is a
strong expression, and the dataset's scales s^e in [0, 0.3] make those micro-movements.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..assets import N_EXPRESSION_TOTAL
from .regions import Regions
from .spec import SEED, gaussian2d, smoothstep

MM = 0.001
JAW_DROP_RADIANS = 0.06  # jaw rotation of one unit of "jaw_drop"
N_BILATERAL = 18
N_ONE_SIDED_SOURCES = 16  # actions 0..15 also exist as left-only and right-only directions
MIXTURE_SCALE = 0.25

Weight = Callable[[Regions, str], np.ndarray]  # (regions, "left" | "right") -> (P,)


def _half(r: Regions, side: str) -> np.ndarray:
    left = smoothstep(-0.003, 0.003, r.points[:, 0])
    return left if side == "left" else 1.0 - left


def gauss(cx: float, cy: float, sx: float, sy: float) -> Weight:
    """A Gaussian patch on the front of the face at (+cx, cy) on the left, mirrored on the right
    (a patch on the midline is split between the sides, so it is not counted twice)."""
    def weight(r: Regions, side: str) -> np.ndarray:
        x0 = cx if side == "left" else -cx
        g = gaussian2d(r.points[:, 0], r.points[:, 1], x0, cy, sx, sy) * r.front
        return g * _half(r, side) if cx == 0 else g
    return weight


def upper_lid(r: Regions, side: str) -> np.ndarray:
    return r.upper_lid[0 if side == "left" else 1]


def lower_lid(r: Regions, side: str) -> np.ndarray:
    return r.lower_lid[0 if side == "left" else 1]


def upper_lip(r: Regions, side: str) -> np.ndarray:
    return r.upper_lip * _half(r, side)


def lower_lip(r: Regions, side: str) -> np.ndarray:
    return r.lower_lip * _half(r, side)


def lip_middle(part: Weight) -> Weight:
    return lambda r, side: part(r, side) * r.lip_arc


@dataclass(frozen=True)
class Term:
    weight: Weight
    move_mm: tuple[float, float, float]  # on the left side; x is mirrored on the right


@dataclass(frozen=True)
class Action:
    name: str
    action_unit: str
    description: str
    terms: tuple[Term, ...]


ACTIONS: tuple[Action, ...] = (
    Action("brow_inner_raise", "AU1", "inner brows up", (Term(gauss(0.015, 0.028, 0.010, 0.011), (0, 3.0, 0.3)),)),
    Action("brow_outer_raise", "AU2", "outer brows up", (Term(gauss(0.045, 0.026, 0.012, 0.010), (0, 3.0, 0)),)),
    Action("brow_lower", "AU4", "brows down and together", (
        Term(gauss(0.024, 0.027, 0.014, 0.010), (-1.5, -2.5, 0.5)), Term(gauss(0, 0.018, 0.008, 0.008), (0, -1.0, 0.8)))),
    Action("upper_lid_raise", "AU5", "upper lids up, eyes wider", (Term(upper_lid, (0, 1.2, -0.3)),)),
    Action("cheek_raise", "AU6", "cheeks up, lower lids pushed up", (
        Term(gauss(0.040, -0.018, 0.015, 0.013), (0, 2.5, 1.0)), Term(lower_lid, (0, 1.0, 0)))),
    Action("lid_tighten", "AU7", "lids narrow the eye", (Term(lower_lid, (0, 1.5, 0)), Term(upper_lid, (0, -0.8, 0)))),
    Action("nose_wrinkle", "AU9", "nose sides and wings up", (
        Term(gauss(0.009, -0.006, 0.007, 0.009), (0, 1.5, 0.5)), Term(gauss(0.0135, -0.035, 0.006, 0.006), (0, 1.5, 0)))),
    Action("upper_lip_raise", "AU10", "upper lip up", (Term(upper_lip, (0, 2.5, 1.0)),)),
    Action("lip_corner_pull", "AU12", "lip corners out and up (smile)", (Term(gauss(0.026, -0.061, 0.009, 0.009), (3.0, 2.5, -1.0)),)),
    Action("dimpler", "AU14", "lip corners tightened inwards", (Term(gauss(0.028, -0.061, 0.007, 0.008), (1.0, 0, -2.0)),)),
    Action("lip_corner_depress", "AU15", "lip corners down", (Term(gauss(0.026, -0.063, 0.009, 0.009), (0.5, -3.0, 0)),)),
    Action("lower_lip_depress", "AU16", "lower lip down", (Term(lower_lip, (0, -2.5, 0.5)),)),
    Action("chin_raise", "AU17", "chin boss and lower lip up", (
        Term(gauss(0, -0.088, 0.016, 0.012), (0, 2.5, 1.0)), Term(lower_lip, (0, 1.0, 1.0)))),
    Action("lip_pucker", "AU18", "lips forward and together", (Term(gauss(0.012, -0.061, 0.012, 0.012), (-2.5, 0, 2.5)),)),
    Action("lip_stretch", "AU20", "lip corners pulled sideways", (Term(gauss(0.026, -0.062, 0.010, 0.010), (3.5, -1.0, -0.5)),)),
    Action("lip_press", "AU24", "lips pressed together", (Term(upper_lip, (0, -1.2, -0.8)), Term(lower_lip, (0, 1.2, -0.8)))),
    Action("lips_part", "AU25", "lips apart, jaw still", (
        Term(lip_middle(upper_lip), (0, 1.5, 0)), Term(lip_middle(lower_lip), (0, -1.5, 0)))),
    Action("jaw_drop", "AU26", "jaw rotates open", ()),  # a rotation, see _jaw_drop
)
assert len(ACTIONS) == N_BILATERAL


def _action_field(action: Action, r: Regions) -> np.ndarray:
    """(P, 3) displacement of one unit of a bilateral action."""
    out = np.zeros_like(r.points)
    for side in ("left", "right"):
        for term in action.terms:
            move = np.asarray(term.move_mm, float) * MM
            if side == "right":
                move[0] = -move[0]
            out += term.weight(r, side)[:, None] * move
    return out


def _jaw_drop(r: Regions, jaw_center: np.ndarray) -> np.ndarray:
    a = JAW_DROP_RADIANS
    rot = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rel = r.points - jaw_center
    return r.jaw[:, None] * (rel @ rot.T - rel)


def expression_names() -> list[str]:
    names = [a.name for a in ACTIONS]
    for a in ACTIONS[:N_ONE_SIDED_SOURCES]:
        names += [f"left_{a.name}", f"right_{a.name}"]
    names += [f"mixture_{k:02d}" for k in range(N_EXPRESSION_TOTAL - len(names))]
    return names


def expression_directions(r: Regions, jaw_center: np.ndarray) -> np.ndarray:
    """(P, 3, 100) displacement per unit coefficient, over the points of `r`."""
    bilateral = [_jaw_drop(r, jaw_center) if a.name == "jaw_drop" else _action_field(a, r) for a in ACTIONS]
    # One-sided = the bilateral field faded out across the midline: left + right = bilateral.
    left, right = _half(r, "left")[:, None], _half(r, "right")[:, None]
    one_sided = []
    for field in bilateral[:N_ONE_SIDED_SOURCES]:
        one_sided += [field * left, field * right]
    rng = np.random.default_rng(SEED)
    n_mix = N_EXPRESSION_TOTAL - len(bilateral) - len(one_sided)
    mix = rng.normal(size=(n_mix, N_BILATERAL))
    mix *= MIXTURE_SCALE / np.linalg.norm(mix, axis=1, keepdims=True)
    basis = np.stack(bilateral, -1)
    mixtures = [basis @ m for m in mix]
    return np.stack(bilateral + one_sided + mixtures, -1)


def action_table() -> list[dict]:
    """Which direction does what, for docs and `meflow assets check`."""
    rows = [{"index": i, "name": a.name, "action_unit": a.action_unit, "description": a.description}
            for i, a in enumerate(ACTIONS)]
    for k, a in enumerate(ACTIONS[:N_ONE_SIDED_SOURCES]):
        for j, side in enumerate(("left", "right")):
            rows.append({"index": N_BILATERAL + 2 * k + j, "name": f"{side}_{a.name}",
                         "action_unit": f"{side[0].upper()}{a.action_unit}", "description": f"{a.description}, {side} side only"})
    return rows
