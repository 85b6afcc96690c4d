"""FACS action units: their names, the regions they move, and the stand-in's named expressions.

The stand-in head's expression directions are facial actions (`STANDIN_ACTIONS`, in direction
order; `flame_assets.standin` builds its displacement fields from this table), so a sample's
expression parameters say which action units moved between onset and apex, and by how much
(`sample_action_units`). FLAME's PCA directions have no such names: its samples carry no AUs.

Sides follow FACS: "L12" is the SUBJECT's left lip corner. The 29 ROIs (`facial.regions`) are
named by the IMAGE side, so for a face seen from the front a left-side action moves the "Right"
regions (`au_regions` does the swap).

Units: one unit of an action is one unit of its stand-in direction (a few millimetres of skin at
the action's centre; 2-3 units is a strong expression). Jaw opening (AU26) is the jaw joint's
rotation over `JAW_RADIANS_PER_UNIT`; eye closure (AU43) is the eyelid closure fraction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .regions import ROI_NAMES

# FACS names of the action units MEFlow uses (Ekman, Friesen & Hager, FACS manual 2002).
AU_NAMES: dict[int, str] = {
    1: "inner brow raiser", 2: "outer brow raiser", 4: "brow lowerer", 5: "upper lid raiser",
    6: "cheek raiser", 7: "lid tightener", 9: "nose wrinkler", 10: "upper lip raiser",
    12: "lip corner puller", 14: "dimpler", 15: "lip corner depressor", 16: "lower lip depressor",
    17: "chin raiser", 18: "lip pucker", 20: "lip stretcher", 23: "lip tightener", 24: "lip pressor",
    25: "lips part", 26: "jaw drop", 43: "eyes closed",
}

# Where each action unit moves the skin, as parts of ROI names (`facial.regions.ROI_NAMES`): the
# regions that FACS describes its appearance changes in and that the stand-in's field moves most.
AU_REGION_PARTS: dict[int, tuple[str, ...]] = {
    1: ("Inner Eyebrow",), 2: ("Outer Eyebrow",), 4: ("Inner Eyebrow", "Outer Eyebrow"),
    5: ("Upper Eyelid",), 6: ("Cheek", "Lower Eyelid"), 7: ("Lower Eyelid", "Upper Eyelid"),
    9: ("Nostril Wing",), 10: ("Upper Lip", "Nostril Wing"), 12: ("Mouth Corner", "Cheek"),
    14: ("Mouth Corner",), 15: ("Mouth Corner",), 16: ("Lower Lip",), 17: ("Chin", "Lower Lip"),
    18: ("Mouth Corner", "Upper Lip", "Lower Lip"), 20: ("Mouth Corner",), 23: ("Upper Lip", "Lower Lip"),
    24: ("Upper Lip", "Lower Lip"), 25: ("Upper Lip (Center)", "Lower Lip (Center)"),
    26: ("Chin", "Lower Lip"), 43: ("Upper Eyelid",),
}


@dataclass(frozen=True)
class StandinAction:
    name: str  # the direction's name in the head model
    au: int
    description: str


# The stand-in's bilateral directions 0-17, in order. Directions 18-49 are the left-only and
# right-only versions of the first N_ONE_SIDED (left then right for each); 50-99 are mixtures.
STANDIN_ACTIONS: tuple[StandinAction, ...] = (
    StandinAction("brow_inner_raise", 1, "inner brows up"),
    StandinAction("brow_outer_raise", 2, "outer brows up"),
    StandinAction("brow_lower", 4, "brows down and together"),
    StandinAction("upper_lid_raise", 5, "upper lids up, eyes wider"),
    StandinAction("cheek_raise", 6, "cheeks up, lower lids pushed up"),
    StandinAction("lid_tighten", 7, "lids narrow the eye"),
    StandinAction("nose_wrinkle", 9, "nose sides and wings up"),
    StandinAction("upper_lip_raise", 10, "upper lip up"),
    StandinAction("lip_corner_pull", 12, "lip corners out and up (smile)"),
    StandinAction("dimpler", 14, "lip corners tightened inwards"),
    StandinAction("lip_corner_depress", 15, "lip corners down"),
    StandinAction("lower_lip_depress", 16, "lower lip down"),
    StandinAction("chin_raise", 17, "chin boss and lower lip up"),
    StandinAction("lip_pucker", 18, "lips forward and together"),
    StandinAction("lip_stretch", 20, "lip corners pulled sideways"),
    StandinAction("lip_press", 24, "lips pressed together"),
    StandinAction("lips_part", 25, "lips apart, jaw still"),
    StandinAction("jaw_drop", 26, "jaw rotates open"),
)
N_ONE_SIDED = 16  # actions 0..15 also exist as left-only and right-only directions
SIDES = ("L", "R")  # FACS sides: the subject's left and right
SIDE_WORDS = {"L": "left", "R": "right"}
JAW_RADIANS_PER_UNIT = 0.06  # jaw-joint rotation (radians) of one unit of AU26
JAW_AU, EYES_CLOSED_AU = 26, 43

MIN_INTENSITY = 0.02  # units: below this an action moves skin by less than ~0.1 mm (not listed)
MIN_EYE_CLOSURE = 0.02  # eyelid closure fraction below which AU43 is not listed


def standin_direction_names() -> tuple[str, ...]:
    """Names of the stand-in's named directions 0..(len(STANDIN_ACTIONS) + 2 N_ONE_SIDED - 1)."""
    names = [a.name for a in STANDIN_ACTIONS]
    for action in STANDIN_ACTIONS[:N_ONE_SIDED]:
        names += [f"left_{action.name}", f"right_{action.name}"]
    return tuple(names)


