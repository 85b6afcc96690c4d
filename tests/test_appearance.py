"""Human appearance painted in UV space: seeded and recorded, placed by the landmarks, independent
of the UV layout, a hair cap that never touches the face, and bad input named in one line."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from PIL import Image

from pipeline.appearance.identity import AppearanceProfile, Identity, sample_identity
from pipeline.appearance.library import TextureError, list_textures, load_texture
from pipeline.appearance.lips import LOWER_LIP_SHADOW, lip_contour
from pipeline.appearance.paint import (
    BROW_INNER,
    EAR_OFFSET,
    NOSTRIL_OFFSET,
    brow_curve,
    brow_hairs,
    brow_opacity,
    hair_coverage,
    paint,
    vertex_hair_thickness,
)
from pipeline.synthesis.distributions import RecipeError
from pipeline.synthesis.recipe import load_recipe, parse_recipe

SKIN = np.array([0.5, 0.33, 0.25])
SIZE = 256


@pytest.fixture(scope="module")
def model(standin_model):
    return standin_model


@pytest.fixture(scope="module")
def skin_faces(standin_assets):
    from pipeline.synthesis.meshes import eye_regions

    return ~eye_regions(standin_assets.weights, standin_assets.faces, standin_assets.v_template)[0]


@pytest.fixture(scope="module")
def layout(model, skin_faces):
    from pipeline.synthesis.pair import neutral_layout

    return neutral_layout(model, skin_faces, SIZE)


def identity(k: int, **changes) -> Identity:
    return dataclasses.replace(sample_identity(AppearanceProfile(), np.random.default_rng(k)), **changes)


def texel_near(layout, point: np.ndarray) -> int:
    """Index (into layout.points) of the texel nearest a face-frame point."""
    return int(np.argmin(np.linalg.norm(layout.points - point, axis=1)))


def texels_within(layout, point: np.ndarray, radius: float) -> np.ndarray:
    return np.flatnonzero(np.linalg.norm(layout.points - point, axis=1) < radius)


def test_same_seed_same_maps_and_the_record_replays(layout):
    a = identity(3)
    again = Identity(**a.to_json())  # what the scene JSON stores is enough to repaint
    m1, m2 = paint(a, layout, SKIN), paint(again, layout, SKIN)
    np.testing.assert_array_equal(m1.albedo, m2.albedo)
    np.testing.assert_array_equal(m1.height, m2.height)
    other = paint(identity(4), layout, SKIN)
    assert np.abs(other.albedo - m1.albedo).mean() > 1e-3
    assert m1.albedo.shape == (SIZE, SIZE, 3) and m1.albedo.dtype == np.float32
    assert m1.albedo.min() >= 0.0 and m1.albedo.max() <= 1.0


def test_features_sit_where_the_landmarks_put_them(layout):
    """Brows hang under the brow landmarks, lips fill the mouth, lash lines darken the lids,
    nostrils darken the nose's underside beside the tip, hair covers the crown, and the cheeks are
    plain skin."""
    lm = layout.landmarks
    person = identity(0, hair_style="short", hair_colour=(0.02, 0.015, 0.01), brow_colour=(0.02, 0.015, 0.01),
                      brow_density=1.0, lip_colour=(0.5, 0.05, 0.05), lipstick=(0.5, 0.05, 0.05), stubble=0.0,
                      freckles=0.0, makeup_blush=0.0, lash_darkness=0.9)
    albedo = paint(person, layout, SKIN).albedo.reshape(-1, 3)[layout.texels]
    brightness = albedo.mean(1)
    cheek = brightness[texel_near(layout, 0.5 * (lm[41] + lm[48]))]
    under_brow = brightness[texels_within(layout, lm[19] + np.array([0.0, -0.03, 0.0]), 0.012)].mean()  # hairs and gaps
    lash = brightness[texel_near(layout, 0.5 * (lm[37] + lm[38]))]
    crown = brightness[texel_near(layout, np.array([0.0, lm[:, 1].max() + 0.7, layout.centre[2]]))]
    lip = albedo[texel_near(layout, 0.5 * (lm[51] + lm[62]))]
    nostril = brightness[texels_within(layout, lm[32] + NOSTRIL_OFFSET * np.array([-1.0, 1.0, 1.0]), 0.02)].mean()
    assert under_brow < 0.5 * cheek and lash < 0.6 * cheek and crown < 0.3 * cheek and nostril < 0.6 * cheek
    assert lip[0] > 2.0 * lip[1]  # red lips against skin of tone SKIN
    assert cheek > 0.6 * SKIN.mean()


def test_ears_are_pinker_than_the_cheeks(layout):
    """Ears are thin and full of blood: against the cheek beside them (blushed too) they show less
    green for their red, on both sides."""
    lm = layout.landmarks
    person = identity(1, blush=0.5, makeup_blush=0.0, freckles=0.0)
    albedo = paint(person, layout, SKIN).albedo.reshape(-1, 3)[layout.texels]
    cheek = albedo[texels_within(layout, 0.5 * (lm[41] + lm[48]), 0.03)].mean(0)
    for landmark, side in ((0, -1.0), (16, 1.0)):
        ear = texels_within(layout, lm[landmark] + EAR_OFFSET * [side, 1.0, 1.0], 0.06)
        assert len(ear) > 20
        colour = albedo[ear].mean(0)
        assert colour[1] / colour[0] < 0.85 * cheek[1] / cheek[0], (colour, cheek)


def test_brows_are_hairs_that_grow_the_way_brows_do(model, skin_faces):
    """A brow is short hair strokes, not a painted band: skin shows between hairs, the hairs
    cover most of the brow, nothing grows past its ends, and the hairs stand up at the inner end,
    lie outwards along the body and point down in the tail."""
    hairs = brow_hairs(np.random.default_rng(0), 400, 0.08)
    t, angle = hairs[:, 0], np.degrees(hairs[:, 2])
    assert angle[t < 0.1].mean() > 40.0 and 0.0 < angle[(t > 0.4) & (t < 0.6)].mean() < 25.0 and angle[t > 0.9].mean() < 0.0
    from pipeline.synthesis.pair import neutral_layout

    layout = neutral_layout(model, skin_faces, 512)  # fine enough to hold single hairs
    lm = layout.landmarks
    person = identity(0, brow_colour=(0.02, 0.015, 0.01), brow_density=0.8, brow_thickness=0.08, brow_lift=0.0,
                      hair_style="bald", stubble=0.0, freckles=0.0, wrinkles=0.0)
    opacity = brow_opacity(person, layout.points, lm, layout.texel_size)
    curve, start, end = brow_curve(lm, BROW_INNER, 0.0)
    inner, tail = curve[np.searchsorted(np.linspace(0, 1, len(curve)), 0.5)], lm[17]
    middle = texels_within(layout, inner + np.array([0.0, -0.035, 0.0]), 0.03)  # the body of the brow
    assert opacity[middle].mean() > 0.6 and opacity[middle].std() > 0.1 and np.mean(opacity[middle] < 0.8) > 0.1
    p = layout.points
    beyond = np.flatnonzero((p[:, 0] < tail[0] - 0.05) & (np.abs(p[:, 1] - tail[1]) < 0.04) & (p[:, 2] > tail[2] - 0.15))
    assert beyond.size > 20 and opacity[beyond].max() < 0.05  # past the tail, towards the temple


def test_hair_and_its_cap_never_touch_the_face(layout, standin_assets):
    """At the 68 landmarks there is no hair colour and no cap; eyeballs never move."""
    from pipeline.synthesis.meshes import eye_regions

    for k in range(20):
        person = identity(k, hair_style="medium", hair_thickness=0.15)
        assert hair_coverage(person, layout.landmarks[17:], layout).max() < 1e-3
        lift = vertex_hair_thickness(person, layout)
        eye_faces, _, _ = eye_regions(standin_assets.weights, standin_assets.faces, standin_assets.v_template)
        assert lift[np.unique(standin_assets.faces[eye_faces])].max() == 0.0
        assert lift.max() == pytest.approx(0.15 * layout.unit_m, rel=1e-6)  # the crown gets the full cap
        # Cut shorter at the sides than on top (one thickness all round reads as a helmet).
        above_brows = layout.vertex_points[:, 1] - layout.landmarks[17:27, 1].mean()
        assert lift[(above_brows > 0.1) & (above_brows < 0.2)].max() < 0.5 * lift.max()
    assert vertex_hair_thickness(identity(0, hair_style="bald", hair_thickness=0.0), layout).max() == 0.0


def test_painting_follows_the_surface_not_the_uv_layout(model, skin_faces, standin_assets):
    """The same identity painted in a different UV layout (every island mirrored and moved) puts
    the same colour at the same point of the face: the painter serves any model's UV space."""
    from pipeline.appearance.layout import build_layout
    from pipeline.synthesis.pair import neutral_layout

    base = neutral_layout(model, skin_faces, SIZE)
    uv, uv_faces = model.uv
    moved = np.stack([1.0 - uv[:, 0], 0.5 + 0.5 * uv[:, 1]], 1)  # mirrored, squeezed into the top half
    import torch

    with torch.no_grad():
        out = model(shape=torch.zeros(1, model.n_shape))
    other = build_layout(out.vertices[0].double().numpy(), model.faces, moved, uv_faces,
                         out.landmarks[0].double().numpy(), skin_faces, SIZE)
    person = identity(5, freckles=0.0, stubble=0.0)  # texel-scale detail differs by layout; shapes must not
    a = paint(person, base, SKIN).albedo.reshape(-1, 3)[base.texels]
    b = paint(person, other, SKIN).albedo.reshape(-1, 3)[other.texels]
    lm = base.landmarks
    for point in (lm[19] + [0, -0.03, 0], 0.5 * (lm[51] + lm[62]), np.array([0.0, lm[:, 1].max() + 0.7, base.centre[2]])):
        ca, cb = a[texel_near(base, point)], b[texel_near(other, point)]
        assert np.abs(ca - cb).max() < 0.12, (point, ca, cb)


