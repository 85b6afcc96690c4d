"""Dataset recipes (TOML in datasets/): source, schedule and render profile, validated on load.

A recipe is data, versioned; its text and hash go into everything made from it. Every bad value
raises RecipeError naming the file and the key, e.g. "smoke.toml: [render] samples must be an
integer >= 1, got 0".
"""
from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from facial.action_units import JAW_AU, STANDIN_ACTIONS, ActionUnit, parse_au_code
from render.cycles_settings import CyclesSettings, settings_problem

from ..appearance.identity import HAIR_STYLES, AppearanceProfile
from ..fitting.config import FitConfig
from ..fitting.detectors import DETECTORS
from ..resources import recipe_dir
from .distributions import PiecewiseUniform, RecipeError, parse_distribution

LIGHT_ELEVATION_DEG = (-20.0, 70.0)  # default [render.lighting] elevation_deg: from slightly below to well above
LIGHT_AZIMUTH_DEG = 80.0  # default [render.lighting] azimuth_deg: up to side light

LIGHT_TYPES = ("AREA", "POINT", "SUN")
BACKGROUND_KINDS = ("gradient", "noise", "checker", "studio", "bokeh", "images")
DEVICES = ("CPU", "CUDA", "OPTIX")
MAX_RESOLUTION = 8192


@dataclass(frozen=True)
class EmotionPrototype:
    """One emotion of an `expression = "emotions"` source: the action units of its full expression
    (empty for "others", which draws `others_count` actions from `others_pool` instead), and its
    share of the samples (weights are normalised)."""

    name: str
    action_units: tuple[ActionUnit, ...]
    weight: float


@dataclass(frozen=True)
class Emotions:
    prototypes: tuple[EmotionPrototype, ...]
    others_pool: tuple[ActionUnit, ...]  # actions an "others" sample draws from
    others_count: tuple[int, int]


@dataclass(frozen=True)
class Photos:
    """The photos of a photo source and how the build fits them (into the dataset folder's
    `fits/`). kind "affectnet": `csv` is AffectNet's training.csv / validation.csv (its landmarks
    are used) and `images` the folder its paths are relative to ("": the CSV's folder); kind
    "images": `images` is a folder of photos, their landmarks found by `detector`. Paths are
    relative to where the build runs. `limit` > 0 fits only the first `limit` photos."""

    kind: str
    csv: str
    images: str
    detector: str
    max_nme: float
    iterations: int
    batch: int
    texture_size: int
    limit: int


@dataclass(frozen=True)
class Population:
    """Who the heads are (facial.demographics): the share of women; dimorphism, how far from
    androgynous (0) to the sex's MakeHuman corner (1); ancestry_concentration, the Dirichlet
    concentration of the ancestry mix (small: mostly one ancestry, large: even mixes); age, the
    weight of the 90-year corner (0: 25 years). Random heads on a model with the corners (the
    stand-in) are shaped by it; every identity's appearance (stubble, make-up, hair) follows its sex."""

    female_share: float = 0.5
    dimorphism: tuple[float, float] = (0.6, 1.0)
    ancestry_concentration: float = 0.5
    age: tuple[float, float] = (0.0, 0.5)


@dataclass(frozen=True)
class Source:
    """kind "random": identities and expressions drawn from the priors below; "fitted": the
    accepted fits in the folder `fits` (written by `meflow fit`), which then ignores the priors;
    "affectnet" / "images": photos the build fits itself (`photos`), then used as "fitted" is.

    expression "actions": a random full expression of `actions_per_sample` named actions (or PCA
    coefficients on real FLAME); "emotions": an emotion drawn from `emotions` and its prototype's
    action units (stand-in only), each at `action_strength` units."""

    kind: str
    shape_std: float
    actions_per_sample: tuple[int, int]
    action_strength: tuple[float, float]
    pca_expression_std: float
    pca_expression_components: int
    jaw_open_max: float
    jaw_open_probability: float
    eyelid_max: float
    head_pose_std_deg: tuple[float, float, float]
    fits: str = ""
    expression: str = "actions"
    emotions: Emotions | None = None
    photos: Photos | None = None
    population: Population = Population()

    @property
    def uses_fits(self) -> bool:
        """Faces come from a fit folder (given, or made by the build from photos)."""
        return self.kind != "random"


