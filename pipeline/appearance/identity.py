"""One identity's appearance: every choice drawn from the sample's own seeded stream within the
recipe's distributions ([render.appearance]), recorded as plain data in the scene JSON."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from render.backgrounds import srgb_to_linear

HAIR_STYLES = ("bald", "buzz", "short", "medium", "bob")
HANGING_STYLES = ("bob",)  # styles with hair that falls past the scalp (render.hair), not the cap alone
BUZZ_THICKNESS = 0.008  # face units (about 1 mm): clipped hair is colour, barely volume
EYELINER_PROBABILITY, LIPSTICK_PROBABILITY, BLUSH_PROBABILITY = 0.6, 0.6, 0.5  # given make-up
FEMALE_BROW_THICKNESS = 0.8  # women's brows are finer (many are shaped), relative to the drawn thickness
SEXES = ("female", "male")


@dataclass(frozen=True)
class AppearanceProfile:
    """The recipe's [render.appearance] table (see datasets/meflow-v1.toml for each key)."""

    enabled: bool = True
    texture_size: int = 1024
    hair_colours: tuple[str, ...] = ("#16100c", "#2b1d14", "#4a3222", "#7a5a3c", "#a8855a", "#8a3f22", "#8c8884")
    hair_styles: tuple[str, ...] = HAIR_STYLES
    hair_style_weights: tuple[float, ...] = (0.12, 0.23, 0.43, 0.20, 0.02)  # men's
    female_hair_style_weights: tuple[float, ...] = (0.0, 0.03, 0.10, 0.12, 0.75)
    hair_length: tuple[float, float] = (0.02, 0.10)  # cap thickness, face units (brow-to-chin = 1)
    hairline: tuple[float, float] = (0.28, 0.45)  # brows to hairline, face units
    recession: tuple[float, float] = (0.0, 0.15)
    brow_thickness: tuple[float, float] = (0.06, 0.10)
    brow_density: tuple[float, float] = (0.6, 1.0)
    lip_colours: tuple[str, ...] = ("#b86a66", "#a9574f", "#8e4a45", "#6e3a36", "#c07a74")
    freckles_probability: float = 0.2
    stubble_probability: float = 0.45  # share of men
    makeup_probability: float = 0.5  # share of women
    lipstick_colours: tuple[str, ...] = ("#9c2b34", "#b0444c", "#7a2430", "#c0606a")
    wrinkles: tuple[float, float] = (0.0, 1.0)
    pores: tuple[float, float] = (0.4, 1.0)
    texture_folder: str = ""
    texture_probability: float = 0.5
    teeth_stain: tuple[float, float] = (0.0, 1.0)  # 0 bleached white .. 1 stained yellow
    sclera_veins: tuple[float, float] = (0.0, 1.0)  # 0 clear .. 1 bloodshot (squared when drawn: most eyes are clear)


@dataclass(frozen=True)
class Identity:
    """Colours are linear RGB; lengths are face units (brow-to-chin = 1). texture: a library UV
    texture used as the base skin ("" for procedural skin); sex: whose hair style, stubble and
    make-up these are (facial.demographics)."""

    seed: int
    skin_variation: float
    blush: float
    freckles: float
    pores: float
    wrinkles: float
    brow_colour: tuple[float, float, float]
    brow_thickness: float
    brow_density: float
    brow_lift: float
    lash_darkness: float
    lip_colour: tuple[float, float, float]
    lip_gloss: float
    stubble: float
    eyeliner: float
    lipstick: tuple[float, float, float] | None
    makeup_blush: float
    hair_style: str
    hair_colour: tuple[float, float, float]
    hair_thickness: float
    hairline: float
    recession: float
    sideburns: float
    texture: str = ""
    skin_shine: float = 1.0  # how oily the T-zone is (0: as matte as the cheeks)
    sex: str = "male"

    def to_json(self) -> dict:
        return asdict(self)


