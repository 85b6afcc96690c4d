"""Shoulders in a shirt (render.body): the collar rings the neck above its cut, so the cut never
shows, the surface faces outwards, and the torso turns with the neck. Pure numpy; the Cycles
side (ground truth on the shirt) is in test_render_pairs."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from render.body import COLLAR_GAP, SEGMENTS, Clothing, body_faces, body_vertices, neck_loop, to_local
from render.rigid import apply_motion, rigid_fit

NARROW = Clothing((0.1, 0.1, 0.1), (0.5, 0.5, 0.5), 0.0, 0.01, 0.3, shoulder_half_width=0.18, shoulder_drop=0.03,
                  chest_half_depth=0.09)
BROAD = Clothing((0.1, 0.1, 0.1), (0.5, 0.5, 0.5), 1.0, 0.02, 0.4, shoulder_half_width=0.23, shoulder_drop=0.07,
                 chest_half_depth=0.12)


@pytest.fixture(scope="module")
def model(standin_assets, meflow_cache):
    from flame_assets.model import FaceModel

    return FaceModel(standin_assets, cache_dir=meflow_cache)


def _geometry(model, seed: int):
    from pipeline.synthesis.face_params import FaceParams, three_states
    from pipeline.synthesis.meshes import evaluate_states
    from pipeline.synthesis.schedule import Scales

    rng = np.random.default_rng(seed)
    face = FaceParams(shape=rng.normal(size=model.n_shape), expression=rng.normal(size=50), jaw=np.array([0.1, 0.0, 0.0]),
                      pose=np.radians(rng.normal(0.0, [10.0, 25.0, 6.0])), eyelids=np.zeros(2))
    return evaluate_states(model, three_states(face, Scales(0.3, 0.3, 0.1, 0.1)))


def test_the_neck_cut_is_the_lowest_open_boundary(standin_assets):
    loop = neck_loop(standin_assets.faces, standin_assets.v_template)
    root = standin_assets.j_regressor[0] @ standin_assets.v_template
    assert len(loop) > 32 and np.abs(standin_assets.v_template[loop, 1] - root[1]).max() < 0.005


@pytest.mark.parametrize("shape", [NARROW, BROAD])
def test_the_collar_rings_the_neck_above_its_cut_and_faces_out(model, standin_assets, shape):
    """Whatever the identity and pose: every neck-cut vertex lies inside the collar, at least half
    the collar gap from it, and below the collar's top edge; every face's normal points away
    from the torso's axis (Cycles shades the outside)."""
    loop = neck_loop(standin_assets.faces, standin_assets.v_template)
    for seed in range(4):
        onset = _geometry(model, seed)["onset"]
        neck = to_local(onset.vertices[loop], onset.joints[0], onset.rotation)
        body = body_vertices(neck, shape)
        collar = body[:SEGMENTS]
        assert neck[:, 1].max() < collar[:, 1].min()
        # In the horizontal plane the collar is a convex ring round the neck: each cut vertex is
        # inside it, with the gap kept.
        centre = collar[:, [0, 2]].mean(0)
        for p in neck[:, [0, 2]]:
            direction = (p - centre) / np.linalg.norm(p - centre)
            reach = (collar[:, [0, 2]] - centre) @ direction
            assert np.linalg.norm(p - centre) + 0.5 * COLLAR_GAP < reach.max()
        triangles = body[body_faces()]
        normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
        centres = triangles.mean(1)
        outward = centres[:, [0, 2]] - centre
        assert np.all(np.einsum("ij,ij->i", normals[:, [0, 2]], outward) > -1e-12)


def test_the_shoulders_turn_with_the_neck(model, standin_assets):
    """Across the three states the torso moves as the neck's cut does (a rigid fit of the cut's
    motion predicts the torso's to a tenth of a millimetre), and it does move."""
    from pipeline.synthesis.pair import body_states

    loop = neck_loop(standin_assets.faces, standin_assets.v_template)
    geometry = _geometry(model, 7)
    onset, head, apex = body_states(loop, BROAD, geometry)
    for state, body in (("head", head), ("apex", apex)):
        predicted = apply_motion(onset, rigid_fit(geometry["onset"].vertices[loop], geometry[state].vertices[loop]))
        assert np.abs(predicted - body).max() < 1e-4, state
    assert np.abs(apex - onset).max() > 1e-3
    turned = Rotation.from_matrix(rigid_fit(onset, apex)[0]).magnitude()
    assert turned > 1e-3


def test_recipe_clothing_keys_are_checked_and_off_by_default():
    import re

    from pipeline.synthesis.recipe import ClothingProfile, RecipeError, load_recipe, parse_recipe

    assert load_recipe("smoke").render.clothing == ClothingProfile() and ClothingProfile().probability == 0.0
    assert load_recipe("meflow-v1").render.clothing.probability == 1.0
    text = load_recipe("meflow-v1").text
    for good, bad, words in (("probability = 1.0\ncolours", "probability = 1.5\ncolours", "probability must be a number in [0.0, 1.0]"),
                             ("shoulder_width = [0.36, 0.46]", "shoulder_width = [0.46, 0.36]", "shoulder_width must be [low, high]"),
                             ("stripes_probability", "stripe_probability", "unknown key 'stripe_probability'"),
                             ('colours = ["#1d2433"', 'colours = ["navy"', "colours must hold colours like")):
        assert good in text
        with pytest.raises(RecipeError, match=re.escape(words)) as err:
            parse_recipe(text.replace(good, bad), "meflow-v1.toml")
        assert "meflow-v1.toml: [render.clothing]" in str(err.value) and "\n" not in str(err.value)


def test_photographic_backdrops_are_muted_and_static():
    """meflow-v1 draws studio and bokeh backdrops: colours of low saturation, and the same image
    for the same spec (the background's flow is exactly zero because it never changes)."""
    import colorsys

    from render.backgrounds import BackgroundSpec, linear_to_srgb, make_background, muted_colour

    rng = np.random.default_rng(0)
    for kind in ("studio", "bokeh"):
        for _ in range(4):
            colours = tuple(tuple(muted_colour(rng.random(3))) for _ in range(2))
            spec = BackgroundSpec(kind, colours, float(rng.uniform(0, 6.3)), float(rng.uniform(3, 12)), int(rng.integers(2**31)))
            image = make_background(spec, 64, 80)
            assert image.shape == (64, 80, 3) and np.array_equal(image, make_background(spec, 64, 80))
            srgb = linear_to_srgb(image.reshape(-1, 3).mean(0))
            assert colorsys.rgb_to_hsv(*srgb)[1] < 0.4
            assert np.ptp(image.mean(-1)) > 0.01  # lit, mottled or blurred: not a flat fill
