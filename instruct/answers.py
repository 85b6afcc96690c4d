"""Answers to the three-step instruction: a deterministic FACS rule-based writer, and the checks
any answer (the writer's or a teacher LLM's) must pass to enter the data.

The writer only states what the labels say: every ground-truth AU with the regions it acts on
(and how those regions moved), the category the emotion maps to, and a summary line that the
scorer reads back (`labels.parse_category`), so its answers score 1.0 against their own labels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from facial.action_units import ActionUnit, au_regions

from .labels import DISPLAY, category_of, parse_category
from .motion import NO_DIRECTION, NO_MOTION, RegionMotion

REGIONS_PER_AU = 2  # the writer names an AU's most-moving regions, at most this many
TOP_REGIONS = 3  # and the face's most-moving regions when no AU is annotated


@dataclass(frozen=True)
class Labels:
    """What is known of one pair: the emotion (canonical, see `labels`) and the action units (None:
    not annotated)."""

    emotion: str
    action_units: tuple[ActionUnit, ...] | None


def _motion_phrase(m: RegionMotion) -> str:
    if m.direction == NO_MOTION:
        return f"{m.region} barely moves ({m.mean_magnitude:.2f} px)"
    if m.direction == NO_DIRECTION:
        return f"{m.region} moves without a clear direction ({m.mean_magnitude:.2f} px)"
    return f"{m.region} moves {m.direction} ({m.mean_magnitude:.2f} px at {int(round(m.angle_deg)) % 360}°)"


def _au_sentence(unit: ActionUnit, by_region: dict[str, RegionMotion]) -> str:
    regions = sorted((by_region[r] for r in au_regions(unit) if r in by_region), key=lambda m: -m.mean_magnitude)
    shown = "; ".join(_motion_phrase(m) for m in regions[:REGIONS_PER_AU]) or "its regions lie outside the image"
    return f"- {unit.label} ({unit.name}): {shown}."


def au_list_text(units: tuple[ActionUnit, ...] | None) -> str:
    if units is None:
        return "not annotated"
    return ", ".join(u.label for u in units) if units else "none"


def rule_answer(motions: list[RegionMotion], labels: Labels, label_set: str) -> str:
    """The three-step answer that the labels imply, with the motion of the regions they involve."""
    category = category_of(labels.emotion, label_set)
    if category is None:
        raise ValueError(f"emotion {labels.emotion!r} is not in the {label_set}-class set")
    by_region = {m.region: m for m in motions}
    moving = sorted((m for m in motions if m.moves), key=lambda m: -m.mean_magnitude)
    if labels.action_units:
        step1 = "\n".join(_au_sentence(u, by_region) for u in labels.action_units)
    elif labels.action_units is None and moving:
        step1 = "\n".join(f"- {_motion_phrase(m)}." for m in moving[:TOP_REGIONS]) + "\n- The action units are not annotated."
    else:
        step1 = "- No region moves clearly enough to name an action unit."
    pattern = " + ".join(u.label for u in labels.action_units) if labels.action_units else "this movement"
    emotion_word = DISPLAY.get(labels.emotion, labels.emotion)
    step2 = (f"{pattern} is the movement pattern of {emotion_word.lower()}"
             + (f", a {DISPLAY[category].lower()} micro-expression." if category != labels.emotion else "."))
    step3 = f"AUs: {au_list_text(labels.action_units)}. Micro-expression: {DISPLAY[category]}."
    return f"1. Regions and action units:\n{step1}\n2. Category: {step2}\n3. Summary: {step3}"


def answer_problems(answer: str, labels: Labels, label_set: str) -> list[str]:
    """Why an answer disagrees with the labels (empty: it agrees): the category its summary states
    must be the labels' category, and every annotated AU must be named (AU12, AU 12)."""
    if not answer.strip():
        return ["the answer is empty"]
    expected = category_of(labels.emotion, label_set)
    stated = parse_category(answer, label_set)
    problems = []
    if stated != expected:
        problems.append(f"it states category {stated!r}, the label is {expected!r}")
    missing = [u.label for u in labels.action_units or ()
               if not re.search(rf"\bAU\s*0*{u.number}\b", answer, re.IGNORECASE)]
    if missing:
        problems.append(f"it does not name {', '.join(missing)}")
    return problems
