"""Cycles renders with exact ground truth: the data layer's flow equals an independent ray-cast
reprojection, background flow is zero, warping by the flow explains the pair, and failures are
contained."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from reference_reprojection import reprojected_flow
from render_helpers import large_motion_recipe

GT_TOLERANCE_PX = 0.01
WARP_SAMPLES = (0, 1, 2, 3)


@pytest.fixture(scope="module")
def worker(standin_assets, meflow_cache):
    from pipeline.synthesis.pair import RenderWorker

    return RenderWorker(large_motion_recipe(), standin_assets, cache_dir=meflow_cache, threads=2)


def _surfaces(faces: np.ndarray, face_hit: np.ndarray) -> np.ndarray:
    """(H, W) which separate surface (connected part of the mesh: skin, an eyeball, an ear, the
    hair) each pixel sees, -1 where none."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = int(faces.max()) + 1
    links = coo_matrix((np.ones(2 * len(faces)), (np.r_[faces[:, 0], faces[:, 1]], np.r_[faces[:, 1], faces[:, 2]])), shape=(n, n))
    part = connected_components(links, directed=False)[1]
    return np.where(face_hit >= 0, part[faces[np.maximum(face_hit, 0), 0]], -1)


def _edges(depth: np.ndarray, mask: np.ndarray, surface: np.ndarray | None = None) -> np.ndarray:
    """Pixels at a silhouette, a depth step (lips, nose side) or where one surface meets another
    it does not join (a lid over the eyeball, hair on the skin): where 1-sample ground truth and
    any reprojection legitimately see different surfaces. Without `surface`, depth steps only (the
    teeth are separate parts that touch: their joins are not occlusions)."""
    d = np.where(mask, depth, 1e3)
    surface = np.zeros(mask.shape, int) if surface is None else surface
    step = np.zeros_like(mask)
    for axis in (0, 1):
        jump = (np.abs(np.diff(d, axis=axis)) > 0.003) | (np.diff(surface, axis=axis) != 0)
        step |= np.pad(jump, [(0, 1) if a == axis else (0, 0) for a in (0, 1)])
        step |= np.pad(jump, [(1, 0) if a == axis else (0, 0) for a in (0, 1)])
    return step | ~cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def drawn_scene(worker, inputs) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, int]]:
    """Everything Blender draws for a sample (glasses off) as one mesh: the model plus the
    identity's hair cap, then the mouth (teeth, gums, tongue), then the shoulders when the scene
    has clothing, then hanging hair when the style has it. -> vertices per state, faces, index of
    each attached object's first face."""
    from render.body import body_faces
    from render.hair import hair_faces

    states = worker.rendered_vertices(inputs.geometry, worker.appearance(inputs.scene)[1])
    faces, first = [worker.model.assets.faces], {}
    topology = {"mouth": worker.mouth.faces, "body": body_faces(), "hair": hair_faces()}
    for name, positions in worker.attached_states(inputs.geometry, inputs.scene).items():
        first[name] = sum(len(f) for f in faces)
        faces.append(topology[name] + len(states["onset"]))
        states = {s: np.concatenate([states[s], positions[i]]) for i, s in enumerate(("onset", "head", "apex"))}
    return states, np.concatenate(faces), first


SHIRT = {"colour": (0.3, 0.05, 0.05), "stripe_colour": (0.6, 0.6, 0.6), "stripes": 1.0, "stripe_period": 0.01,
         "stripe_share": 0.4, "shoulder_half_width": 0.21, "shoulder_drop": 0.05, "chest_half_depth": 0.1}


