"""Sample a SceneSpec (camera, lights, background, skin, glasses, clothing) from a render profile."""
from __future__ import annotations

import numpy as np

from render.backgrounds import PHOTO_KINDS, BackgroundSpec, muted_colour, srgb_to_linear
from render.body import Clothing
from render.camera import focal_px, look_at
from render.exposure import IRRADIANCE_PER_WATT
from render.scene_spec import LightSpec, SceneSpec

from .meshes import StateGeometry
from .recipe import ClothingProfile, Lighting, RenderProfile

HEAD_HEIGHT_PER_BROW_TO_CHIN = 1.9  # crown-to-chin over brow-to-chin, adult average
FRAMING_RAISE = 0.08  # aim a little above the landmark centre, towards the forehead
LIGHT_DISTANCE_M = (0.6, 1.5)
SUN_ANGLE_RAD = (0.02, 0.3)
# Dark brown, brown, near black, hazel, green, blue, grey: brown irises are most of the world's.
IRIS_COLOURS = ("#3b2418", "#5a3a22", "#2a1a10", "#6e5030", "#6b7f3a", "#4a6d8c", "#7a8a99")
IRIS_WEIGHTS = (0.3, 0.2, 0.15, 0.1, 0.07, 0.12, 0.06)
BACKGROUND_SCALE = (3.0, 12.0)
# An area light sends 4x a point light's irradiance on its axis (render.exposure): divided out, so equal powers light alike.
AREA_ON_AXIS_GAIN = IRRADIANCE_PER_WATT["AREA"] / IRRADIANCE_PER_WATT["POINT"]
FILL_LIGHT_SHARE = (0.2, 0.6)  # lights after the first (the key) are fills at this share of its power
SKIN_ALBEDO = 0.75  # palette colours are how skin looks; as albedo they are scaled below 1
SKY_STRENGTH = 0.35  # the analytic sky is brighter than a flat ambient of the same strength
TEETH_WHITE = np.array([0.80, 0.77, 0.70])  # linear RGB of enamel, bleached to stained
TEETH_YELLOW = np.array([0.70, 0.62, 0.46])


def hex_to_linear(colour: str) -> np.ndarray:
    return srgb_to_linear(np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0)


def blackbody_rgb(kelvin: float) -> np.ndarray:
    """Approximate linear RGB (max component 1) of a black body at `kelvin` (1000-40000 K),
    from Tanner Helland's fit to the CIE colour-matching tables."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = 99.4708025861 * np.log(t) - 161.1195681661 if t <= 66 else 288.1221695283 * (t - 60) ** -0.0755148492
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * np.log(t - 10) - 305.0447927307)
    rgb = srgb_to_linear(np.clip([r, g, b], 0.0, 255.0) / 255.0)
    return rgb / rgb.max()


def _direction(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector from the face towards a viewer at this azimuth (about +y) and elevation."""
    az, el = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    return np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])


