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

from facial.action_units import JAW_RADIANS_PER_UNIT, N_ONE_SIDED, STANDIN_ACTIONS, standin_direction_names

from ..assets import N_EXPRESSION_TOTAL
from .regions import Regions
from .spec import SEED, gaussian2d, smoothstep

MM = 0.001
JAW_DROP_RADIANS = JAW_RADIANS_PER_UNIT  # jaw rotation of one unit of "jaw_drop"
N_BILATERAL = len(STANDIN_ACTIONS)
N_ONE_SIDED_SOURCES = N_ONE_SIDED  # actions 0..15 also exist as left-only and right-only directions
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


# The displacement of one unit of each named action (facial.action_units.STANDIN_ACTIONS names
# them, gives their AU and their order).
_TERMS: dict[str, tuple[Term, ...]] = {
    "brow_inner_raise": (Term(gauss(0.015, 0.028, 0.010, 0.011), (0, 3.0, 0.3)),),
    "brow_outer_raise": (Term(gauss(0.045, 0.026, 0.012, 0.010), (0, 3.0, 0)),),
    "brow_lower": (Term(gauss(0.024, 0.027, 0.014, 0.010), (-1.5, -2.5, 0.5)), Term(gauss(0, 0.018, 0.008, 0.008), (0, -1.0, 0.8))),
    "upper_lid_raise": (Term(upper_lid, (0, 1.2, -0.3)),),
    "cheek_raise": (Term(gauss(0.040, -0.018, 0.015, 0.013), (0, 2.5, 1.0)), Term(lower_lid, (0, 1.0, 0))),
    "lid_tighten": (Term(lower_lid, (0, 1.5, 0)), Term(upper_lid, (0, -0.8, 0))),
    "nose_wrinkle": (Term(gauss(0.009, -0.006, 0.007, 0.009), (0, 1.5, 0.5)), Term(gauss(0.0135, -0.035, 0.006, 0.006), (0, 1.5, 0))),
    "upper_lip_raise": (Term(upper_lip, (0, 2.5, 1.0)),),
    "lip_corner_pull": (Term(gauss(0.026, -0.061, 0.009, 0.009), (3.0, 2.5, -1.0)),),
    "dimpler": (Term(gauss(0.028, -0.061, 0.007, 0.008), (1.0, 0, -2.0)),),
    "lip_corner_depress": (Term(gauss(0.026, -0.063, 0.009, 0.009), (0.5, -3.0, 0)),),
    "lower_lip_depress": (Term(lower_lip, (0, -2.5, 0.5)),),
    "chin_raise": (Term(gauss(0, -0.088, 0.016, 0.012), (0, 2.5, 1.0)), Term(lower_lip, (0, 1.0, 1.0))),
    "lip_pucker": (Term(gauss(0.012, -0.061, 0.012, 0.012), (-2.5, 0, 2.5)),),
    "lip_stretch": (Term(gauss(0.026, -0.062, 0.010, 0.010), (3.5, -1.0, -0.5)),),
    "lip_press": (Term(upper_lip, (0, -1.2, -0.8)), Term(lower_lip, (0, 1.2, -0.8))),
    "lips_part": (Term(lip_middle(upper_lip), (0, 1.5, 0)), Term(lip_middle(lower_lip), (0, -1.5, 0))),
    "jaw_drop": (),  # a rotation, see _jaw_drop
}
ACTIONS: tuple[Action, ...] = tuple(Action(a.name, f"AU{a.au}", a.description, _TERMS[a.name]) for a in STANDIN_ACTIONS)
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
    names = list(standin_direction_names())
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