def has_standin_actions(expression_names: tuple[str, ...] | None) -> bool:
    """Whether a head model's expression directions begin with the stand-in's named actions (so
    its samples have action units); False for FLAME's unnamed PCA directions (None)."""
    named = standin_direction_names()
    return bool(expression_names) and tuple(expression_names[:len(named)]) == named


def standin_direction_units() -> tuple[tuple[int, str], ...]:
    """(AU number, side "" | "L" | "R") of each named stand-in direction, in direction order."""
    units = [(a.au, "") for a in STANDIN_ACTIONS]
    for action in STANDIN_ACTIONS[:N_ONE_SIDED]:
        units += [(action.au, "L"), (action.au, "R")]
    return tuple(units)


def standin_direction_index(number: int, side: str = "") -> int:
    """The stand-in direction of an action unit ("" both sides, "L" / "R" one side).
    KeyError when the stand-in has no such direction (AU26 is the jaw joint, not a direction)."""
    units = standin_direction_units()
    if (number, side) not in units or number == JAW_AU:
        raise KeyError(f"the stand-in has no expression direction for {side}{number}")
    return units.index((number, side))


@dataclass(frozen=True)
class ActionUnit:
    """One action unit that moved: number, side ("" both, "L" / "R" the subject's side) and
    intensity (units, see the module docstring; None when a label gives none)."""

    number: int
    side: str = ""
    intensity: float | None = None

    @property
    def code(self) -> str:
        """FACS code as CASME II writes it: "12", "L12", "R14"."""
        return f"{self.side}{self.number}"

    @property
    def label(self) -> str:
        """"AU12", "AU12 (left)"."""
        return f"AU{self.number}" + (f" ({SIDE_WORDS[self.side]})" if self.side else "")

    @property
    def name(self) -> str:
        return AU_NAMES.get(self.number, f"action unit {self.number}")

    def to_json(self) -> dict:
        out = {"au": self.number, "side": self.side, "code": self.code}
        if self.intensity is not None:
            out["intensity"] = round(float(self.intensity), 4)
        return out

    @classmethod
    def from_json(cls, data: dict) -> ActionUnit:
        """The inverse of to_json (the `code` key is derived, so it is not read)."""
        return cls(int(data["au"]), str(data["side"]), data.get("intensity"))