@pytest.mark.parametrize("k", [0, 1])
def test_ground_truth_matches_ray_cast_reprojection(worker, standin_assets, k):
    inputs = worker.plan(k)
    # Sample 0 has hair down to the jaw (a bob: the cap and the hanging hair); sample 1 wears a striped shirt.
    appearance = {**inputs.scene.appearance, "hair_style": "bob"} if k == 0 else inputs.scene.appearance
    inputs.scene = dataclasses.replace(inputs.scene, glasses=False, clothing=SHIRT if k == 1 else None, appearance=appearance)
    result = worker.render(inputs)
    drawn, faces, first = drawn_scene(worker, inputs)
    if k == 0:
        head = drawn["onset"][:len(standin_assets.v_template)]
        assert inputs.scene.appearance["hair_thickness"] > 0 and np.abs(head - inputs.geometry["onset"].vertices).max() > 5e-4
    for name, target, flow in (("facial", "apex", result.flow_facial), ("head", "head", result.flow_head)):
        ref, hit, depth, face_hit = reprojected_flow(inputs.scene, drawn["onset"], faces, drawn[target], with_faces=True)
        shown = {0: "hair", 1: "body"}[k]
        assert (face_hit >= first[shown]).sum() > 0.02 * hit.size  # the hanging hair / the shoulders are in the picture
        assert (hit == result.mask).mean() > 0.999, name
        interior = hit & result.mask & ~_edges(depth, hit, _surfaces(faces, face_hit))
        assert interior.sum() > 0.1 * hit.size
        error = np.linalg.norm(ref - flow, axis=-1)[interior]
        assert error.max() < GT_TOLERANCE_PX, (name, error.max())
        assert np.abs(flow[interior]).max() > 0.5  # real motion was checked, not a still pair
        assert np.all(flow[~result.mask] == 0.0)  # background: exactly zero
    assert result.flow_facial.dtype == np.float32 and result.flow_facial.shape == (96, 96, 2)


def test_glasses_move_rigidly_with_the_head(worker):
    inputs = worker.plan(2)
    inputs.scene = dataclasses.replace(inputs.scene, glasses=True)
    plain = dataclasses.replace(inputs, scene=dataclasses.replace(inputs.scene, glasses=False))
    with_glasses, without = worker.render(inputs), worker.render(plain)
    lens = with_glasses.mask & (np.abs(with_glasses.flow_facial - without.flow_facial).max(-1) > 1e-3)
    assert lens.sum() > 20  # the glasses cover part of the face and change what is seen there
    # On the glasses, expression flow is zero: they move with the head only. Checked where the
    # face behind them has expression motion, so a frame that followed the skin would show it.
    moving_skin_behind = lens & (np.abs(without.flow_expression).max(-1) > 0.2)
    assert moving_skin_behind.sum() >= 10, moving_skin_behind.sum()
    np.testing.assert_allclose(with_glasses.flow_expression[moving_skin_behind], 0.0, atol=1e-3)


def test_teeth_show_through_parted_lips_the_lower_ones_moving_with_the_jaw(worker):
    """Open the jaw a little more at the apex: the teeth are drawn (ground truth matches a ray
    cast that includes them), the upper teeth move with the head only (expression flow zero) and
    the lower teeth with the jaw."""
    from pipeline.synthesis.face_params import three_states
    from pipeline.synthesis.meshes import evaluate_states

    inputs = worker.plan(3)
    opening = {"onset": 0.18, "head": 0.18, "apex": 0.26}  # radians; the head state keeps the onset's jaw
    states = {s: dataclasses.replace(p, jaw=np.array([opening[s], 0.0, 0.0])) for s, p in three_states(inputs.face, inputs.scales).items()}
    inputs = dataclasses.replace(inputs, states=states, geometry=evaluate_states(worker.model, states),
                                 scene=dataclasses.replace(inputs.scene, glasses=False, width=192, height=192))  # same framing, finer pixels
    result = worker.render(inputs)
    drawn, faces, first = drawn_scene(worker, inputs)
    first_mouth_face = first["mouth"]
    ref, hit, depth, face_hit = reprojected_flow(inputs.scene, drawn["onset"], faces, drawn["apex"], with_faces=True)
    on_mouth = face_hit >= first_mouth_face
    mouth_face = np.where(on_mouth, face_hit - first_mouth_face, 0)
    lower = worker.mouth.lower[worker.mouth.faces[mouth_face]].all(-1) & on_mouth
    upper = ~worker.mouth.lower[worker.mouth.faces[mouth_face]].any(-1) & on_mouth
    interior = result.mask & ~_edges(depth, hit)
    assert (upper & interior).sum() >= 20 and (lower & interior).sum() >= 20, ((upper & interior).sum(), (lower & interior).sum())
    error = np.linalg.norm(ref - result.flow_facial, axis=-1)[on_mouth & interior]
    assert error.max() < GT_TOLERANCE_PX, error.max()
    expression = np.linalg.norm(result.flow_expression, axis=-1)
    assert expression[upper & interior].max() < 1e-3
    assert np.median(expression[lower & interior]) > 0.3  # the jaw opened by 0.08 rad


