"""Identity directions of the stand-in: 10 named proportions, then MakeHuman's face modifiers and
ethnicity / sex / age targets carried onto the skin (human.py), then smooth local variations with
decaying amplitude (as PCA components decay) up to 300. One unit is about one population standard
deviation, so shape coefficients ~ N(0, 1) give plausible heads."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facial.demographics import CORNERS
from facial.flame_layout import N_SHAPE

from . import human, onto_human
from .geometry import Template
from .grid import open_slits
from .regions import Regions
from .spec import SEED, HeadSpec, gaussian2d, smoothstep
from .surface import NECK_BLEND_END

RANDOM_BUMPS_PER_DIRECTION = 3
RANDOM_AMPLITUDE = 0.001  # metres at the first random direction (the human targets carry the large variation)
RANDOM_DECAY = 12.0  # amplitude halves after this many directions
N_EYES = 2  # Regions.points ends with the two eye centres
EYE_FOLLOW_RADIUS = 0.008  # m: the skin whose motion an eyeball follows (lids, socket rim)
ASYMMETRIC_EVERY = 5  # every 5th random direction is asymmetric: real faces are not mirror images

# MakeHuman's face modifiers: a slider from -1 (the first of a pair) to +1 (the second), whose ends
# are caricatures. A region's sliders together vary by REGION_STD of a slider: each of its n sliders
# by REGION_STD / sqrt(n), so a region with many sliders (the nose has 20) is not the most varied.
MODIFIER_FOLDERS = ("head", "forehead", "eyebrows", "eyes", "nose", "cheek", "mouth", "chin")
# Sliders left out: a nose or chin pushed off the midline is not a face, and the stand-in's eyeballs
# sit where its layout puts them (its lids must keep hugging them), so no slider moves a whole eye.
LEFT_OUT = ("-trans-in", "-trans-out", "-angle-in", "-angle-out", "eye-trans-up", "eye-trans-down", "eye-scale-incr",
            "eye-scale-decr", "eye-push1-in", "eye-push1-out", "eye-push2-in", "eye-push2-out")
SLIDER_ENDS = (("decr", "incr"), ("down", "up"), ("in", "out"), ("backward", "forward"), ("concave", "convex"),
               ("compress", "uncompress"), ("less", "more"))
REGION_STD = 0.6
ASYMMETRY = 0.3  # the left-minus-right part of paired sliders, relative to their common part
# Whole-head variation: the adult ethnicity x sex x age corners of MakeHuman's macro model
# (facial.demographics.CORNERS). The random source mixes them into one person (a convex mix);
# MACRO_STD only sizes their unit.
MACRO_STD = 0.3
# MakeHuman's targets stop at the jaw (the stand-in's neck is its own tube, where identity fades
# out), so every sex had the same 11.4 cm neck. A whole sex corner also moves the tube's wall by
# this much (metres, outwards): adult neck breadth is about 12.5 cm for men and 10 cm for women.
NECK_GIRTH = {"male": 0.006, "female": -0.006}
MAX_UNIT_DISPLACEMENT = 0.003  # metres: no one direction moves a point further than this per unit

# The named proportions were sized when they were the only large directions; the human targets
# now vary the same things too, so each is halved to keep the totals at anthropometric spreads
# (head breadth and face length about 5-7 mm, one standard deviation).
NAMED_STD = 0.5
NAMED_SHAPES = ("head_width", "head_height", "head_depth", "jaw_width", "lower_face_length", "nose_size",
                "nose_width", "eye_spacing", "lip_fullness", "chin_prominence")


def _named(r: Regions) -> list[np.ndarray]:
    p = r.points
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    zero = np.zeros_like(x)

    def vec(dx, dy, dz):
        return np.stack([dx + zero, dy + zero, dz + zero], -1)

    nose = gaussian2d(x, y, 0, -0.020, 0.012, 0.020) * r.front
    return [NAMED_STD * d for d in (
        vec(0.065 * x, 0, 0),
        vec(0, 0.045 * np.maximum(y, 0) + 0.02 * y, 0),
        vec(0, 0, 0.05 * z),
        vec(0.08 * x * smoothstep(-0.02, -0.09, y), 0, 0),
        vec(0, 0.06 * np.minimum(y, 0) * smoothstep(-0.01, -0.05, y), 0),
        vec(0, 0, 0.004 * nose),
        vec(0.25 * x * gaussian2d(x, y, 0, -0.033, 0.015, 0.008) * r.front, 0, 0),
        vec(0.0025 * np.sign(x) * (gaussian2d(np.abs(x), y, 0.032, 0.004, 0.015, 0.014) * r.front), 0, 0),
        vec(0, 0, 0.002 * (r.upper_lip + r.lower_lip)),
        vec(0, -0.002 * gaussian2d(x, y, 0, -0.092, 0.016, 0.012) * r.front, 0.003 * gaussian2d(x, y, 0, -0.092, 0.016, 0.012) * r.front),
    )]


def _sliders(folder: Path) -> list[tuple[Path | None, Path]]:
    """(low end or None, high end) target files of each slider in a modifier folder, sorted."""
    files = sorted(folder.glob("*.target.gz"))
    names = {f.name[: -len(".target.gz")]: f for f in files}
    sliders, used = [], set()
    for name, path in names.items():
        for low, high in SLIDER_ENDS:
            if name.endswith("-" + high) and name[: -len(high)] + low in names:
                sliders.append((names[name[: -len(high)] + low], path))
                used.update({name, name[: -len(high)] + low})
    sliders += [(None, path) for name, path in names.items() if name not in used]
    return sorted((s for s in sliders if not s[1].name.endswith(tuple(f"{end}.target.gz" for end in LEFT_OUT))), key=lambda s: s[1].name)


def _slider_field(head: human.HumanHead, low: Path | None, high: Path) -> np.ndarray:
    """(N, 3) one slider's displacement per unit (half the way from its low end to its high end)."""
    field = human.target_displacement(head, high)
    return field if low is None else 0.5 * (field - human.target_displacement(head, low))