def frame_face(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """Aim point (3,) and head height (m) from the 68 onset landmarks."""
    brows, chin = landmarks[17:27].mean(0), landmarks[8]
    head_height = HEAD_HEIGHT_PER_BROW_TO_CHIN * np.linalg.norm(brows - chin)
    target = landmarks.mean(0) + FRAMING_RAISE * head_height * (brows - chin) / np.linalg.norm(brows - chin)
    return target, head_height


def _azimuth(spec: Lighting, rng: np.random.Generator, key: bool) -> float:
    """Degrees round the head from the face's front of one light. The key keeps to its own range,
    on either side (portrait light models the face; a frontal key flattens it). One draw either way."""
    if key and spec.key_azimuth_deg is not None:
        lo, hi = spec.key_azimuth_deg
        u = rng.uniform(-1.0, 1.0)
        return float(np.sign(u) * (lo + abs(u) * (hi - lo)))
    return float(rng.uniform(-spec.azimuth_deg, spec.azimuth_deg))


def _lights(profile: RenderProfile, rng: np.random.Generator, target: np.ndarray) -> tuple[LightSpec, ...]:
    spec = profile.lighting
    lights = []
    for i in range(int(rng.integers(spec.count[0], spec.count[1] + 1))):
        kind = str(rng.choice(spec.types))
        direction = _direction(_azimuth(spec, rng, key=i == 0), rng.uniform(*spec.elevation_deg))
        distance = rng.uniform(*LIGHT_DISTANCE_M)
        location = target + distance * direction
        colour = blackbody_rgb(rng.uniform(*spec.temperature_k))
        if kind == "SUN":
            size, power = rng.uniform(*SUN_ANGLE_RAD), rng.uniform(*spec.sun_strength)
        else:
            # Power is given at 1 m; scaling by distance squared keeps the exposure independent of it.
            size, power = rng.uniform(*spec.size_m), rng.uniform(*spec.power_w) * distance**2
        if kind == "AREA":
            power /= AREA_ON_AXIS_GAIN
        if i > 0:
            power *= rng.uniform(*FILL_LIGHT_SHARE)
        lights.append(LightSpec(kind, tuple(location), float(size), tuple(colour), float(power)))
    return tuple(lights)


def _background(profile: RenderProfile, rng: np.random.Generator, images: list[str]) -> BackgroundSpec:
    kind = str(rng.choice(profile.background.kinds))
    draws = [rng.random(3) for _ in range(2)]
    colours = tuple(tuple(muted_colour(d) if kind in PHOTO_KINDS else srgb_to_linear(d)) for d in draws)
    image = images[int(rng.integers(len(images)))] if kind == "images" and images else ""
    return BackgroundSpec(kind=kind, colors=colours, angle=float(rng.uniform(0, 2 * np.pi)),
                          scale=float(rng.uniform(*BACKGROUND_SCALE)), seed=int(rng.integers(2**31)), image=image)


def _clothing(profile: ClothingProfile, rng: np.random.Generator) -> dict | None:
    """Shoulders and a shirt (render.body.Clothing as JSON), or None. Nothing is drawn when the
    recipe has clothing off, so such recipes draw exactly what they drew before it existed."""
    if profile.probability <= 0.0 or rng.random() >= profile.probability:
        return None
    colour, stripe = (hex_to_linear(str(c)) for c in rng.choice(profile.colours, 2))
    return Clothing(
        colour=tuple(float(c) for c in colour), stripe_colour=tuple(float(c) for c in stripe),
        stripes=float(rng.random() < profile.stripes_probability),
        stripe_period=float(rng.uniform(*profile.stripe_period_mm)) / 1000.0, stripe_share=float(rng.uniform(0.2, 0.5)),
        shoulder_half_width=float(rng.uniform(*profile.shoulder_width)) / 2.0,
        shoulder_drop=float(rng.uniform(*profile.shoulder_drop)),
        chest_half_depth=float(rng.uniform(*profile.chest_depth)) / 2.0,
    ).to_json()


def sample_scene(profile: RenderProfile, rng: np.random.Generator, onset: StateGeometry,
                 cycles_seed: int, background_images: list[str] | None = None, texture: str = "",
                 appearance: dict | None = None) -> SceneSpec:
    """The look of one sample; the camera frames the onset face."""
    target, head_height = frame_face(onset.landmarks)
    focal = rng.uniform(*profile.focal_mm)
    fill = rng.uniform(*profile.face_fill)
    distance = focal_px(focal, profile.width) * head_height / (fill * profile.height)
    jitter_az, jitter_el = profile.camera_jitter_deg
    eye = target + distance * _direction(rng.uniform(-jitter_az, jitter_az), rng.uniform(-jitter_el, jitter_el))
    tones = np.array([hex_to_linear(t) for t in profile.skin_tones])
    position = rng.uniform(0, len(tones) - 1)  # anywhere along the palette, light to dark
    i = min(int(position), len(tones) - 2) if len(tones) > 1 else 0
    skin = SKIN_ALBEDO * (tones[i] + (position - i) * (tones[min(i + 1, len(tones) - 1)] - tones[i]))
    sky = bool(rng.random() < profile.lighting.sky_probability)
    ambient = float(rng.uniform(*profile.lighting.ambient)) * (SKY_STRENGTH if sky else 1.0)
    return SceneSpec(
        width=profile.width, height=profile.height, focal_mm=float(focal), world_from_camera=look_at(eye, target), aim=tuple(target),
        lights=_lights(profile, rng, target), ambient=ambient, sky=sky,
        sun_direction=tuple(_direction(rng.uniform(-90, 90), rng.uniform(10, 80))),
        background=_background(profile, rng, background_images or []), skin_tone=tuple(skin),
        iris_color=tuple(hex_to_linear(str(rng.choice(IRIS_COLOURS, p=IRIS_WEIGHTS)))),
        glasses=bool(rng.random() < profile.glasses_probability), samples=profile.samples,
        denoise=profile.denoise, seed=cycles_seed, texture=texture, appearance=appearance,
        # Drawn last, so adding them left every earlier draw of a sample where it was.
        teeth_colour=tuple(float(c) for c in TEETH_WHITE + rng.uniform(*profile.appearance.teeth_stain) * (TEETH_YELLOW - TEETH_WHITE)),
        sclera_veins=float(rng.uniform(*profile.appearance.sclera_veins) ** 2),  # most eyes are clear, a few bloodshot
        clothing=_clothing(profile.clothing, rng),
        exposure=float(rng.uniform(*profile.exposure.face_exposure)) if profile.exposure.face_exposure else None,
        white_balance=profile.exposure.white_balance,
    )
