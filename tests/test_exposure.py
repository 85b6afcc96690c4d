"""The camera's exposure and tone: metered on the onset face, one mapping for both frames, a dark
skin left dark, highlights rolled off instead of clipped, and nothing at all without the table."""
from __future__ import annotations

import numpy as np
import pytest
from skimage.color import rgb2lab

from pipeline.synthesis.distributions import RecipeError
from pipeline.synthesis.pair import develop
from pipeline.synthesis.recipe import load_recipe, parse_recipe
from render.backgrounds import composite, srgb_to_linear, to_uint8_srgb
from render.exposure import (
    GAIN_LIMITS,
    LUMA,
    SHOULDER_KNEE,
    exposure_gain,
    face_box,
    face_luminance,
    film_shoulder,
    lambert_phase,
    white_balance_gains,
)

SIZE = 64


def portrait(radiance: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A face-like disc of varied radiance (premultiplied RGBA) on a grey background, and 68
    landmarks spread over the disc (jaw round its lower half, brows above its middle)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    inside = (xx - 32) ** 2 + (yy - 32) ** 2 < 24**2
    rgba = np.zeros((SIZE, SIZE, 4))
    rgba[inside, :3] = radiance * rng.uniform(0.5, 1.5, (inside.sum(), 1)) * np.array([1.0, 0.8, 0.7])
    rgba[inside, 3] = 1.0
    landmarks = np.zeros((68, 2))
    angle = np.linspace(np.pi, 0.0, 17)
    landmarks[:17] = np.stack([32 + 20 * np.cos(angle), 32 + 20 * np.sin(angle)], 1)
    landmarks[17:27] = np.stack([np.linspace(16, 48, 10), np.full(10, 14.0)], 1)
    landmarks[27:] = 32.0
    return rgba, np.full((SIZE, SIZE, 3), 0.2), landmarks


def developed_face(image: np.ndarray, landmarks: np.ndarray) -> float:
    x0, y0, x1, y1 = face_box(landmarks)
    return float(np.median(srgb_to_linear(image[y0:y1, x0:x1] / 255.0) @ LUMA))


@pytest.mark.parametrize("radiance", [0.1, 0.3, 0.6])  # lights four times apart (the gain stops at four stops)
def test_the_face_comes_out_at_its_exposure_whatever_the_lights(radiance):
    """Lights of any power: the developed face sits at exposure x its skin tone's luminance, so a
    dark skin stays darker than a pale one under the same exposure."""
    rgba, background, landmarks = portrait(radiance)
    faces = {}
    for name, skin in (("pale", np.array([0.6, 0.45, 0.35])), ("dark", np.array([0.08, 0.04, 0.025]))):
        onset, _ = develop(rgba, rgba, background, landmarks, 0.9, skin)
        faces[name] = developed_face(onset, landmarks)
        target = 0.9 * float(skin @ LUMA)
        assert faces[name] == pytest.approx(film_shoulder(target), rel=0.08)
    assert faces["dark"] < 0.25 * faces["pale"]


def test_one_mapping_for_both_frames():
    """The apex is developed with the onset's gain: the same pixel gives the same value in both
    frames, even when the apex alone is brighter (a metered apex would darken it back)."""
    rgba, background, landmarks = portrait(0.3)
    apex = rgba.copy()
    apex[:, :, :3] *= 1.5
    onset_image, apex_image = develop(rgba, apex, background, landmarks, 1.0, np.array([0.5, 0.4, 0.3]))
    same, _ = develop(rgba, rgba, background, landmarks, 1.0, np.array([0.5, 0.4, 0.3]))
    np.testing.assert_array_equal(onset_image, same)
    assert developed_face(apex_image, landmarks) > 1.2 * developed_face(onset_image, landmarks)


def test_no_table_no_change():
    rgba, background, landmarks = portrait(3.0)
    onset, apex = develop(rgba, rgba, background, landmarks, None, np.array([0.5, 0.4, 0.3]))
    np.testing.assert_array_equal(onset, to_uint8_srgb(composite(rgba, background)))


def test_highlights_roll_off_instead_of_clipping():
    x = np.linspace(0.0, 8.0, 8001)
    y = film_shoulder(x)
    np.testing.assert_array_equal(y[x <= SHOULDER_KNEE], x[x <= SHOULDER_KNEE])
    assert np.all(np.diff(y) > 0) and y.max() < 1.0  # ever brighter, never flat white
    slope = np.diff(y) / np.diff(x)
    knee = np.searchsorted(x, SHOULDER_KNEE)
    assert abs(slope[knee - 1] - slope[knee + 1]) < 0.01  # no kink where the shoulder starts (a kink jumps by ~0.5)


def test_metering_reads_only_the_opaque_face():
    rgba, _, landmarks = portrait(0.3)
    half = rgba.copy()
    half[:, :, 3] *= 0.5  # edge pixels blended with the background do not count
    assert face_luminance(half, face_box(landmarks)) is None
    assert face_luminance(rgba, (200, 200, 260, 260)) is None  # the face box out of frame
    assert exposure_gain(None, 0.3, 1.0) == 1.0
    assert exposure_gain(1e-9, 0.3, 1.0) == GAIN_LIMITS[1]


def test_recipe_exposure_keys():
    text = load_recipe("meflow-v1").text
    assert load_recipe("meflow-v1").render.exposure.face_exposure == (0.75, 1.1)
    assert load_recipe("smoke").render.exposure.face_exposure is None
    assert load_recipe("meflow-v1").render.exposure.white_balance == 0.8
    assert load_recipe("smoke").render.exposure.white_balance == 0.0  # no table: the lights' colours as they are
    with pytest.raises(RecipeError, match=r"\[render.exposure\] white_balance must be a number in \[0.0, 1.0\], got 1.5"):
        parse_recipe(text.replace("white_balance = 0.8", "white_balance = 1.5"), "broken.toml")
    with pytest.raises(RecipeError, match=r"\[render.exposure\] face_exposure must be \[low, high\]"):
        parse_recipe(text.replace("face_exposure = [0.75, 1.1]", "face_exposure = [1.1, 0.75]"), "broken.toml")
    with pytest.raises(RecipeError, match=r"\[render.exposure\] has unknown key 'iso'"):
        parse_recipe(text.replace("face_exposure = [0.75, 1.1]", "iso = 400"), "broken.toml")


def test_white_balance_gains_make_a_grey_card_grey_and_keep_its_brightness():
    tungsten = np.array([1.0, 0.45, 0.15])
    card = 0.18 * tungsten  # a grey card's radiance under that light
    balanced = white_balance_gains(tungsten, 1.0) * card
    np.testing.assert_allclose(balanced / balanced.mean(), 1.0, atol=1e-9)
    assert balanced @ LUMA == pytest.approx(card @ LUMA)
    np.testing.assert_allclose(white_balance_gains(tungsten, 0.0), 1.0)
    partly = white_balance_gains(tungsten, 0.8) * card
    assert 1.0 < partly[0] / partly[2] < tungsten[0] / tungsten[2]  # some warmth stays


def test_side_lights_light_less_of_what_the_camera_sees():
    assert lambert_phase(1.0) == pytest.approx(1.0)
    assert lambert_phase(0.0) == pytest.approx(1.0 / np.pi)
    assert lambert_phase(-1.0) == pytest.approx(0.0, abs=1e-12)


def test_a_well_lit_pale_face_keeps_its_hue():
    """Exposed over the knee, a pale face comes out brighter but the same colour (CIELAB hue, read
    by scikit-image): a shoulder per channel squeezes skin's red first and turns the face yellow,
    by about 10 degrees of hue here. Nothing clips."""
    skin = np.array([0.62, 0.41, 0.28])
    rgba, background, landmarks = portrait(0.3)
    rgba[rgba[:, :, 3] > 0, :3] = skin  # an even face of the albedo, lit so its luminance is the albedo's
    onset, _ = develop(rgba, rgba, background, landmarks, 1.5, skin)
    face = onset[32, 32]

    def lab(srgb_uint8: np.ndarray) -> np.ndarray:
        return rgb2lab(np.asarray(srgb_uint8, np.float64)[None, None] / 255.0)[0, 0]

    lit, albedo = lab(face), lab(to_uint8_srgb(skin))
    hue = lambda c: np.degrees(np.arctan2(c[2], c[1]))  # noqa: E731
    assert lit[0] > albedo[0] + 8.0  # well over the knee, so the shoulder is at work
    assert abs(hue(lit) - hue(albedo)) < 3.0, (lit, albedo)
    assert face.max() < 255