def test_recipe_appearance_keys_are_checked(tmp_path):
    text = load_recipe("smoke").text
    assert load_recipe("smoke").render.appearance.texture_size == 256
    assert load_recipe("meflow-v1").render.appearance == AppearanceProfile(texture_size=1024)  # the file spells out the defaults
    for bad, words in (("texture_size = 16", "texture_size must be an integer >= 64"),
                       ("hair_length = [0.5, 0.1]", "hair_length must be [low, high]"),
                       ("teeth_stain = [0.0, 2.0]", "teeth_stain must be [low, high]"),
                       ("stubble_probability = 1.5", "stubble_probability must be a number in [0.0, 1.0]"),
                       ("hair_styles = ['mohawk']", "hair_styles must be a non-empty list from"),
                       ("hair_colours = ['brown']", "hair_colours must hold colours like"),
                       ("hair_colour = ['#000000']", "unknown key 'hair_colour'")):
        with pytest.raises(RecipeError, match=re.escape(words)) as err:
            parse_recipe(text.replace("texture_size = 256", bad), "smoke.toml")
        assert "smoke.toml: [render.appearance]" in str(err.value) and "\n" not in str(err.value)


def test_texture_library_errors_name_the_folder_or_file(tmp_path):
    with pytest.raises(TextureError, match="holds no PNG or JPEG images"):
        list_textures(str(tmp_path))
    with pytest.raises(TextureError, match="is not a folder"):
        list_textures(str(tmp_path / "missing"))
    Image.new("RGB", (64, 32)).save(tmp_path / "wide.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    Image.new("RGB", (64, 64), (200, 120, 90)).save(tmp_path / "a" / "texture.png") if (tmp_path / "a").mkdir() is None else None
    assert list_textures(str(tmp_path)) == sorted(str(p) for p in (tmp_path / "a" / "texture.png", tmp_path / "broken.png", tmp_path / "wide.png"))
    with pytest.raises(TextureError, match=r"wide.png is 64 x 32: UV textures must be square"):
        load_texture(str(tmp_path / "wide.png"), 32)
    with pytest.raises(TextureError, match=r"broken.png cannot be read"):
        load_texture(str(tmp_path / "broken.png"), 32)
    good = load_texture(str(tmp_path / "a" / "texture.png"), 32)
    assert good.shape == (32, 32, 3) and np.allclose(good[0, 0], [0.578, 0.188, 0.100], atol=0.01)  # sRGB -> linear


def test_library_texture_is_the_base_with_detail_on_top(layout):
    base = np.zeros((SIZE, SIZE, 3))
    base[..., 1] = 0.6  # a green face: nothing procedural would make it
    person = identity(2, hair_style="short")
    maps = paint(person, layout, SKIN, base).albedo.reshape(-1, 3)[layout.texels]
    cheek = texel_near(layout, 0.5 * (layout.landmarks[41] + layout.landmarks[48]))
    assert maps[cheek, 1] > 3 * maps[cheek, 0]  # the library's colour shows through
    crown = texel_near(layout, np.array([0.0, layout.landmarks[:, 1].max() + 0.7, layout.centre[2]]))
    assert maps[crown, 1] < 0.3  # hair painted over it


def test_a_bad_library_texture_fails_its_sample_into_the_ledger(tmp_path, standin_assets, standin_dir):
    """A recipe whose texture folder holds an unreadable file: the samples drawing it are recorded
    with the file's name, the others build."""
    from pipeline.build.builder import build

    folder = tmp_path / "textures"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"not a png")
    text = load_recipe("smoke").text.replace("texture_size = 256", f"texture_size = 64\ntexture_folder = '{folder}'\ntexture_probability = 0.5")
    recipe = parse_recipe(text, "library.toml")
    report = build(tmp_path / "data", recipe, standin_assets, standin_dir, shards=1, samples_per_shard=4, workers=1,
                   echo=lambda _: None)
    reasons = [f["reason"] for f in report.failures]
    assert reasons and all("broken.png cannot be read" in r for r in reasons)
    assert report.samples + len(reasons) == 4 and report.samples > 0