def _warp_error(onset: np.ndarray, apex: np.ndarray, flow: np.ndarray, region: np.ndarray) -> float:
    h, w = flow.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(w), np.arange(h)), -1).astype(np.float32)
    mapped = cv2.remap(apex.astype(np.float32), grid + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return float(np.abs(mapped - onset.astype(np.float32))[region].mean())


def test_warping_apex_by_the_flow_reproduces_onset(worker):
    """Per sample the true flow beats zero, negated and u/v-swapped flow; on average by 25 %."""
    totals = {"true": 0.0, "zero": 0.0, "negated": 0.0, "swapped": 0.0}
    for k in WARP_SAMPLES:
        result = worker.render_index(k)
        region = cv2.erode(result.mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        flow = result.flow_facial
        errors = {name: _warp_error(result.onset, result.apex, f, region)
                  for name, f in (("true", flow), ("zero", 0 * flow), ("negated", -flow), ("swapped", flow[..., ::-1]))}
        assert errors["true"] < min(errors["zero"], errors["negated"], errors["swapped"]), (k, errors)
        totals = {name: totals[name] + e for name, e in errors.items()}
    assert totals["true"] < 0.75 * min(totals["zero"], totals["negated"], totals["swapped"]), totals


def test_landmarks_land_on_the_face(worker):
    result = worker.render_index(0)
    ij = np.round(result.landmarks_onset[17:]).astype(int)  # inner points (the contour sits on the outline)
    inside = (ij >= 0).all(1) & (ij[:, 0] < 96) & (ij[:, 1] < 96)
    assert inside.all() and result.mask[ij[:, 1], ij[:, 0]].mean() > 0.95


def test_missing_texture_fails_that_sample_only(worker):
    inputs = worker.plan(1)
    inputs.scene = dataclasses.replace(inputs.scene, texture="/nonexistent/face.png")
    with pytest.raises(ValueError, match="texture /nonexistent/face.png cannot be read"):
        worker.render(inputs)
    assert worker.render_index(1).mask.any()  # the worker goes on


DETERMINISM_SCRIPT = """
import sys, numpy as np
from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
sys.path.insert(0, {tests!r})
from render_helpers import large_motion_recipe
from pipeline.synthesis.pair import RenderWorker
worker = RenderWorker(large_motion_recipe(), load_assets(ensure_standin()), threads=int(sys.argv[1]))
order = [int(k) for k in sys.argv[2].split(",")]
out = {{}}
for k in order:
    r = worker.render_index(k)
    out.update({{f"{{k}}_onset": r.onset, f"{{k}}_apex": r.apex, f"{{k}}_facial": r.flow_facial, f"{{k}}_head": r.flow_head}})
np.savez(sys.argv[3], **out)
"""


def test_same_recipe_same_pixels_whatever_threads_and_order(tmp_path):
    script = tmp_path / "determinism_run.py"  # not render.py: it would shadow the render package
    script.write_text(DETERMINISM_SCRIPT.format(tests=str(Path(__file__).parent)))
    runs = {"1": "0,1", "2": "1,0"}
    for threads, order in runs.items():
        subprocess.run([sys.executable, str(script), threads, order, str(tmp_path / f"{threads}.npz")],
                       check=True, env=os.environ.copy(), timeout=600)
    a, b = np.load(tmp_path / "1.npz"), np.load(tmp_path / "2.npz")
    assert sorted(a.files) == sorted(b.files) and len(a.files) == 8
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_preview_cli_writes_the_sample_layout(tmp_path):
    out = tmp_path / "preview"
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "render", "preview", "--recipe", "smoke",
                             "--samples", "2", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert [p.name for p in folders] == ["smoke-0000000", "smoke-0000001"]
    for folder in folders:
        for name in ("onset.png", "apex.png", "flow_facial.flo", "flow_head.flo", "mask.png", "params.json",
                     "mesh_onset.obj", "mesh_head.obj", "mesh_apex.obj", "flow_facial.png", "flow_head.png",
                     "flow_expression.png", "difference.png"):
            assert (folder / name).stat().st_size > 0, name
        flow = cv2.readOpticalFlow(str(folder / "flow_facial.flo"))
        mask = cv2.imread(str(folder / "mask.png"), cv2.IMREAD_GRAYSCALE) > 0
        assert flow.shape == (96, 96, 2) and np.all(flow[~mask] == 0) and np.abs(flow[mask]).max() > 0
        params = json.loads((folder / "params.json").read_text())
        assert params["recipe"] == "smoke" and len(params["recipe_hash"]) == 64
        assert params["blender_version"].startswith("5.0") and len(params["landmarks_onset"]) == 68
        s = params["scales"]
        assert 0 <= s["onset_expression"] <= 0.3 and 0.03 <= s["apex_expression"] - s["onset_expression"] <= 0.25
    assert (out / "contact_sheet.png").stat().st_size > 10_000
    assert json.loads((out / "failures.json").read_text()) == []


def test_preview_reports_a_bad_background_and_goes_on(tmp_path):
    from pipeline.synthesis.recipe import load_recipe

    images = tmp_path / "backgrounds"
    images.mkdir()
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    text = load_recipe("smoke").text.replace('kinds = ["gradient", "noise", "checker"]', 'kinds = ["images", "gradient"]')
    text = text.replace('image_folder = ""', f'image_folder = "{images}"')
    recipe = tmp_path / "bad-backgrounds.toml"
    recipe.write_text(text)
    out = tmp_path / "preview"
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "render", "preview", "--recipe", str(recipe),
                             "--samples", "4", "--out", str(out)], capture_output=True, text=True, timeout=600)
    failures = json.loads((out / "failures.json").read_text())
    rendered = [p for p in out.iterdir() if p.is_dir()]
    assert failures and rendered and len(failures) + len(rendered) == 4
    assert all("broken.jpg cannot be read" in f["reason"] for f in failures)
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_uv_texture_replaces_the_procedural_skin(worker, tmp_path):
    stripes = ((np.indices((256, 256)).sum(0) // 16) % 2 * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "texture.png"), np.stack([stripes, 255 - stripes, stripes], -1))
    inputs = worker.plan(0)
    plain = worker.render(inputs)
    inputs.scene = dataclasses.replace(inputs.scene, texture=str(tmp_path / "texture.png"))
    textured = worker.render(inputs)
    face = plain.mask & textured.mask
    assert np.abs(textured.onset.astype(int) - plain.onset)[face].mean() > 20
    np.testing.assert_array_equal(textured.flow_facial, plain.flow_facial)  # appearance never changes the flow


def test_renders_are_exposed_for_training(worker):
    """Faces are neither black nor blown out across random lights, skins and skies."""
    medians, saturated = [], []
    for k in range(8):
        r = worker.render_index(10 + k)
        face = r.onset[r.mask].astype(float) / 255
        medians.append(np.median(face.mean(-1)))
        saturated.append((face >= 0.98).any(-1).mean())
    assert all(0.05 < m < 0.85 for m in medians), medians
    assert np.mean(saturated) < 0.15, saturated


def test_white_balance_takes_the_lights_colour_cast_away(worker):
    """A tungsten key and a cool daylight fill over the grey world light, rendered by Cycles: the
    camera balanced for that mix (strength 1) gives the face the colours it has under white lamps;
    without it the face is as warm as the key made it."""
    from pipeline.synthesis.pair import scene_white_balance
    from pipeline.synthesis.scene_sampling import blackbody_rgb
    from render.backgrounds import srgb_to_linear
    from render.scene_spec import LightSpec

    inputs = worker.plan(2)
    aim = np.asarray(inputs.scene.aim)

    def lit(key: np.ndarray, fill: np.ndarray, white_balance: float) -> np.ndarray:
        lights = (LightSpec("POINT", tuple(aim + [0.3, 0.2, 0.8]), 0.1, tuple(key), 12.0),
                  LightSpec("AREA", tuple(aim + [-0.6, 0.1, 0.6]), 0.5, tuple(fill), 3.0))
        inputs.scene = dataclasses.replace(inputs.scene, lights=lights, ambient=0.2, sky=False, exposure=None,
                                           glasses=False, white_balance=white_balance)
        assert (scene_white_balance(inputs.scene) is None) == (white_balance == 0.0)
        return worker.render(inputs)

    white = np.ones(3)
    renders = {"reference": lit(white, white, 0.0), "warm": lit(blackbody_rgb(2700), blackbody_rgb(9000), 0.0),
               "balanced": lit(blackbody_rgb(2700), blackbody_rgb(9000), 1.0)}
    face = np.logical_and.reduce([r.mask for r in renders.values()] + [(r.onset < 250).all(-1) for r in renders.values()])
    mean = {name: srgb_to_linear(r.onset[face] / 255.0).mean(0) for name, r in renders.items()}

    def cast(name: str) -> float:  # how far the face's channels drifted apart from the reference's
        ratio = mean[name] / mean["reference"]
        return float(ratio.max() / ratio.min())

    assert face.sum() > 500
    assert cast("warm") > 1.3, mean
    assert cast("balanced") < 1.06, mean
