"""What a camera does between the light on the sensor and the picture: it meters the face and sets
its exposure, then maps the scene's range onto the picture's with a film-like shoulder that rolls
highlights off instead of clipping them flat.

It also white-balances, as a camera set for the scene's light does: a tungsten key does not turn
every face orange. One white balance, one gain (metered on the onset) and one curve serve both
frames of a pair: the same mapping on both keeps brightness constancy, and nothing here moves a
pixel, so the flow stays exact.
"""
from __future__ import annotations

import numpy as np

from .scene_spec import LightSpec

LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luminance of linear RGB
OPAQUE = 0.99  # pixels of the subject alone (not blended with the background)
MIN_METERED_PIXELS = 16  # fewer than this in the face box: leave the exposure alone
GAIN_LIMITS = (1.0 / 16.0, 16.0)  # at most four stops either way
SHOULDER_KNEE = 0.6  # linear value where the shoulder starts; below it the curve is the identity
# The brightest channel's own shoulder (tone_map) starts later: well-lit skin keeps its saturation,
# and only what nears white bleaches (0.6 washed lit cheeks out to b* 14).
CHANNEL_KNEE = 0.85
FACE_BOX_SHRINK = 0.15  # share of the face box given up on each side: cheeks, not hair or background
AMBIENT_COLOUR = (0.8, 0.8, 0.82)  # linear RGB of the flat world light (the analytic sky is taken as this too)
# Irradiance on axis per watt at 1 m (Cycles' lamps): a point light spreads its power over 4 pi
# steradians, a Lambertian area light sends P / pi on its axis.
IRRADIANCE_PER_WATT = {"POINT": 1.0 / (4.0 * np.pi), "AREA": 1.0 / np.pi}
LAMP_ON_SPHERE = 2.0 / 3.0  # mean cosine over the disc a sphere shows, lit from the viewer


def face_box(landmarks: np.ndarray) -> tuple[int, int, int, int]:
    """landmarks (68, 2) iBUG pixels -> (x0, y0, x1, y1): between the jaw's sides and from the brows
    to the chin, shrunk towards its middle."""
    x0, x1 = landmarks[:17, 0].min(), landmarks[:17, 0].max()
    y0, y1 = landmarks[17:27, 1].min(), landmarks[8, 1]
    dx, dy = FACE_BOX_SHRINK * (x1 - x0), FACE_BOX_SHRINK * (y1 - y0)
    return int(np.floor(x0 + dx)), int(np.floor(y0 + dy)), int(np.ceil(x1 - dx)), int(np.ceil(y1 - dy))


def face_luminance(premultiplied_rgba: np.ndarray, box: tuple[int, int, int, int]) -> float | None:
    """Median linear luminance of the subject's opaque pixels in box, from an (H, W, 4)
    premultiplied render; None when too few pixels are there to meter (the face out of frame)."""
    h, w = premultiplied_rgba.shape[:2]
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)
    patch = premultiplied_rgba[y0:y1, x0:x1].reshape(-1, 4)
    opaque = patch[patch[:, 3] > OPAQUE]
    if len(opaque) < MIN_METERED_PIXELS:
        return None
    return float(np.median(opaque[:, :3] / opaque[:, 3:4] @ LUMA))


def exposure_gain(metered: float | None, skin_luminance: float, exposure: float) -> float:
    """The gain that brings the metered face luminance to `exposure` times its skin tone's own
    luminance (1: the face as bright as its albedo), so a dark skin stays dark and a pale one pale,
    whatever the lights' power. Clipped to GAIN_LIMITS; 1 when nothing was metered."""
    if metered is None or metered <= 0.0:
        return 1.0
    return float(np.clip(exposure * skin_luminance / metered, *GAIN_LIMITS))


def film_shoulder(linear: np.ndarray, knee: float = SHOULDER_KNEE) -> np.ndarray:
    """(...) non-negative linear values -> the same in [0, 1): the identity up to the knee, then an
    exponential shoulder with matching slope that approaches 1 (no flat clipped areas)."""
    linear = np.asarray(linear, np.float64)
    room = 1.0 - knee
    over = np.maximum(linear - knee, 0.0)
    return np.where(linear <= knee, linear, knee + room * (1.0 - np.exp(-over / room)))


def tone_map(linear_rgb: np.ndarray) -> np.ndarray:
    """(..., 3) non-negative linear RGB -> the same in [0, 1): the film shoulder on each pixel's
    luminance, every channel scaled alike (a bright face keeps its hue); where the brightest channel
    passes CHANNEL_KNEE, the pixel is taken towards its grey at that luminance until that channel
    sits on a shoulder of its own, so it never clips and a hot highlight bleaches, as on film.
    A shoulder per channel squeezes skin's brightest channel, red, first, and turned a well-lit pale
    face yellow: b* 29 on a cheek whose albedo is b* 18."""
    linear_rgb = np.asarray(linear_rgb, np.float64)
    luminance = linear_rgb @ LUMA
    toned = film_shoulder(luminance)[..., None]
    rgb = linear_rgb * (toned / np.maximum(luminance, 1e-12)[..., None])
    peak = rgb.max(axis=-1, keepdims=True)
    target = np.maximum(film_shoulder(peak, CHANNEL_KNEE), toned)
    bleach = np.where(peak > CHANNEL_KNEE, (target - toned) / np.maximum(peak - toned, 1e-12), 1.0)
    return toned + (rgb - toned) * np.minimum(bleach, 1.0)


def lambert_phase(cos_angle: float) -> float:
    """Brightness of a matte sphere lit at a phase angle (between the light and the viewer, as
    seen from the sphere) over its brightness lit from the viewer: (sin a + (pi - a) cos a) / pi.
    A face is round enough that a side light lights less of what the camera sees."""
    a = float(np.arccos(np.clip(cos_angle, -1.0, 1.0)))
    return (np.sin(a) + (np.pi - a) * np.cos(a)) / np.pi


def illuminant(lights: tuple[LightSpec, ...], aim: np.ndarray, ambient: float, eye: np.ndarray) -> np.ndarray:
    """(3,) linear RGB of the light the camera at `eye` (3,) sees reflected by a face at `aim`
    (3,), up to the albedo: each lamp's colour times its irradiance there (a sun's strength is
    its irradiance), times LAMP_ON_SPHERE and the Lambert phase of its angle to the camera, plus
    the world light, which lights every side alike (pi times its radiance)."""
    aim = np.asarray(aim, np.float64)
    view = np.asarray(eye, np.float64) - aim
    view /= np.linalg.norm(view)
    total = np.pi * ambient * np.asarray(AMBIENT_COLOUR)
    for light in lights:
        towards = np.asarray(light.location, np.float64) - aim
        distance = float(np.linalg.norm(towards))
        if light.kind == "SUN":
            irradiance = light.power
        else:
            irradiance = IRRADIANCE_PER_WATT[light.kind] * light.power / max(distance, 1e-3) ** 2
        phase = lambert_phase(float(towards @ view) / max(distance, 1e-9))
        total = total + LAMP_ON_SPHERE * phase * irradiance * np.asarray(light.color)
    return total


def white_balance_gains(light: np.ndarray, strength: float) -> np.ndarray:
    """(3,) per-channel gains that take `strength` (0: none, 1: all) of the colour cast of a light
    (3,) away, keeping its luminance: a grey card under it comes out grey at strength 1."""
    light = np.maximum(np.asarray(light, np.float64), 1e-9)
    gains = (float(light @ LUMA) / light) ** strength
    return gains * float(light @ LUMA) / float((gains * light) @ LUMA)