def human_target_fields(spec: HeadSpec) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The names of the human head's K directions, (C, 3, K) the displacement of its control points
    per unit of each, and (K,) the coefficient that applies a direction's whole target (a slider at
    its end, a macro corner in full)."""
    head = human.human_head(spec)
    root = human.data_root() / "targets"
    names, fields, stds = [], [], []
    for folder in MODIFIER_FOLDERS:
        sliders = _sliders(root / folder)
        per_slider = {high.name: _slider_field(head, low, high) for low, high in sliders}
        # A left and a right slider move together (faces are nearly symmetric), with a little of
        # their difference for the asymmetry real faces have.
        for name, field in per_slider.items():
            stem = name[: -len(".target.gz")]
            if name.startswith("r-") and "l-" + name[2:] in per_slider:
                continue
            std = REGION_STD / np.sqrt(len(sliders))
            if name.startswith("l-") and "r-" + name[2:] in per_slider:
                other = per_slider["r-" + name[2:]]
                fields += [std * (field + other) / np.sqrt(2.0), ASYMMETRY * std * (field - other) / np.sqrt(2.0)]
                names += [f"{stem[2:]} (both sides)", f"{stem[2:]} (left - right)"]
                stds += [std / np.sqrt(2.0), ASYMMETRY * std / np.sqrt(2.0)]
            else:
                fields.append(std * field)
                names.append(stem)
                stds.append(std)
    for name in CORNERS:
        fields.append(MACRO_STD * human.target_displacement(head, root / "macrodetails" / f"{name}.target.gz", whole_body=True))
        names.append(f"macro {name}")
        stds.append(MACRO_STD)
    out = np.stack(fields, -1)
    peak = np.linalg.norm(out, axis=1).max(0)
    clip = np.minimum(1.0, MAX_UNIT_DISPLACEMENT / np.maximum(peak, 1e-12))
    return names, out * clip, 1.0 / (np.asarray(stds) * clip)


def human_directions(template: Template, slit_shifts: dict, spec: HeadSpec) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The names of the human head's identity directions, (Vg, 3, K) the directions at the
    template's skin vertices (the grid with its slits opened by slit_shifts, as the template was
    built) and (K,) each one's whole-target coefficient (see human_target_fields)."""
    grid = template.grid
    names, fields, full = human_target_fields(spec)
    dirs = onto_human.human_fields(grid.theta, open_slits(grid, slit_shifts), grid.neck, grid.faces, fields, spec)
    wall = neck_wall(grid.theta, grid.neck)
    for k, name in enumerate(names):
        if name.startswith("macro "):
            dirs[:, :, k] += NECK_GIRTH[name.split("-")[1]] / full[k] * wall
    return names, dirs, full


