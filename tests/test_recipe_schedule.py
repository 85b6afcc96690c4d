"""Recipes load and validate; sampled scales follow the recipe; eq. 1-3 scale the right parameters."""
from __future__ import annotations

import numpy as np
import pytest

from facial.flame_layout import N_EXPRESSION, N_SHAPE
from pipeline.synthesis.distributions import RecipeError
from pipeline.synthesis.face_params import FaceParams, three_states
from pipeline.synthesis.recipe import load_recipe, parse_recipe, recipe_dir, resolve_recipe_path
from pipeline.synthesis.schedule import sample_scales
from pipeline.synthesis.seeds import sample_rngs

N_DRAWS = 20000


@pytest.fixture(scope="module")
def v1():
    return load_recipe("meflow-v1")


def test_shipped_recipes(v1):
    smoke = load_recipe("smoke")
    assert v1.render.height >= 480 and v1.render.width >= 400  # MELLM's training crops fit
    assert smoke.render.width * smoke.render.height < v1.render.width * v1.render.height
    assert smoke.schedule == v1.schedule and len(v1.hash) == 64 and v1.hash != smoke.hash


def test_scales_follow_the_paper_schedule(v1):
    scales = [sample_scales(v1.schedule, sample_rngs(v1.seed, k)["schedule"]) for k in range(N_DRAWS)]
    on_e = np.array([s.onset_expression for s in scales])
    on_p = np.array([s.onset_pose for s in scales])
    d_e = np.array([s.apex_expression for s in scales]) - on_e
    d_p = np.array([s.apex_pose for s in scales]) - on_p
    for onset in (on_e, on_p):
        assert onset.min() >= 0 and onset.max() <= 0.3
        np.testing.assert_allclose(np.quantile(onset, [0.25, 0.5, 0.75]), [0.075, 0.15, 0.225], atol=0.006)
    assert d_e.min() >= 0.03 and d_e.max() <= 0.25
    assert abs((d_e < 0.1).mean() - 0.85) < 0.01
    assert d_p.min() >= 0.0 and d_p.max() <= 0.1
    assert abs((d_p < 0.03).mean() - 0.95) < 0.006
    assert abs(np.corrcoef(on_e, d_e)[0, 1]) < 0.03  # increments independent of the onset


def test_every_choice_depends_only_on_seed_and_index():
    a = [sample_rngs(5, k)["scene"].random() for k in (3, 1, 2)]
    b = [sample_rngs(5, k)["scene"].random() for k in (1, 2, 3)]
    assert a == [b[2], b[0], b[1]]
    assert sample_rngs(5, 1)["scene"].random() != sample_rngs(6, 1)["scene"].random()
    assert sample_rngs(5, 1)["scene"].random() != sample_rngs(5, 1)["schedule"].random()


def test_three_states_follow_equations_1_to_3():
    from pipeline.synthesis.schedule import Scales

    rng = np.random.default_rng(0)
    face = FaceParams(shape=rng.normal(size=N_SHAPE), expression=rng.normal(size=N_EXPRESSION), jaw=np.array([0.2, 0, 0]),
                      pose=np.array([0.1, 0.4, 0.05]), eyelids=np.array([0.5, 0.4]))
    states = three_states(face, Scales(0.1, 0.2, 0.15, 0.25))
    for s in states.values():
        np.testing.assert_array_equal(s.shape, face.shape)  # identity is never scaled
    np.testing.assert_allclose(states["onset"].expression, 0.1 * face.expression)
    np.testing.assert_allclose(states["onset"].eyelids, 0.1 * face.eyelids)
    np.testing.assert_allclose(states["onset"].pose, 0.2 * face.pose)
    np.testing.assert_allclose(states["head"].jaw, 0.1 * face.jaw)  # onset expression ...
    np.testing.assert_allclose(states["head"].pose, 0.25 * face.pose)  # ... apex head pose
    np.testing.assert_allclose(states["apex"].expression, 0.15 * face.expression)
    np.testing.assert_allclose(states["apex"].pose, 0.25 * face.pose)