PHOTO_KINDS = ("affectnet", "images")
SOURCE_KINDS = ("random", "fitted", *PHOTO_KINDS)
FIT_DEFAULTS = {"detector": DETECTORS[0], "max_nme": FitConfig.max_nme, "iterations": FitConfig.full_iterations,
                "batch": 8, "texture_size": 512, "limit": 0}
EXPRESSION_KINDS = ("actions", "emotions")
OTHERS = "others"  # the emotion label of samples whose actions match no prototype
# The action units a stand-in can show: its named actions, the jaw and (not in prototypes) nothing else.
STANDIN_AUS = frozenset(a.au for a in STANDIN_ACTIONS) | {JAW_AU}
# What a fitted source may leave out (the random priors it does not use).
RANDOM_PRIOR_DEFAULTS = {"shape_std": 1.0, "actions_per_sample": [1, 3], "action_strength": [1.5, 3.0],
                         "pca_expression_std": 1.5, "pca_expression_components": 20, "jaw_open_max": 0.2,
                         "jaw_open_probability": 0.4, "eyelid_max": 0.5, "head_pose_std_deg": [10.0, 25.0, 6.0]}


def _action_units(section: _Section, key: str, allow_empty: bool = False) -> tuple[ActionUnit, ...]:
    codes = section._get(key, [] if allow_empty else None)
    if not isinstance(codes, list) or (not codes and not allow_empty) or any(not isinstance(c, str) for c in codes):
        raise section._fail(key, "a list of FACS codes like \"12\", \"L12\", \"R14\"", codes)
    units = []
    for code in codes:
        try:
            unit = parse_au_code(code)
        except ValueError as err:
            raise RecipeError(f"{section.file}: [{section.name}] {key}: {err}") from None
        if unit.number not in STANDIN_AUS:
            raise RecipeError(f"{section.file}: [{section.name}] {key}: AU{unit.number} is not one of the stand-in's "
                              f"actions {sorted(STANDIN_AUS)}")
        if unit.side and unit.number == JAW_AU:
            raise RecipeError(f"{section.file}: [{section.name}] {key}: the jaw (AU26) opens on both sides")
        units.append(unit)
    return tuple(units)


def _emotions(table: _Section) -> Emotions:
    prototypes = []
    for name, value in table.data.items():
        if name in ("others_pool", "others_count"):
            continue
        entry = _Section(value, f"{table.name}.{name}", table.file)
        units = _action_units(entry, "action_units", allow_empty=name == OTHERS)
        prototypes.append(EmotionPrototype(name, units, entry.number("weight", 0.0, 1e6, default=1.0)))
    if not prototypes or sum(p.weight for p in prototypes) <= 0:
        raise RecipeError(f"{table.file}: [emotions] needs at least one emotion with a weight > 0")
    pool = _action_units(table, "others_pool", allow_empty=True)
    if any(p.name == OTHERS for p in prototypes) and not pool:
        raise RecipeError(f"{table.file}: [emotions] has '{OTHERS}' but no others_pool to draw its actions from")
    return Emotions(tuple(prototypes), pool, table.range("others_count", 1, 8, integer=True) if pool else (1, 1))


def _population(src: _Section) -> Population:
    d = Population()
    return Population(
        female_share=src.number("female_share", 0.0, 1.0, default=d.female_share),
        dimorphism=src.range("dimorphism", 0.0, 1.0, default=list(d.dimorphism)),
        ancestry_concentration=src.number("ancestry_concentration", 0.01, 100.0, default=d.ancestry_concentration),
        age=src.range("age", 0.0, 1.0, default=list(d.age)))