_CODE = re.compile(r"^(?:AU)?\s*([LRBU]?)\s*(\d{1,2})\s*([A-E]?)$", re.IGNORECASE)


def parse_au_code(text: str) -> ActionUnit:
    """One FACS code as annotations write it ("12", "AU12", "L12", "R14A", "12B") -> ActionUnit
    (intensity letters are dropped; "B" = bilateral, "U" = unilateral without side). ValueError
    names the code."""
    match = _CODE.match(text.strip())
    if not match:
        raise ValueError(f"not an action unit code: {text!r} (write e.g. 12, AU12, L12 or R14A)")
    side = match.group(1).upper()
    return ActionUnit(int(match.group(2)), side if side in SIDES else "")


def parse_au_list(text: str) -> tuple[ActionUnit, ...]:
    """"4+L10", "AU1, AU2", "12;14" -> ActionUnits in order, duplicates dropped. "" -> ()."""
    seen: dict[str, ActionUnit] = {}
    for token in re.split(r"[+,;|/\s]+", text.strip()):
        if token and token.lower() not in ("none", "nan"):
            unit = parse_au_code(token)
            seen.setdefault(unit.code, unit)
    return tuple(seen.values())


def sample_action_units(expression: np.ndarray, jaw: np.ndarray, eyelids: np.ndarray) -> tuple[ActionUnit, ...]:
    """A stand-in sample's parameters in the three states (onset, head, apex; as shards store
    them): expression (3, >= 50), jaw (3, 3), eyelids (3, 2) -> the action units that moved from
    onset to apex, sorted by number.

    Per AU the subject's left side moves by bilateral + left-only, the right by bilateral +
    right-only; both sides at or above MIN_INTENSITY give a bilateral AU (their mean intensity),
    one side alone gives "L" or "R". Actions that relax (negative deltas) are not listed."""
    delta = np.asarray(expression, np.float64)[2] - np.asarray(expression, np.float64)[0]
    sides: dict[int, np.ndarray] = {}
    for k, (number, side) in enumerate(standin_direction_units()):
        amount = sides.setdefault(number, np.zeros(2))
        if side != "R":
            amount[0] += delta[k]
        if side != "L":
            amount[1] += delta[k]
    jaw_open = (float(jaw[2][0]) - float(jaw[0][0])) / JAW_RADIANS_PER_UNIT
    sides[JAW_AU] = sides.get(JAW_AU, np.zeros(2)) + jaw_open
    units = [_unit(number, amount, MIN_INTENSITY) for number, amount in sides.items()]
    closure = np.asarray(eyelids, np.float64)[2] - np.asarray(eyelids, np.float64)[0]
    units.append(_unit(EYES_CLOSED_AU, closure, MIN_EYE_CLOSURE))
    return tuple(sorted((u for u in units if u is not None), key=lambda u: (u.number, u.side)))


def _unit(number: int, left_right: np.ndarray, threshold: float) -> ActionUnit | None:
    left, right = (float(x) for x in left_right)
    if left >= threshold and right >= threshold:
        return ActionUnit(number, "", 0.5 * (left + right))
    if left >= threshold:
        return ActionUnit(number, "L", left)
    if right >= threshold:
        return ActionUnit(number, "R", right)
    return None


def _region_side(name: str) -> str:
    """The image side of a ROI ("Left" / "Right"; the first such word) or "" for central ones."""
    match = re.search(r"\b(Left|Right)\b", name)
    return match.group(1) if match else ""


def au_regions(unit: ActionUnit) -> tuple[str, ...]:
    """The ROI names (ROI_NAMES order) an action unit moves: bilateral AUs both sides, a one-sided
    AU the image side where the subject's side appears frontally (L -> "Right" regions) and the
    central regions. () for an AU outside AU_REGION_PARTS."""
    parts = AU_REGION_PARTS.get(unit.number, ())
    image_side = {"": "", "L": "Right", "R": "Left"}[unit.side]
    return tuple(name for name in ROI_NAMES
                 if any(part in name for part in parts)
                 and (not image_side or _region_side(name) in ("", image_side)))