def test_the_lips_meet_in_a_dark_line_over_a_shadowed_chin(layout):
    """Lips read by their shading as much as their colour: the line where they meet is darker than
    either lip, and the skin just under the lower lip is darker than the chin below it."""
    lm = layout.landmarks
    person = identity(2, stubble=0.0, freckles=0.0, lipstick=None, skin_variation=0.0)  # the mouth alone, no mottling
    brightness = paint(person, layout, SKIN).albedo.reshape(-1, 3)[layout.texels].mean(1)
    front = layout.points[:, 2] > lm[8, 2] - 0.1

    def seen_from_the_front(x: float, y: float) -> float:  # mean brightness of the texels a front view shows there
        return brightness[front & (np.hypot(layout.points[:, 0] - x, layout.points[:, 1] - y) < 0.012)].mean()

    meeting = 0.5 * (lm[62] + lm[66])
    line = seen_from_the_front(meeting[0], meeting[1])
    upper, lower = (seen_from_the_front(meeting[0], meeting[1] + dy) for dy in (0.035, -0.04))
    assert line < 0.8 * min(upper, lower), (line, upper, lower)
    border = lip_contour(lm)[:, 1].min()  # the lower lip's border, under its middle
    under_lip, chin = (seen_from_the_front(0.0, border - dy) for dy in (LOWER_LIP_SHADOW[0], 0.15))
    assert under_lip < 0.92 * chin, (under_lip, chin)