def _photos(src: _Section, kind: str) -> Photos:
    known = {"kind", "csv", "images", "expression", *FIT_DEFAULTS, *RANDOM_PRIOR_DEFAULTS, *Population.__dataclass_fields__}
    unknown = sorted(set(src.data) - known)
    if unknown:
        raise RecipeError(f"{src.file}: [source] has unknown key {unknown[0]!r} for kind = {kind!r}: use "
                          f"{sorted(known - set(RANDOM_PRIOR_DEFAULTS))}")
    fit = _Section({**FIT_DEFAULTS, **src.data}, src.name, src.file)
    csv = src.text("csv") if kind == "affectnet" else ""
    images = src.text("images", default="") if kind == "affectnet" else src.text("images")
    if kind == "affectnet" and not csv:
        raise RecipeError(f"{src.file}: [source] kind = 'affectnet' needs csv = '<AffectNet training.csv>'")
    if kind == "images" and not images:
        raise RecipeError(f"{src.file}: [source] kind = 'images' needs images = '<folder of photos>'")
    return Photos(kind=kind, csv=csv, images=images, detector=fit.text("detector", DETECTORS),
                  max_nme=fit.number("max_nme", 0.0, 1.0), iterations=fit.integer("iterations", 1, 100_000),
                  batch=fit.integer("batch", 1, 1024), texture_size=fit.integer("texture_size", 64, 4096),
                  limit=fit.integer("limit", 0))


def _source(src: _Section, emotions: _Section | None) -> Source:
    kind = src.text("kind", SOURCE_KINDS)
    photos = None
    if kind != "random":
        src = _Section({**RANDOM_PRIOR_DEFAULTS, **src.data}, src.name, src.file)
    fits = src.text("fits", default="") if kind == "fitted" else ""
    if kind == "fitted" and not fits:
        raise RecipeError(f"{src.file}: [source] kind = 'fitted' needs fits = '<folder written by meflow fit>'")
    if kind in PHOTO_KINDS:
        photos = _photos(src, kind)
    return Source(
        kind=kind, shape_std=src.number("shape_std", 0.0, 5.0),
        actions_per_sample=src.range("actions_per_sample", 1, 18, integer=True),
        action_strength=src.range("action_strength", 0.0, 10.0),
        pca_expression_std=src.number("pca_expression_std", 0.0, 10.0),
        pca_expression_components=src.integer("pca_expression_components", 1, 100),
        jaw_open_max=src.number("jaw_open_max", 0.0, 0.8),
        jaw_open_probability=src.number("jaw_open_probability", 0.0, 1.0), eyelid_max=src.number("eyelid_max", 0.0, 1.0),
        head_pose_std_deg=src.numbers("head_pose_std_deg", 3), fits=fits, photos=photos,
        population=_population(src), **_expression(src, kind, emotions))


def _expression(src: _Section, kind: str, emotions: _Section | None) -> dict:
    expression = src.text("expression", EXPRESSION_KINDS, default="actions")
    if expression == "emotions":
        if kind != "random":
            raise RecipeError(f"{src.file}: [source] expression = 'emotions' needs kind = 'random' (fitted faces bring their own)")
        if emotions is None:
            raise RecipeError(f"{src.file}: [source] expression = 'emotions' needs an [emotions] table of prototypes")
        return {"expression": expression, "emotions": _emotions(emotions)}
    if emotions is not None:
        raise RecipeError(f"{src.file}: the recipe has an [emotions] table but [source] expression is not 'emotions'")
    return {"expression": expression}


@dataclass(frozen=True)
class Schedule:
    onset_expression: PiecewiseUniform
    onset_pose: PiecewiseUniform
    apex_expression_increment: PiecewiseUniform
    apex_pose_increment: PiecewiseUniform


@dataclass(frozen=True)
class Lighting:
    count: tuple[int, int]
    types: tuple[str, ...]
    size_m: tuple[float, float]
    temperature_k: tuple[float, float]
    power_w: tuple[float, float]
    sun_strength: tuple[float, float]
    ambient: tuple[float, float]
    sky_probability: float
    elevation_deg: tuple[float, float] = LIGHT_ELEVATION_DEG  # of each light above the face's horizon
    azimuth_deg: float = LIGHT_AZIMUTH_DEG  # each light at most this far round the head from the face's front
    key_azimuth_deg: tuple[float, float] | None = None  # the first light (the key) this far round, either side; None: as the others


@dataclass(frozen=True)
class Background:
    kinds: tuple[str, ...]
    image_folder: str


