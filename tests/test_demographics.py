"""Random heads are people: a sex, an ancestry mix and an age shape the stand-in (MakeHuman's macro
corners, mixed convexly) and pick the identity's appearance; all recorded in the sample."""
import json

import numpy as np
import pytest
import torch

from facial.demographics import ANCESTRIES, CORNERS, Demographic, corner_weights, sample_demographic
from pipeline.appearance.identity import AppearanceProfile, sample_identity
from pipeline.synthesis.recipe import RecipeError, load_recipe, parse_recipe


def _draw(seed: int, female_share: float = 0.5):
    return sample_demographic(np.random.default_rng(seed), female_share, (0.6, 1.0), 0.5, (0.0, 0.5))


def test_a_person_is_a_convex_mix_of_the_corners_within_the_recipe_ranges():
    people = [_draw(k) for k in range(200)]
    assert _draw(3) == _draw(3)  # one seed, one person
    for p in people:
        w = corner_weights(p)
        assert w.shape == (len(CORNERS),) and w.min() >= 0 and w.sum() == pytest.approx(1.0)
        assert sum(p.ancestry) == pytest.approx(1.0) and 0.0 <= p.age <= 0.5
        # masculinity: 0.5 - dimorphism / 2 for women, 0.5 + dimorphism / 2 for men
        assert (0.0 <= p.masculinity <= 0.2) if p.sex == "female" else (0.8 <= p.masculinity <= 1.0)
    share = np.mean([p.sex == "female" for p in people])
    assert 0.4 < share < 0.6
    assert {_draw(k, female_share=1.0).sex for k in range(20)} == {"female"}
    # The share changes who is a woman, not the ancestry and age drawn after it.
    assert _draw(5, 0.0).ancestry == _draw(5, 1.0).ancestry and _draw(5, 0.0).age == _draw(5, 1.0).age


def _whole_corner_head(standin_model, sex: str, ancestry: tuple):
    """The stand-in's output for a young person of the sex's corner in full and the ancestry mix."""
    assets = standin_model.assets
    person = Demographic(sex, 0.0 if sex == "female" else 1.0, ancestry, 0.0)
    shape = torch.zeros(1, standin_model.n_shape)
    shape[0, assets.demographic_index] = torch.tensor(corner_weights(person) * assets.demographic_full, dtype=shape.dtype)
    with torch.no_grad():
        return standin_model(shape=shape)


def test_men_have_longer_faces_than_women_of_every_ancestry(standin_model):
    """The dimorphism the corners carry: nasion to chin, absolute and relative to the eye span."""

    def landmarks(sex: str, ancestry: tuple) -> np.ndarray:
        return _whole_corner_head(standin_model, sex, ancestry).landmarks[0].double().numpy()

    for i in range(len(ANCESTRIES)):
        ancestry = tuple(float(j == i) for j in range(len(ANCESTRIES)))
        woman, man = landmarks("female", ancestry), landmarks("male", ancestry)
        length = [np.linalg.norm(lm[27] - lm[8]) for lm in (woman, man)]
        eyes = [np.linalg.norm(lm[36] - lm[45]) for lm in (woman, man)]
        assert length[1] - length[0] > 0.006, ANCESTRIES[i]
        assert length[1] / eyes[1] > length[0] / eyes[0] + 0.03, ANCESTRIES[i]


def test_men_have_broader_necks_than_women_of_every_ancestry(standin_model):
    """The neck is the stand-in's own tube, below MakeHuman's targets: the sex corners widen or
    slim it to adult neck breadths (about 12.5 cm for men, 10 cm for women), not one neck for all."""

    def neck_breadth(sex: str, ancestry: tuple) -> float:
        v = _whole_corner_head(standin_model, sex, ancestry).vertices[0].double().numpy()
        return float(np.ptp(v[np.abs(v[:, 1] + 0.155) < 0.004, 0]))  # 2 cm above the neck's cut

    for i in range(len(ANCESTRIES)):
        ancestry = tuple(float(j == i) for j in range(len(ANCESTRIES)))
        woman, man = neck_breadth("female", ancestry), neck_breadth("male", ancestry)
        assert 0.095 < woman < 0.11 and 0.118 < man < 0.135 and man - woman > 0.015, (ANCESTRIES[i], woman, man)


