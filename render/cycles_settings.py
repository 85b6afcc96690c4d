"""How Cycles spends its time on the beauty render: a recipe's `[render.cycles]` table, as plain data.

Samples per pixel and the denoiser switch stay in `[render]` (every scene records them); this
holds the rest of what trades render time for quality. Values use Blender's own identifiers, so
they read as in Blender's UI and its Python API. The defaults are Blender's, except the bounce
limits, which a head needs few of. `bench/render_quality.py` measures each against a 1024-sample
reference; `meflow-v1` sets the chosen point explicitly.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

DENOISERS = ("OPENIMAGEDENOISE", "OPTIX")
DENOISE_GUIDES = ("RGB", "RGB_ALBEDO", "RGB_ALBEDO_NORMAL")
DENOISE_PREFILTERS = ("NONE", "FAST", "ACCURATE")
DENOISE_QUALITIES = ("HIGH", "BALANCED", "FAST")
SUBSURFACE_METHODS = ("BURLEY", "RANDOM_WALK", "RANDOM_WALK_SKIN")
MAX_BOUNCE_LIMIT = 1024  # Blender's own upper bound on every bounce count

CHOICES = {"denoiser": DENOISERS, "denoise_guides": DENOISE_GUIDES, "denoise_prefilter": DENOISE_PREFILTERS,
           "denoise_quality": DENOISE_QUALITIES, "subsurface": SUBSURFACE_METHODS}
# Inclusive ranges of the numeric keys, as Blender accepts them (integer bounds: an integer key).
RANGES = {"adaptive_threshold": (0.0, 1.0), "adaptive_min_samples": (0, 4096),
          "max_bounces": (0, MAX_BOUNCE_LIMIT), "diffuse_bounces": (0, MAX_BOUNCE_LIMIT),
          "glossy_bounces": (0, MAX_BOUNCE_LIMIT), "transmission_bounces": (0, MAX_BOUNCE_LIMIT),
          "transparent_bounces": (0, MAX_BOUNCE_LIMIT), "clamp_direct": (0.0, 1e6), "clamp_indirect": (0.0, 1e6),
          "blur_glossy": (0.0, 10.0)}


@dataclass(frozen=True)
class CyclesSettings:
    """adaptive_threshold: noise level at which a pixel stops sampling (0: adaptive sampling off);
    adaptive_min_samples: samples before it may stop (0: Cycles' automatic minimum); denoiser and
    its guides (RGB_ALBEDO_NORMAL: albedo and normal passes guide OpenImageDenoise), prefilter of
    the guides (ACCURATE denoises them first, FAST uses them as they are) and quality; light_tree:
    many-light sampling; *_bounces: path length limits; clamp_*: brightest sample contribution (0:
    off); subsurface: the skin's scattering method; blur_glossy: Cycles' filter_glossy;
    subject_border: render (and denoise) only the box the head and glasses can cover in the pair,
    with a margin: every pixel outside it is transparent in any case, so the images do not change
    there, and the box is about half the frame."""

    adaptive_threshold: float = 0.01
    adaptive_min_samples: int = 0
    denoiser: str = "OPENIMAGEDENOISE"
    denoise_guides: str = "RGB_ALBEDO_NORMAL"
    denoise_prefilter: str = "ACCURATE"
    denoise_quality: str = "HIGH"
    light_tree: bool = True
    max_bounces: int = 6
    diffuse_bounces: int = 2
    glossy_bounces: int = 2
    transmission_bounces: int = 6
    transparent_bounces: int = 6
    clamp_direct: float = 0.0
    clamp_indirect: float = 10.0
    subsurface: str = "RANDOM_WALK"
    blur_glossy: float = 1.0
    subject_border: bool = False

    def __post_init__(self) -> None:
        problem = settings_problem(self.to_json())
        if problem:
            raise ValueError(problem)

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def settings_problem(values: dict) -> str:
    """values: every CyclesSettings key -> value. '' when each is one Blender accepts, else one
    line naming the key and what to use."""
    for key, allowed in CHOICES.items():
        value = values[key]
        if value not in allowed:
            return f"[render.cycles] {key} must be one of {list(allowed)}, got {value!r}"
    for key, (lo, hi) in RANGES.items():
        value = values[key]
        integer = isinstance(lo, int)
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not lo <= value <= hi:
            what = "an integer" if integer else "a number"
            return f"[render.cycles] {key} must be {what} in [{lo}, {hi}], got {value!r}"
    for key in ("light_tree", "subject_border"):
        if not isinstance(values[key], bool):
            return f"[render.cycles] {key} must be true or false, got {values[key]!r}"
    return ""