@dataclass(frozen=True)
class ExposureProfile:
    """The recipe's [render.exposure] table: face_exposure, the range the camera's metering draws
    from (the face's median luminance over its skin tone's; see render.exposure). None: no metering
    and no highlight shoulder, pixels as the lights make them (recipes without the table).
    white_balance: the share of the lights' colour cast the camera takes away (0: none, 1: all)."""

    face_exposure: tuple[float, float] | None = None
    white_balance: float = 0.0


@dataclass(frozen=True)
class ClothingProfile:
    """[render.clothing]: shoulders in a shirt under the head (render.body). Off by default."""

    probability: float = 0.0  # share of samples with shoulders and a shirt
    colours: tuple[str, ...] = ("#1d2433", "#3b3f45", "#101010", "#d9d6cf", "#6b5a45", "#44503a", "#5a1f24", "#35506e")
    stripes_probability: float = 0.25  # share of shirts with horizontal stripes
    stripe_period_mm: tuple[float, float] = (6.0, 30.0)
    shoulder_width: tuple[float, float] = (0.36, 0.46)  # m, shoulder to shoulder
    shoulder_drop: tuple[float, float] = (0.03, 0.07)  # m the shoulder line falls from the collar
    chest_depth: tuple[float, float] = (0.18, 0.24)  # m, front to back


@dataclass(frozen=True)
class RenderProfile:
    width: int
    height: int
    samples: int
    denoise: bool
    device: str
    threads: int
    focal_mm: tuple[float, float]
    face_fill: tuple[float, float]
    camera_jitter_deg: tuple[float, float]
    skin_tones: tuple[str, ...]
    lighting: Lighting
    background: Background
    glasses_probability: float
    appearance: AppearanceProfile = AppearanceProfile()
    cycles: CyclesSettings = CyclesSettings()
    clothing: ClothingProfile = ClothingProfile()
    exposure: ExposureProfile = ExposureProfile()


@dataclass(frozen=True)
class Recipe:
    name: str
    version: int
    seed: int
    description: str
    source: Source
    schedule: Schedule
    render: RenderProfile
    text: str
    path: str

    @property
    def hash(self) -> str:
        """sha256 of the recipe text: the identity of a dataset's recipe."""
        return hashlib.sha256(self.text.encode()).hexdigest()


