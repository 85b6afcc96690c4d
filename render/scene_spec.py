"""What one sample's scene looks like, as plain data (no bpy): the pipeline samples it from a
recipe, the Blender backend realises it. Kept apart so scenes can be stored, compared and replayed."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backgrounds import BackgroundSpec


@dataclass(frozen=True)
class LightSpec:
    """kind AREA | POINT | SUN; location (3,) world; size in metres (sun: angular diameter, rad);
    color (3,) linear RGB; power in watts (sun: strength, W/m^2)."""

    kind: str
    location: tuple[float, float, float]
    size: float
    color: tuple[float, float, float]
    power: float


@dataclass(frozen=True)
class SkinMaps:
    """One identity's UV maps, S x S, row 0 at the top (v = 1): albedo (S, S, 3) linear RGB in
    [0, 1], height (S, S) bump in arbitrary units (scaled by the material), roughness (S, S),
    hair (S, S) scalp-hair coverage in [0, 1] (where the sheen runs across the strands)."""

    albedo: np.ndarray
    height: np.ndarray
    roughness: np.ndarray
    hair: np.ndarray

    @property
    def size(self) -> int:
        return int(self.albedo.shape[0])


@dataclass(frozen=True)
class SceneSpec:
    """Everything about the look of a sample except the meshes."""

    width: int
    height: int
    focal_mm: float
    world_from_camera: np.ndarray  # (4, 4)
    aim: tuple[float, float, float]  # the point on the face the camera and the lights aim at
    lights: tuple[LightSpec, ...]
    ambient: float
    sky: bool
    sun_direction: tuple[float, float, float]
    background: BackgroundSpec
    skin_tone: tuple[float, float, float]  # linear RGB
    iris_color: tuple[float, float, float]
    glasses: bool
    samples: int
    denoise: bool
    seed: int  # Cycles' sampling seed
    texture: str = ""  # UV texture image; empty: procedural skin
    teeth_colour: tuple[float, float, float] = (0.62, 0.57, 0.46)  # linear RGB of the enamel
    sclera_veins: float = 0.0  # 0 (clear) .. 1 (bloodshot): how much vein shows on the sclera
    appearance: dict | None = None  # the identity's painted appearance (pipeline.appearance), as JSON
    clothing: dict | None = None  # shoulders and shirt (render.body.Clothing), as JSON; None: none drawn
    exposure: float | None = None  # metered face over skin-tone luminance (render.exposure); None: no metering, plain clip
    white_balance: float = 0.0  # share of the light's colour cast the camera takes away (render.exposure); 0: none

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("world_from_camera", "lights", "background")}
        out["world_from_camera"] = np.asarray(self.world_from_camera).tolist()
        out["lights"] = [vars(light) for light in self.lights]
        out["background"] = vars(self.background)
        return out