def neck_wall(theta: np.ndarray, neck: np.ndarray) -> np.ndarray:
    """(V, 3) the outward unit direction of the neck tube's wall at grid parameters theta, neck
    (V,), fading in down the neck as the head's identity fields fade out (zero on the head rows)."""
    out = np.stack([np.sin(theta), np.zeros_like(theta), np.cos(theta)], -1)
    return out * smoothstep(0.0, NECK_BLEND_END, neck)[:, None]


def shape_directions(r: Regions, normals: np.ndarray, human_dirs: np.ndarray) -> np.ndarray:
    """(P, 3, 300) identity displacement per unit coefficient. normals (P, 3) outward; human_dirs
    (P - 2, 3, K) the human head's directions at the skin points (eyeballs follow the skin)."""
    rng = np.random.default_rng(SEED + 1)
    dirs = _named(r)
    for k in range(human_dirs.shape[2]):
        dirs.append(_with_eyeballs(np.concatenate([human_dirs[:, :, k], np.zeros((N_EYES, 3))]), r.points))
    anchors = r.points[rng.integers(0, len(r.points) - 2, size=(N_SHAPE, RANDOM_BUMPS_PER_DIRECTION))]
    sigmas = rng.uniform(0.015, 0.040, size=(N_SHAPE, RANDOM_BUMPS_PER_DIRECTION))
    signs = rng.choice([-1.0, 1.0], size=(N_SHAPE, RANDOM_BUMPS_PER_DIRECTION))
    first_random = len(dirs)
    for k in range(first_random, N_SHAPE):
        field = np.zeros(len(r.points))
        mirror = (k % ASYMMETRIC_EVERY) != 0
        for a, s, sg in zip(anchors[k], sigmas[k], signs[k]):
            field += sg * np.exp(-0.5 * np.sum((r.points - a) ** 2, 1) / s**2)
            if mirror:
                field += sg * np.exp(-0.5 * np.sum((r.points - a * [-1, 1, 1]) ** 2, 1) / s**2)
        field *= RANDOM_AMPLITUDE / (1.0 + (k - first_random) / RANDOM_DECAY) / max(np.abs(field).max(), 1e-12)
        dirs.append(_with_eyeballs(field[:, None] * normals, r.points))
    return np.stack(dirs[:N_SHAPE], -1)


def _with_eyeballs(displacement: np.ndarray, points: np.ndarray) -> np.ndarray:
    """displacement (P, 3) of the skin (the last N_EYES rows, the eye centres, zero), points (P, 3)
    -> the same with each eye centre moved as the skin around it moves, so a bump that sinks or
    raises the brow and cheek takes the eyeball with it and the lids keep hugging it."""
    out = displacement.copy()
    skin = points[:-N_EYES]
    for eye in range(-N_EYES, 0):
        weight = np.exp(-0.5 * np.sum((skin - points[eye]) ** 2, axis=1) / EYE_FOLLOW_RADIUS**2)
        out[eye] = weight @ displacement[:-N_EYES] / weight.sum()
    return out

