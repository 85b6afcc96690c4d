"""The torch face model (smplx underneath) agrees with an independent numpy FLAME to 1e-5 m."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from flame_fixture import write_companions, write_flame2020
from reference_flame import flame_forward

from facial.flame_layout import N_EXPRESSION, N_SHAPE
from flame_assets.assets import load_assets
from flame_assets.model import FaceModel

TOLERANCE = 1e-5
YAWS = (-0.9, -0.35, 0.0, 0.2, 0.6)  # both contour halves and the clamp beyond 39 degrees


def _reference_arrays(assets) -> dict:
    return dict(
        v_template=assets.v_template, shapedirs=assets.shapedirs, posedirs=assets.posedirs,
        J_regressor=assets.j_regressor, weights=assets.weights, parents=assets.parents,
        eyelids=assets.eyelids, faces=assets.faces, static_faces=assets.static_lmk_faces,
        static_bary=assets.static_lmk_bary, dynamic_faces=assets.dynamic_lmk_faces,
        dynamic_bary=assets.dynamic_lmk_bary,
    )


def _random_params(batch: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    pose = rng.normal(0, 0.15, (batch, 3))
    pose[:, 1] = YAWS[:batch]
    return dict(
        shape=rng.normal(0, 1, (batch, N_SHAPE)), expression=rng.normal(0, 1, (batch, N_EXPRESSION)), pose=pose,
        neck=rng.normal(0, 0.1, (batch, 3)), jaw=np.abs(rng.normal(0, 0.15, (batch, 3))),
        eyes=rng.normal(0, 0.1, (batch, 6)), eyelids=rng.uniform(0, 1, (batch, 2)),
        translation=rng.normal(0, 0.05, (batch, 3)),
    )


def _compare(assets, model: FaceModel, seed: int) -> None:
    params = _random_params(len(YAWS), seed)
    with torch.no_grad():
        out = model(**{k: torch.tensor(v, dtype=torch.float32) for k, v in params.items()})
    ref = _reference_arrays(assets)
    for b in range(len(YAWS)):
        verts, lmk, joints = flame_forward(
            ref, params["shape"][b], params["expression"][b], params["pose"][b], params["neck"][b],
            params["jaw"][b], params["eyes"][b], params["eyelids"][b], params["translation"][b])
        np.testing.assert_allclose(out.vertices[b].numpy(), verts, atol=TOLERANCE)
        np.testing.assert_allclose(out.landmarks[b].numpy(), lmk, atol=TOLERANCE)
        np.testing.assert_allclose(out.joints[b].numpy(), joints, atol=TOLERANCE)


def test_flame2020_fixture_matches_numpy(tmp_path, tiny_flame, meflow_cache):
    write_flame2020(tiny_flame, tmp_path)
    write_companions(tiny_flame, tmp_path)
    assets = load_assets(tmp_path)
    _compare(assets, FaceModel(assets, cache_dir=meflow_cache), seed=1)


def test_standin_matches_numpy(standin_assets, standin_model):
    _compare(standin_assets, standin_model, seed=2)


def test_batch_size_is_free_and_parameters_pad(standin_model):
    """One model serves any batch size; fewer coefficients than the space are zero-padded."""
    with torch.no_grad():
        one = standin_model(shape=torch.ones(1, 10))
        three = standin_model(shape=torch.ones(3, 10), expression=torch.zeros(3, 5))
        full = standin_model(shape=torch.nn.functional.pad(torch.ones(1, 10), (0, 290)))
    assert three.vertices.shape[0] == 3
    torch.testing.assert_close(three.vertices[2], one.vertices[0])
    torch.testing.assert_close(full.vertices, one.vertices)


def test_wrong_parameter_shape_is_a_clear_error(standin_model):
    with pytest.raises(ValueError, match=r"jaw must have shape \(2, <=3\)"):
        standin_model(shape=torch.zeros(2, N_SHAPE), jaw=torch.zeros(2, 4))


def test_eyelids_without_blendshapes_are_refused(tmp_path, tiny_flame, meflow_cache):
    from flame_assets.errors import AssetError

    write_flame2020(tiny_flame, tmp_path)
    model = FaceModel(load_assets(tmp_path), cache_dir=meflow_cache)
    with pytest.raises(AssetError, match="eyelid"):
        model(eyelids=torch.ones(1, 2))
    assert model().landmarks is None  # no embedding files: vertices only