def test_the_lower_lip_is_round_not_pointed(layout):
    """The vermilion border bends smoothly everywhere under the lower lip, however finely the curve is
    cut; the outer-lip landmarks' polygon turns by about 40 degrees at once at the middle one."""
    contour = lip_contour(layout.landmarks)
    lower = contour[contour[:, 1] < layout.landmarks[[48, 54], 1].mean()]
    steps = np.diff(lower, axis=0)
    turn = np.abs(np.diff(np.unwrap(np.arctan2(steps[:, 1], steps[:, 0]))))
    curvature = turn / (0.5 * (np.linalg.norm(steps[1:], axis=1) + np.linalg.norm(steps[:-1], axis=1)))
    assert curvature.max() < 1.0 / 0.05  # nowhere tighter than a 6 mm radius (the polygon: a corner)
    assert lower[:, 1].min() < layout.landmarks[57, 1] + 0.025  # within 3 mm of the middle landmark: still full


def _correlation_at(layout, values: np.ndarray, lag: np.ndarray) -> float:
    """Correlation of values (N,) at texels of the front of the face with the texel nearest each one
    shifted by lag (3,) seen from the front."""
    from scipy.spatial import cKDTree

    p, lm = layout.points, layout.landmarks
    front = np.flatnonzero((p[:, 2] > 0.0) & (np.abs(p[:, 0]) < 0.3) & (p[:, 1] < lm[19, 1]) & (p[:, 1] > lm[57, 1]))
    gap, nearest = cKDTree(p[front, :2]).query(p[front, :2] + lag[:2])
    kept = gap < 0.25 * np.linalg.norm(lag)
    return float(np.corrcoef(values[front][kept], values[front][nearest[kept]])[0, 1])