class _Section:
    """Typed, range-checked reads from one TOML table; errors name file, table and key."""

    def __init__(self, data: dict, name: str, file: str) -> None:
        if not isinstance(data, dict):
            raise RecipeError(f"{file}: [{name}] must be a table")
        self.data, self.name, self.file = data, name, file

    def _fail(self, key: str, what: str, got) -> RecipeError:
        return RecipeError(f"{self.file}: [{self.name}] {key} must be {what}, got {got!r}")

    def _get(self, key: str, default=None):
        if key not in self.data:
            if default is None:
                where = f"[{self.name}] is" if self.name else "the recipe is"
                raise RecipeError(f"{self.file}: {where} missing '{key}'")
            return default
        return self.data[key]

    def table(self, key: str) -> _Section:
        return _Section(self._get(key), f"{self.name}.{key}" if self.name else key, self.file)

    def number(self, key: str, lo: float = float("-inf"), hi: float = float("inf"), default=None) -> float:
        v = self._get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise self._fail(key, f"a number in [{lo}, {hi}]", v)
        return float(v)

    def integer(self, key: str, lo: int = 0, hi: int = 2**63 - 1, default=None) -> int:
        v = self._get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise self._fail(key, f"an integer >= {lo}" + (f" and <= {hi}" if hi < 2**63 - 1 else ""), v)
        return v

    def flag(self, key: str, default=None) -> bool:
        v = self._get(key, default)
        if not isinstance(v, bool):
            raise self._fail(key, "true or false", v)
        return v

    def text(self, key: str, choices: tuple[str, ...] | None = None, default=None) -> str:
        v = self._get(key, default)
        if not isinstance(v, str) or (choices and v not in choices):
            raise self._fail(key, f"one of {list(choices)}" if choices else "a string", v)
        return v

    def range(self, key: str, lo: float = float("-inf"), hi: float = float("inf"), integer: bool = False,
              default: list | None = None) -> tuple:
        v = self._get(key, default)
        kinds = (int,) if integer else (int, float)
        if (not isinstance(v, list) or len(v) != 2 or any(isinstance(x, bool) or not isinstance(x, kinds) for x in v)
                or not lo <= v[0] <= v[1] <= hi):
            raise self._fail(key, f"[low, high] with {lo} <= low <= high <= {hi}", v)
        return (int(v[0]), int(v[1])) if integer else (float(v[0]), float(v[1]))

    def numbers(self, key: str, n: int, lo: float = 0.0) -> tuple[float, ...]:
        v = self._get(key)
        if not isinstance(v, list) or len(v) != n or any(not isinstance(x, (int, float)) or x < lo for x in v):
            raise self._fail(key, f"a list of {n} numbers >= {lo}", v)
        return tuple(float(x) for x in v)

    def choices(self, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        v = self._get(key)
        if not isinstance(v, list) or not v or any(x not in allowed for x in v):
            raise self._fail(key, f"a non-empty list from {list(allowed)}", v)
        return tuple(v)

    def distribution(self, key: str, lo: float, hi: float) -> PiecewiseUniform:
        dist = parse_distribution(self._get(key), f"{self.file}: [{self.name}] {key}")
        if dist.support[0] < lo or dist.support[1] > hi:
            raise self._fail(key, f"a distribution within [{lo}, {hi}]", list(dist.support))
        return dist


MAX_TEXTURE_SIZE = 4096


def _colours(section: _Section, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    values = section._get(key, list(default))
    if not isinstance(values, list) or not values:
        raise RecipeError(f"{section.file}: [{section.name}] {key} must be a non-empty list of colours like '#4a3222'")
    return tuple(_colour(v, f"{section.file}: [{section.name}] {key}") for v in values)


def _optional_table(ren: _Section, name: str, kind: type):
    """[render.<name>] whose keys are all optional -> (the table, kind() holding the defaults);
    a key kind does not have is a one-line RecipeError listing the known ones."""
    table = _Section(ren.data.get(name, {}), f"render.{name}", ren.file)
    known = set(kind.__dataclass_fields__)
    unknown = sorted(set(table.data) - known)
    if unknown:
        raise RecipeError(f"{table.file}: [render.{name}] has unknown key {unknown[0]!r}: use one of {sorted(known)}")
    return table, kind()


def _appearance(ren: _Section) -> AppearanceProfile:
    """[render.appearance]: every key optional (the defaults are AppearanceProfile's)."""
    table, d = _optional_table(ren, "appearance", AppearanceProfile)

    def rng(key: str, lo: float, hi: float) -> tuple[float, float]:
        return table.range(key, lo, hi) if key in table.data else getattr(d, key)

    styles = table._get("hair_styles", list(d.hair_styles))
    if not isinstance(styles, list) or not styles or any(s not in HAIR_STYLES for s in styles):
        raise RecipeError(f"{table.file}: [render.appearance] hair_styles must be a non-empty list from {list(HAIR_STYLES)}, got {styles!r}")

    def style_weights(key: str) -> tuple[float, ...]:
        # Listing other styles without weights weighs them evenly.
        weights = table._get(key, list(getattr(d, key)) if "hair_styles" not in table.data else [1.0] * len(styles))
        numbers = isinstance(weights, list) and all(not isinstance(w, bool) and isinstance(w, (int, float)) and w >= 0 for w in weights)
        if not numbers or len(weights) != len(styles) or sum(weights) <= 0:
            raise RecipeError(f"{table.file}: [render.appearance] {key} must be {len(styles)} numbers >= 0 "
                              f"(one per hair style) with a positive sum, got {weights!r}")
        return tuple(float(w) for w in weights)

    return AppearanceProfile(
        enabled=table.flag("enabled", default=d.enabled),
        texture_size=table.integer("texture_size", 64, MAX_TEXTURE_SIZE, default=d.texture_size),
        hair_colours=_colours(table, "hair_colours", d.hair_colours), hair_styles=tuple(styles),
        hair_style_weights=style_weights("hair_style_weights"), female_hair_style_weights=style_weights("female_hair_style_weights"),
        hair_length=rng("hair_length", 0.0, 0.3),
        hairline=rng("hairline", 0.2, 1.0), recession=rng("recession", 0.0, 0.6),
        brow_thickness=rng("brow_thickness", 0.01, 0.2), brow_density=rng("brow_density", 0.0, 1.0),
        lip_colours=_colours(table, "lip_colours", d.lip_colours),
        freckles_probability=table.number("freckles_probability", 0.0, 1.0, default=d.freckles_probability),
        stubble_probability=table.number("stubble_probability", 0.0, 1.0, default=d.stubble_probability),
        makeup_probability=table.number("makeup_probability", 0.0, 1.0, default=d.makeup_probability),
        lipstick_colours=_colours(table, "lipstick_colours", d.lipstick_colours),
        wrinkles=rng("wrinkles", 0.0, 1.0), pores=rng("pores", 0.0, 1.0),
        texture_folder=table.text("texture_folder", default=d.texture_folder),
        texture_probability=table.number("texture_probability", 0.0, 1.0, default=d.texture_probability),
        teeth_stain=rng("teeth_stain", 0.0, 1.0), sclera_veins=rng("sclera_veins", 0.0, 1.0),
    )


def _exposure(ren: _Section) -> ExposureProfile:
    """[render.exposure]: optional; without face_exposure the camera neither meters nor rolls off."""
    table, d = _optional_table(ren, "exposure", ExposureProfile)
    return ExposureProfile(face_exposure=table.range("face_exposure", 0.05, 4.0) if "face_exposure" in table.data else d.face_exposure,
                           white_balance=table.number("white_balance", 0.0, 1.0, default=d.white_balance))


def _clothing(ren: _Section) -> ClothingProfile:
    """[render.clothing]: every key optional (the defaults are ClothingProfile's)."""
    table, d = _optional_table(ren, "clothing", ClothingProfile)

    def rng(key: str, lo: float, hi: float) -> tuple[float, float]:
        return table.range(key, lo, hi) if key in table.data else getattr(d, key)

    return ClothingProfile(
        probability=table.number("probability", 0.0, 1.0, default=d.probability),
        colours=_colours(table, "colours", d.colours),
        stripes_probability=table.number("stripes_probability", 0.0, 1.0, default=d.stripes_probability),
        stripe_period_mm=rng("stripe_period_mm", 1.0, 200.0), shoulder_width=rng("shoulder_width", 0.2, 0.8),
        shoulder_drop=rng("shoulder_drop", 0.0, 0.15), chest_depth=rng("chest_depth", 0.1, 0.4),
    )


def _cycles(ren: _Section) -> CyclesSettings:
    """[render.cycles]: every key optional (the defaults are CyclesSettings'); checked against the
    ranges and names Blender accepts, so a bad value fails here, before any worker starts."""
    table = ren.data.get("cycles", {})
    if not isinstance(table, dict):
        raise RecipeError(f"{ren.file}: [render.cycles] must be a table")
    known = sorted(CyclesSettings.__dataclass_fields__)
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise RecipeError(f"{ren.file}: [render.cycles] has unknown key {unknown[0]!r}: use one of {known}")
    defaults = CyclesSettings()
    candidate = {k: table.get(k, getattr(defaults, k)) for k in known}
    problem = settings_problem(candidate)
    if problem:
        raise RecipeError(f"{ren.file}: {problem}")
    return CyclesSettings(**candidate)


def _colour(value: str, where: str) -> str:
    if not (isinstance(value, str) and len(value) == 7 and value[0] == "#"):
        raise RecipeError(f"{where} must hold colours like '#e0ac8a', got {value!r}")
    try:
        int(value[1:], 16)
    except ValueError:
        raise RecipeError(f"{where} must hold colours like '#e0ac8a', got {value!r}") from None
    return value


def parse_recipe(text: str, file: str = "<recipe>") -> Recipe:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RecipeError(f"{file}: not valid TOML ({err})") from None
    top = _Section(data, "", file)
    info, src, sch, ren = top.table("recipe"), top.table("source"), top.table("schedule"), top.table("render")
    light, bg, glasses = ren.table("lighting"), ren.table("background"), ren.table("glasses")
    tones = ren._get("skin_tones")
    if not isinstance(tones, list) or not tones:
        raise ren._fail("skin_tones", "a non-empty list of '#rrggbb' colours", tones)
    render = RenderProfile(
        width=ren.integer("width", 16, MAX_RESOLUTION), height=ren.integer("height", 16, MAX_RESOLUTION),
        samples=ren.integer("samples", 1, 65536), denoise=ren.flag("denoise"),
        device=ren.text("device", DEVICES), threads=ren.integer("threads", 0, 1024),
        focal_mm=ren.range("focal_mm", 10.0, 300.0), face_fill=ren.range("face_fill", 0.05, 1.5),
        camera_jitter_deg=ren.numbers("camera_jitter_deg", 2), skin_tones=tuple(_colour(t, f"{file}: [render] skin_tones") for t in tones),
        lighting=Lighting(
            count=light.range("count", 1, 8, integer=True), types=light.choices("types", LIGHT_TYPES),
            size_m=light.range("size_m", 0.0, 10.0), temperature_k=light.range("temperature_k", 1000.0, 20000.0),
            power_w=light.range("power_w", 0.0, 1e5), sun_strength=light.range("sun_strength", 0.0, 100.0),
            ambient=light.range("ambient", 0.0, 10.0), sky_probability=light.number("sky_probability", 0.0, 1.0),
            elevation_deg=light.range("elevation_deg", -90.0, 90.0, default=list(LIGHT_ELEVATION_DEG)),
            azimuth_deg=light.number("azimuth_deg", 0.0, 180.0, default=LIGHT_AZIMUTH_DEG),
            key_azimuth_deg=light.range("key_azimuth_deg", 0.0, 180.0) if "key_azimuth_deg" in light.data else None),
        background=Background(kinds=bg.choices("kinds", BACKGROUND_KINDS), image_folder=bg.text("image_folder", default="")),
        glasses_probability=glasses.number("probability", 0.0, 1.0),
        appearance=_appearance(ren),
        cycles=_cycles(ren),
        clothing=_clothing(ren),
        exposure=_exposure(ren),
    )
    if "images" in render.background.kinds and not render.background.image_folder:
        raise RecipeError(f"{file}: [render.background] kinds lists 'images' but image_folder is empty: set a folder of images")
    return Recipe(
        name=info.text("name"), version=info.integer("version", 1), seed=info.integer("seed", 0),
        description=info.text("description", default=""),
        source=_source(src, top.table("emotions") if "emotions" in data else None),
        schedule=Schedule(
            onset_expression=sch.distribution("onset_expression", 0.0, 1.0),
            onset_pose=sch.distribution("onset_pose", 0.0, 1.0),
            apex_expression_increment=sch.distribution("apex_expression_increment", 0.0, 1.0),
            apex_pose_increment=sch.distribution("apex_pose_increment", 0.0, 1.0)),
        render=render, text=text, path=file,
    )


def with_device(recipe: Recipe, device: str) -> Recipe:
    """The recipe rendered on another device (the device never changes the data's meaning)."""
    if device not in DEVICES:
        raise RecipeError(f"device must be one of {list(DEVICES)}, got {device!r}")
    return dataclasses.replace(recipe, render=dataclasses.replace(recipe.render, device=device))


def with_fits(recipe: Recipe, folder: str | Path) -> Recipe:
    """A photo-source recipe pointed at the fit folder its build made (the recipe text, and so its
    hash, stay: the photos define the data, the folder is where their fits landed)."""
    return dataclasses.replace(recipe, source=dataclasses.replace(recipe.source, fits=str(folder)))


def resolve_recipe_path(name_or_path: str | Path) -> Path:
    """A recipe file: a path, or the name of a shipped recipe ('smoke' -> datasets/smoke.toml)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = recipe_dir()
    candidate = shipped / f"{name_or_path}.toml"
    if candidate.exists():
        return candidate
    known = ", ".join(sorted(p.stem for p in shipped.glob("*.toml")))
    raise RecipeError(f"no recipe '{name_or_path}': give a .toml path or one of: {known}")


def load_recipe(name_or_path: str | Path) -> Recipe:
    path = resolve_recipe_path(name_or_path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise RecipeError(f"cannot read recipe {path}: {err}") from None
    return parse_recipe(text, path.name)