def hex_linear(colour: str) -> tuple[float, float, float]:
    return tuple(float(c) for c in srgb_to_linear(np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0))


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> tuple[float, float, float]:
    return hex_linear(options[int(rng.integers(len(options)))])


def _within(unit: float, lo: float, hi: float) -> float:
    """A [0, 1) draw mapped onto [lo, hi)."""
    return float(lo + (hi - lo) * unit)


def sample_identity(profile: AppearanceProfile, rng: np.random.Generator, textures: list[str] | None = None,
                    sex: str = "male") -> Identity:
    """Draw one identity of a person of `sex`: stubble and sideburns only on men, make-up only on
    women, hair styles by the sex's weights. The number and order of draws is fixed whatever the
    outcomes, so a changed probability (or sex) never shifts the draws after it."""
    if sex not in SEXES:
        raise ValueError(f"sex must be one of {list(SEXES)}, got {sex!r}")
    female = sex == "female"
    u = rng.random(8)  # the yes / no choices
    amount = rng.random(4)  # how much, where chosen: freckles, stubble, eyeliner, make-up blush (drawn either way)
    weights = np.asarray(profile.female_hair_style_weights if female else profile.hair_style_weights)
    style = profile.hair_styles[int(rng.choice(len(profile.hair_styles), p=weights / weights.sum()))]
    hair = np.asarray(_pick(rng, profile.hair_colours))
    grey = rng.random() ** 4  # most identities have little grey
    hair = (1 - grey) * hair + grey * np.array(hex_linear("#8c8c8c"))
    length = rng.uniform(*profile.hair_length)
    thickness = {"bald": 0.0, "buzz": BUZZ_THICKNESS, "short": length, "medium": 1.8 * length, "bob": 1.8 * length}[style]
    brow = hair * rng.uniform(0.35, 0.7)  # brows read darker than scalp hair (denser, shaded)
    makeup = female and bool(u[2] < profile.makeup_probability)
    lipstick = _pick(rng, profile.lipstick_colours)
    texture_draw, texture_index = rng.random(), int(rng.integers(2**31))
    texture = textures[texture_index % len(textures)] if textures and texture_draw < profile.texture_probability else ""
    return Identity(
        seed=int(rng.integers(2**31)),
        skin_variation=float(rng.uniform(0.3, 1.0)),
        blush=float(rng.uniform(0.2, 1.0)),
        freckles=_within(amount[0], 0.3, 1.0) if u[0] < profile.freckles_probability else 0.0,
        pores=float(rng.uniform(*profile.pores)),
        wrinkles=float(rng.uniform(*profile.wrinkles)),
        brow_colour=tuple(float(c) for c in brow),
        brow_thickness=float(rng.uniform(*profile.brow_thickness)) * (FEMALE_BROW_THICKNESS if female else 1.0),
        brow_density=float(rng.uniform(*profile.brow_density)),
        brow_lift=float(rng.uniform(-0.01, 0.02)),
        lash_darkness=float(rng.uniform(0.6, 0.95)),
        lip_colour=_pick(rng, profile.lip_colours),
        lip_gloss=float(rng.uniform(0.0, 1.0)),
        stubble=_within(amount[1], 0.3, 1.0) if not female and u[1] < profile.stubble_probability else 0.0,
        eyeliner=_within(amount[2], 0.4, 1.0) if makeup and u[3] < EYELINER_PROBABILITY else 0.0,
        lipstick=lipstick if makeup and u[4] < LIPSTICK_PROBABILITY else None,
        makeup_blush=_within(amount[3], 0.3, 1.0) if makeup and u[5] < BLUSH_PROBABILITY else 0.0,
        hair_style=style, hair_colour=tuple(float(c) for c in hair), hair_thickness=float(thickness),
        hairline=float(rng.uniform(*profile.hairline)), recession=float(rng.uniform(*profile.recession)),
        sideburns=0.0 if female else float(u[6]), texture=texture,
        skin_shine=float(rng.uniform(0.2, 1.0)),  # drawn last: the draws before it stay where they were
        sex=sex,
    )
