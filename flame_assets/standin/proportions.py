"""Adult proportions for the stand-in's demographic corners.

MakeHuman's macro targets, carried onto the stand-in in full, give its people a doll's face: a
mouth and a nose too small for the eyes, and a pointed chin. Measured on the twelve corners (iBUG
landmarks, ratios to the outer eye corners' distance ex-ex): mouth width ch-ch / ex-ex 0.47-0.52
for the women and 0.49-0.56 for the men, against 0.57-0.59 in adults; nose length n-sn / ex-ex
0.48-0.51 for the women, against 0.545; chin width (iBUG 6-10) 0.78-0.79 for both, against 1.00 and
1.04 on the package's two real photos. Small features on a large head read as a child's or a
cartoon's.

Each sex's corners get one correction, the same for every ancestry and age (so the ancestries keep
the differences MakeHuman gives them), that brings the sex's mean to the adult ratio. It is made of
three directions: MakeHuman's own mouth-width and chin-width sliders, and a midface length that
lowers the face below the eyes smoothly down to the base of the nose (everything lower moves down
with it).
"""
from __future__ import annotations

import numpy as np

from .spec import HeadSpec, smoothstep

# Adult ratios to ex-ex, rounded from Farkas' norms for young North American adults, women / men
# (ch-ch 50.1 / 53.5 mm, n-sn 50.5 / 54 mm, ex-ex 87.8 / 91.2 mm). Farkas' n-sn starts at the
# nasion, 2-3 mm above iBUG's point 27 (the bridge between the eyes), hence 0.545 / 0.565 rather
# than 0.575 / 0.59 (the package's two real photos, both women, measure 0.53 and 0.54 with their
# iBUG landmarks). Men's noses are longer for their eyes than women's: the faces' dimorphism.
# No anthropometric norm measures iBUG's chin points (6, 10): the chin's width is set where the
# landmark detector trained on real photos agrees with it (bench/realism.py found version 6's
# chins, 0.79 of ex-ex, 17 % narrower than it puts them).
ADULT_RATIOS = {"female": {"mouth_width": 0.57, "nose_length": 0.545, "chin_width": 0.90},
                "male": {"mouth_width": 0.585, "nose_length": 0.565, "chin_width": 0.92}}
MEASURES = {"mouth_width": (48, 54), "nose_length": (27, 33), "chin_width": (6, 10)}  # iBUG point pairs
EYE_CORNERS = (36, 45)
SLIDERS = ("mouth-scale-horiz-incr", None, "chin-width-incr")  # MakeHuman's, per measure; None: the midface
MIDFACE_UNIT = 0.001  # metres the base of the nose moves down per unit of the midface direction
NEWTON_STEPS = 4


def proportion_ratios(vertices: np.ndarray, frontal: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """vertices (V, 3), frontal = ((68, 3) vertex indices, (68, 3) barycentrics) of the iBUG points
    on a frontal face -> (len(MEASURES),) each measure's length divided by ex-ex, in MEASURES' order."""
    corners, bary = frontal
    points = np.einsum("kc,kcd->kd", bary, vertices[corners])

    def length(a: int, b: int) -> float:
        return float(np.linalg.norm(points[a] - points[b]))

    return np.array([length(*MEASURES[name]) for name in MEASURES]) / length(*EYE_CORNERS)


def midface_length(points: np.ndarray, nose_base_y: float, spec: HeadSpec) -> np.ndarray:
    """points (P, 3) -> (P, 3) displacement per unit: nothing from the bottom of the eyeballs up
    (lids and eyes keep their shape), a smooth stretch down to the base of the nose, and below
    it a plain downward shift of MIDFACE_UNIT."""
    top = spec.eye_center_y - spec.eyeball_radius
    out = np.zeros_like(points)
    out[:, 1] = -MIDFACE_UNIT * smoothstep(top, nose_base_y, points[:, 1])
    return out


def corner_corrections(base: np.ndarray, corners: np.ndarray, sexes: list[str], correctors: np.ndarray,
                       frontal: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """base (V, 3) template; corners (C, V, 3) each corner's whole displacement; sexes (C,) "female"
    or "male"; correctors (J, V, 3) displacement per unit of each correcting direction, J =
    len(MEASURES) -> (C, J) units of each corrector to add to each corner: one row per sex, which
    brings the mean ratios of that sex's corners to ADULT_RATIOS (Newton's method; the ratios
    are nearly linear in the correctors)."""
    out = np.zeros((len(corners), len(correctors)))
    for sex in sorted(set(sexes)):
        heads = base + corners[[c for c, s in enumerate(sexes) if s == sex]]
        target = np.array([ADULT_RATIOS[sex][name] for name in MEASURES])
        units = np.zeros(len(correctors))
        for _ in range(NEWTON_STEPS):
            now = _mean_ratios(heads, correctors, units, frontal)
            jacobian = np.stack([_mean_ratios(heads, correctors, units + step, frontal) - now
                                 for step in np.eye(len(units))], 1)
            units = units + np.linalg.solve(jacobian, target - now)
        out[[s == sex for s in sexes]] = units
    return out


def _mean_ratios(heads: np.ndarray, correctors: np.ndarray, units: np.ndarray, frontal: tuple) -> np.ndarray:
    """heads (H, V, 3) with units (J,) of correctors (J, V, 3) added -> their mean ratios."""
    shift = np.tensordot(units, correctors, axes=1)
    return np.mean([proportion_ratios(head + shift, frontal) for head in heads], axis=0)