def test_fine_detail_is_round_on_the_skin_whatever_the_uv_stretch(layout):
    """Pores, stubble and freckles are noise of the surface: as correlated across the face as down
    it. The UV layout stretches the face about 2.4:1, so the same noise blurred in the texture's own
    grid is not."""
    from scipy import ndimage

    from pipeline.appearance.noise import surface_noise

    feature = 3.0 * layout.texel_size
    across, down = np.array([feature, 0.0, 0.0]), np.array([0.0, feature, 0.0])
    on_skin = surface_noise(layout.points, feature, seed=3)
    texture = ndimage.gaussian_filter(np.random.default_rng(3).standard_normal((layout.size,) * 2), 0.5 * feature / layout.texel_size,
                                      mode="wrap").reshape(-1)[layout.texels]
    a, b = _correlation_at(layout, on_skin, across), _correlation_at(layout, on_skin, down)
    assert abs(a - b) < 0.1 and min(a, b) > 0.2, (a, b)
    a, b = _correlation_at(layout, texture, across), _correlation_at(layout, texture, down)
    assert abs(a - b) > 0.2, (a, b)  # the counter-example: this check sees UV stretch
    assert abs(on_skin.mean()) < 1e-9 and abs(on_skin.std() - 1.0) < 1e-9


def test_lash_lines_are_mirror_images_and_thin_by_the_inner_corners(layout):
    """Both eyes get the same lash line: dark across the upper lid, faint by the inner corner."""
    lm = layout.landmarks
    person = identity(0, lash_darkness=0.9, eyeliner=0.0, brow_density=0.0, freckles=0.0, hair_style="bald")
    brightness = paint(person, layout, SKIN).albedo.reshape(-1, 3)[layout.texels].mean(1)
    lid = {}
    for eye, (inner, middle, outer) in (("right", (39, 38, 37)), ("left", (42, 43, 44))):
        near_inner = 0.85 * lm[inner] + 0.15 * lm[middle]
        lid[eye] = brightness[texel_near(layout, near_inner)], brightness[texel_near(layout, 0.5 * (lm[middle] + lm[outer]))]
    for eye, (by_the_corner, across) in lid.items():
        assert across < 0.8 * by_the_corner, (eye, across, by_the_corner)
    assert np.allclose(lid["right"], lid["left"], rtol=0.15), lid


def test_a_womans_hairline_arches_over_the_forehead(layout):
    """From the middle of the forehead towards the temples a woman's hairline falls, framing the
    forehead in an oval; a man's stays nearly straight (his temples recede instead)."""
    def hairline_height(person: Identity, azimuth_deg: float) -> float:
        heights = np.linspace(-0.2, 1.0, 1201)
        a = np.radians(azimuth_deg)
        points = layout.centre + np.stack([np.full_like(heights, np.sin(a)), heights - layout.centre[1], np.full_like(heights, np.cos(a))], 1)
        cover = hair_coverage(person, points, layout, jitter=False)
        return float(heights[np.argmax(cover >= 0.5)])

    fall = {}
    for sex in ("female", "male"):
        person = identity(6, sex=sex, hair_style="short", recession=0.0, sideburns=0.0)
        fall[sex] = hairline_height(person, 0.0) - hairline_height(person, 40.0)
    assert fall["female"] > 0.05 and fall["male"] < 0.02, fall


def test_blood_mottles_the_skin_at_the_scale_of_a_centimetre(layout):
    """Within a few centimetres of plain forehead the skin's redness varies (blotches of blood
    nearer the surface in some places) as much as skin_variation says: an even tone there reads as
    painted plastic."""
    lm, p = layout.landmarks, layout.points
    forehead = (np.hypot(p[:, 0], p[:, 1] - lm[17:27, 1].mean() - 0.15) < 0.12) & (p[:, 2] > 0.1)
    spread = {}
    for variation in (1.0, 0.0):
        person = identity(4, skin_variation=variation, freckles=0.0, hair_style="bald", wrinkles=0.0)
        albedo = paint(person, layout, SKIN).albedo.reshape(-1, 3)[layout.texels][forehead]
        spread[variation] = float((albedo[:, 1] / albedo[:, 0]).std())
    assert forehead.sum() > 100
    assert spread[1.0] > 0.015 and spread[0.0] < 0.003, spread
