"""The motion prompt (JSON by default, MELLM's line format on request) and the three-step
instruction that frames it for an LLM.

MELLM's released code writes one line per region, e.g.
    {"region":"Left Lower Eyelid (Left Side),"mean_magnitude":0.3,"max_magnitude":0.3,"direction":up(90°))}
(no closing quote after the region, the direction unquoted, a doubled parenthesis). Its released
model was tuned on exactly these lines, so `mellm_lines` reproduces them byte for byte: magnitudes
rounded to 3 decimals in Python's shortest form, fallbacks as its sentences, "\\n" after every line.
"""
from __future__ import annotations

import json

from .motion import NO_DIRECTION, NO_MOTION, RegionMotion

MAGNITUDE_DECIMALS = 3
PROMPT_FORMATS = ("json", "mellm")
IMAGE_PLACEHOLDER = "<image>"  # one per image, in `images` order (LLaMA-Factory, ms-swift, TRL)


def prompt_objects(motions: list[RegionMotion]) -> list[dict]:
    """RegionMotion list -> JSON-ready objects: region, mean_magnitude, max_magnitude (pixels, 3
    decimals), direction (a label or a fallback), angle_deg (integer degrees; null for a fallback)."""
    return [{
        "region": m.region,
        "mean_magnitude": round(m.mean_magnitude, MAGNITUDE_DECIMALS),
        "max_magnitude": round(m.max_magnitude, MAGNITUDE_DECIMALS),
        "direction": m.direction,
        "angle_deg": int(round(m.angle_deg)) % 360 if m.direction not in (NO_MOTION, NO_DIRECTION) else None,
    } for m in motions]


def json_prompt(motions: list[RegionMotion]) -> str:
    """The motion prompt as a valid JSON list, one region per line."""
    return "[\n" + ",\n".join(json.dumps(o, ensure_ascii=False) for o in prompt_objects(motions)) + "\n]"


def mellm_direction(m: RegionMotion) -> str:
    """MELLM's direction text for one region (its sentences for the two fallbacks)."""
    if m.direction == NO_MOTION:
        return f"No significant motion detected (mean magnitude ≈ {m.mean_magnitude:.6g})."
    if m.direction == NO_DIRECTION:
        return (f"No clear dominant direction (motion is more isotropic or noisy; "
                f"mean magnitude ≈ {m.mean_magnitude:.6g}, concentration ≈ {m.concentration:.3f}).")
    return f"{m.label}({int(round(m.angle_deg)) % 360}°))"


def mellm_lines(motions: list[RegionMotion]) -> str:
    """The motion prompt in MELLM's released line format, byte for byte (each line ends in "\\n")."""
    return "".join(
        f'{{"region":"{m.region},"mean_magnitude":{round(m.mean_magnitude, MAGNITUDE_DECIMALS)},'
        f'"max_magnitude":{round(m.max_magnitude, MAGNITUDE_DECIMALS)},"direction":{mellm_direction(m)}}}\n'
        for m in motions)


def format_prompt(motions: list[RegionMotion], fmt: str = "json") -> str:
    if fmt not in PROMPT_FORMATS:
        raise ValueError(f"unknown prompt format {fmt!r}: choose one of {list(PROMPT_FORMATS)}")
    return json_prompt(motions) if fmt == "json" else mellm_lines(motions)


INSTRUCTION = """The two images are the onset and the apex frame of a facial micro-expression. \
The motion between them, measured in 29 facial regions after removing the head's motion \
(magnitudes in pixels; directions as seen in the image, "Left" meaning the image's left), is:
{motion}
Analyse it in three steps:
1. Regions and action units: describe the regions that move clearly (magnitude and direction) and \
infer the facial action units (AUs) that explain them; skip regions without significant motion.
2. Category: reason from the overall movement pattern to the micro-expression category.
3. Summary: list the AUs and give the micro-expression category, one of ({categories})."""


def instruction(motion_prompt: str, categories: tuple[str, ...], n_images: int = 2) -> str:
    """The user turn: one image placeholder per image, then the three-step instruction around
    the motion prompt."""
    return IMAGE_PLACEHOLDER * n_images + INSTRUCTION.format(motion=motion_prompt.rstrip("\n"),
                                                             categories=" | ".join(categories))