def _mutate(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize("old,new,message", [
    ("samples = 64", "samples = 0", r"\[render\] samples must be an integer >= 1"),
    ("width = 512", "width = 512.5", r"\[render\] width must be an integer"),
    ('device = "CPU"', 'device = "TPU"', r"\[render\] device must be one of"),
    ("probabilities = [0.85, 0.15]", "probabilities = [0.85, 0.25]", r"apex_expression_increment.probabilities must be >= 0 and sum to 1"),
    ("edges = [0.03, 0.1, 0.25]", "edges = [0.03, 0.3, 0.25]", r"edges must increase"),
    ("onset_pose = { uniform = [0.0, 0.3] }", "onset_pose = { normal = [0.0, 0.3] }", r"unknown distribution 'normal'"),
    ("count = [1, 3]", "count = [3, 1]", r"\[render.lighting\] count must be \[low, high\]"),
    ("elevation_deg = [0.0, 50.0]", "elevation_deg = [0.0, 120.0]", r"\[render.lighting\] elevation_deg must be \[low, high\] with -90"),
    ("azimuth_deg = 55.0", "azimuth_deg = -5.0", r"\[render.lighting\] azimuth_deg must be a number in \[0.0, 180.0\]"),
    ("key_azimuth_deg = [20.0, 60.0]", "key_azimuth_deg = [60.0, 20.0]", r"\[render.lighting\] key_azimuth_deg must be \[low, high\]"),
    ('kinds = ["studio", "bokeh"]', 'kinds = ["images"]', r"image_folder is empty"),
    ('kinds = ["studio", "bokeh"]', 'kinds = ["studio", "window"]', r"\[render.background\] kinds"),
    ("[schedule]", "[schedul]", r"missing 'schedule'"),
    ("seed = 20251122", "seed = ", r"not valid TOML"),
    ('skin_tones = ["#eccbb4"', 'skin_tones = ["pink"', r"skin_tones must hold colours"),
])
def test_bad_recipe_values_name_the_key(v1, old, new, message):
    with pytest.raises(RecipeError, match=message):
        parse_recipe(_mutate(v1.text, old, new), "broken.toml")


def test_unknown_recipe_lists_the_known_ones():
    with pytest.raises(RecipeError, match="meflow-v1, smoke"):
        resolve_recipe_path("nope")


def test_a_renamed_recipe_with_a_new_schedule_draws_the_same_identities(standin_model):
    """Regenerating with a new schedule under a new name gives the same faces under the same
    source ids, so the identity split keeps every face on its side across both datasets."""
    from pipeline.synthesis.pair import plan_sample

    smoke = load_recipe("smoke")
    text = _mutate(smoke.text, 'name = "smoke"', 'name = "smoke-slower-onsets"')
    copy = parse_recipe(_mutate(text, "onset_expression = { uniform = [0.0, 0.3] }", "onset_expression = { uniform = [0.0, 0.1] }"),
                        "copy.toml")
    for k in range(6):
        a, b = plan_sample(smoke, k, standin_model), plan_sample(copy, k, standin_model)
        np.testing.assert_array_equal(a.face.shape, b.face.shape)
        assert a.scales != b.scales  # the new schedule is in effect
        assert a.source_id == b.source_id == f"random:{smoke.seed}:{k}"  # so the split puts it on one side
    other_seed = parse_recipe(_mutate(smoke.text, "seed = 7", "seed = 8"), "other.toml")
    assert plan_sample(other_seed, 0, standin_model).source_id != plan_sample(smoke, 0, standin_model).source_id


def test_photo_sources_parse_with_fitting_defaults_and_name_bad_keys():
    v1 = load_recipe("affectnet-v1")
    assert v1.source.uses_fits and v1.source.photos.kind == "affectnet" and v1.source.photos.batch == 16
    assert (v1.render.width, v1.schedule) == (512, load_recipe("meflow-v1").schedule)  # the paper's schedule at 512
    text = load_recipe("affectnet-smoke").text
    start, end = text.index("[source]"), text.index("[schedule]")
    folder = parse_recipe(text[:start] + '[source]\nkind = "images"\nimages = "photos/"\n\n' + text[end:])
    assert folder.source.photos.images == "photos/" and folder.source.photos.detector == "mediapipe"
    assert folder.source.photos.max_nme == 0.08 and not load_recipe("smoke").source.uses_fits
    for source, message in (('kind = "images"', "missing 'images'"), ('kind = "affectnet"', "missing 'csv'"),
                            ('kind = "images"\nimages = "p"\ncsvv = "x"', "unknown key 'csvv'"),
                            ('kind = "images"\nimages = "p"\ndetector = "openface"', "detector must be one of"),
                            ('kind = "images"\nimages = "p"\nbatch = 0', "batch must be")):
        with pytest.raises(RecipeError, match=message):
            parse_recipe(text[:start] + f"[source]\n{source}\n\n" + text[end:], "r.toml")


@pytest.mark.parametrize("recipe,low,high,side,key", [("meflow-v1", 0.0, 50.0, 60.0, (20.0, 60.0)), ("smoke", -20.0, 70.0, 80.0, None)])
def test_lights_stay_within_the_recipe_directions(recipe, low, high, side, key):
    """[render.lighting] elevation_deg and azimuth_deg bound where every light stands round the face
    (meflow-v1 keeps portrait lights at or above eye level and short of split light; a recipe
    without the keys keeps the wide defaults), key_azimuth_deg where the first light (the key)
    stands, on both sides, and the whole range is drawn."""
    from types import SimpleNamespace

    from pipeline.synthesis.scene_sampling import sample_scene

    profile = load_recipe(recipe).render
    assert profile.lighting.key_azimuth_deg == key
    onset = SimpleNamespace(landmarks=np.random.default_rng(0).normal(scale=0.03, size=(68, 3)))
    directions, keys = [], []
    for k in range(60):
        scene = sample_scene(profile, np.random.default_rng(k), onset, cycles_seed=0)
        directions += [np.asarray(light.location) - np.asarray(scene.aim) for light in scene.lights]
        keys.append(len(directions) - len(scene.lights))
    d = np.array(directions) / np.linalg.norm(directions, axis=1, keepdims=True)
    elevation, azimuth = np.degrees(np.arcsin(d[:, 1])), np.degrees(np.arctan2(d[:, 0], d[:, 2]))
    assert elevation.min() >= low - 1e-6 and elevation.max() <= high + 1e-6 and np.abs(azimuth).max() <= side + 1e-6
    assert elevation.min() < low + 10.0 and elevation.max() > high - 10.0 and np.abs(azimuth).max() > side - 10.0
    if key is not None:
        key_azimuth = azimuth[keys]
        assert np.abs(key_azimuth).min() >= key[0] - 1e-6 and np.abs(key_azimuth).max() <= key[1] + 1e-6
        assert (key_azimuth > 0).sum() > 15 and (key_azimuth < 0).sum() > 15  # from either side


def test_every_shipped_skin_palette_is_the_colour_of_skin():
    """Each shipped recipe's skin tones lie where measured cheeks do in CIELAB (scikit-image's
    conversion): chroma 12-26 at hue 45-70 degrees. The former palette's middle tones had chroma
    29-35, and every face rendered as an orange mannequin."""
    from skimage.color import rgb2lab

    recipes = sorted(recipe_dir().glob("*.toml"))
    assert len(recipes) >= 5
    for path in recipes:
        for tone in load_recipe(path).render.skin_tones:
            srgb = np.array([int(tone[i:i + 2], 16) for i in (1, 3, 5)], float) / 255.0
            _, a, b = rgb2lab(srgb[None, None])[0, 0]
            assert 12.0 <= np.hypot(a, b) <= 26.0 and 45.0 <= np.degrees(np.arctan2(b, a)) <= 70.0, (path.name, tone, a, b)