def test_the_stand_in_card_names_the_corners(standin_dir, standin_assets):
    card = json.loads((standin_dir / "standin_card.json").read_text())
    named = card["shape_directions_named"]
    for corner, index, full in zip(CORNERS, standin_assets.demographic_index, standin_assets.demographic_full):
        assert named[index] == f"macro {corner}"
        assert card["demographic_corners"][corner] == {"direction": int(index), "full_coefficient": round(float(full), 4)}
        assert 3.0 < full < 40.0  # a whole corner is several units of its direction, whose unit is clipped at 3 mm


def test_a_random_sample_records_its_person_and_is_shaped_and_dressed_as_them(standin_model):
    from pipeline.synthesis.pair import plan_sample

    recipe = load_recipe("meflow-v1")
    assets = standin_model.assets
    sexes = set()
    for k in range(12):
        inputs = plan_sample(recipe, k, standin_model)
        again = plan_sample(recipe, k, standin_model)
        np.testing.assert_array_equal(inputs.face.shape, again.face.shape)
        assert inputs.labels["subject"] == again.labels["subject"]
        subject = inputs.labels["subject"]
        person = Demographic(subject["sex"], subject["masculinity"], tuple(subject["ancestry"][a] for a in ANCESTRIES), subject["age"])
        mixed = corner_weights(person) * assets.demographic_full
        np.testing.assert_allclose(inputs.face.shape[assets.demographic_index], mixed, atol=1e-4)  # JSON keeps 6 digits
        appearance = inputs.scene.appearance
        assert appearance["sex"] == subject["sex"]
        if subject["sex"] == "female":
            assert appearance["stubble"] == 0.0 and appearance["sideburns"] == 0.0 and appearance["hair_style"] != "bald"
        else:
            assert appearance["lipstick"] is None and appearance["eyeliner"] == 0.0 and appearance["makeup_blush"] == 0.0
        sexes.add(subject["sex"])
    assert sexes == {"female", "male"}


def test_appearance_follows_sex_with_a_fixed_number_of_draws():
    profile = AppearanceProfile(stubble_probability=1.0, makeup_probability=1.0)
    for k in range(10):
        woman = sample_identity(profile, np.random.default_rng(k), sex="female")
        man = sample_identity(profile, np.random.default_rng(k), sex="male")
        assert woman.stubble == 0.0 and man.stubble > 0.0
        assert man.lipstick is None and man.eyeliner == 0.0
        assert woman.seed == man.seed and woman.skin_shine == man.skin_shine  # the draws after the choices line up
    with pytest.raises(ValueError, match="sex must be one of"):
        sample_identity(profile, np.random.default_rng(0), sex="other")


@pytest.mark.parametrize("old, new, message", [
    ("female_share = 0.5", "female_share = 1.5", r"\[source\] female_share must be a number in \[0.0, 1.0\]"),
    ("dimorphism = [0.6, 1.0]", "dimorphism = [1.0, 0.6]", r"\[source\] dimorphism must be \[low, high\]"),
    ("ancestry_concentration = 0.5", "ancestry_concentration = 0", r"\[source\] ancestry_concentration must be a number"),
    ("age = [0.0, 0.5]", "age = [0.0, 2.0]", r"\[source\] age must be \[low, high\]"),
    ("female_hair_style_weights = [0.0, 0.03, 0.10, 0.12, 0.75]", "female_hair_style_weights = [1.0]",
     r"\[render.appearance\] female_hair_style_weights must be 5 numbers"),
])
def test_a_bad_population_key_is_one_line_naming_it(old, new, message):
    text = load_recipe("meflow-v1").text
    assert old in text
    with pytest.raises(RecipeError, match=message):
        parse_recipe(text.replace(old, new), "broken.toml")


def test_recipes_without_the_keys_keep_the_defaults():
    population = load_recipe("smoke").source.population
    assert population.female_share == 0.5 and population.dimorphism == (0.6, 1.0)
