"""The landmark-only model gives the full model's landmarks and joints from a few hundred vertices."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from flame_fixture import write_flame2020

from flame_assets.assets import load_assets
from flame_assets.errors import AssetError
from flame_assets.landmark_model import LandmarkModel
from flame_assets.model import FaceModel

TOLERANCE_M = 1e-6  # float32 against float32: round-off only
TOLERANCE_F64_M = 1e-12  # float64: the same sums, so only double round-off
# Head yaws in degrees: both halves of the contour table, fractions of a degree (where "blend"
# mixes two rows and "nearest" rounds), whole degrees, and beyond the table's +-39 (clamped).
YAWS_DEG = (-55.0, -39.0, -38.6, -20.5, -7.3, -0.4, 0.0, 0.5, 12.75, 26.2, 39.0, 44.0)


def _random_parameters(model: FaceModel, seed: int, dtype: torch.dtype) -> dict:
    rng = np.random.default_rng(seed)
    batch = len(YAWS_DEG)
    pose = rng.normal(0, 0.15, (batch, 3))
    pose[:, 1] = np.deg2rad(YAWS_DEG)
    params = dict(
        shape=rng.normal(0, 1, (batch, model.n_shape)), expression=rng.normal(0, 1, (batch, model.n_expression)), pose=pose,
        jaw=np.abs(rng.normal(0, 0.15, (batch, 3))), neck=rng.normal(0, 0.1, (batch, 3)), eyes=rng.normal(0, 0.1, (batch, 6)),
        translation=rng.normal(0, 0.05, (batch, 3)),
    )
    if model.has_eyelids:
        params["eyelids"] = rng.uniform(0, 1, (batch, 2))
    return {k: torch.tensor(v, dtype=dtype) for k, v in params.items()}


def _assert_same_as_full_model(model: FaceModel, seed: int, tolerance: float, dtype: torch.dtype = torch.float32) -> None:
    params = _random_parameters(model, seed, dtype)
    landmark_model = LandmarkModel(model)
    for contour in ("nearest", "blend"):
        with torch.no_grad():
            full, fast = model(**params, contour=contour), landmark_model(**params, contour=contour)
        assert fast.landmarks.dtype == dtype
        torch.testing.assert_close(fast.landmarks, full.landmarks, atol=tolerance, rtol=0)
        torch.testing.assert_close(fast.joints, full.joints, atol=tolerance, rtol=0)


def test_standin_landmarks_and_joints_match_the_full_model(standin_model):
    _assert_same_as_full_model(standin_model, seed=1, tolerance=TOLERANCE_M)


def test_flame_fixture_landmarks_and_joints_match_the_full_model(flame_shaped_model):
    assert flame_shaped_model.has_eyelids  # so the eyelid offsets are part of the comparison
    _assert_same_as_full_model(flame_shaped_model, seed=2, tolerance=TOLERANCE_M)


def test_flame_fixture_matches_in_float64(flame_shaped_dir, meflow_cache):
    """In double precision the two differ by round-off alone: no term is approximated."""
    model = FaceModel(load_assets(flame_shaped_dir), cache_dir=meflow_cache, dtype=torch.float64)
    _assert_same_as_full_model(model, seed=3, tolerance=TOLERANCE_F64_M, dtype=torch.float64)


def test_fewer_coefficients_are_the_first_directions(standin_model):
    """A fitter passes 100 of 300 shape coefficients: the rest count as zero, as in FaceModel."""
    rng = np.random.default_rng(4)
    shape, expression = torch.tensor(rng.normal(0, 1, (2, 100)), dtype=torch.float32), torch.zeros(2, 7)
    with torch.no_grad():
        full = standin_model(shape=shape, expression=expression, contour="blend").landmarks
        fast = LandmarkModel.of(standin_model)(shape=shape, expression=expression, contour="blend").landmarks
    torch.testing.assert_close(fast, full, atol=TOLERANCE_M, rtol=0)


def test_only_the_embedded_vertices_are_evaluated(standin_model):
    """What makes it cheap: the static faces and every contour row span a small part of the mesh."""
    landmark_model = LandmarkModel.of(standin_model)
    assert LandmarkModel.of(standin_model) is landmark_model  # built once per face model
    n_vertices = standin_model.assets.n_vertices
    assert landmark_model.vertex_ids.numel() < 0.1 * n_vertices
    assert landmark_model.shapedirs.shape[0] == landmark_model.vertex_ids.numel()


def test_wrong_parameters_are_refused_as_by_the_full_model(standin_model):
    landmark_model = LandmarkModel.of(standin_model)
    with pytest.raises(ValueError, match=r"shape must have shape \(2, <=300\)"):
        landmark_model(shape=torch.zeros(2, 301))
    with pytest.raises(ValueError, match="contour must be one of"):
        landmark_model(contour="nearst")


def test_a_model_without_landmark_files_is_refused(tmp_path, tiny_flame, meflow_cache):
    write_flame2020(tiny_flame, tmp_path)  # the model file alone: no embedding
    with pytest.raises(AssetError, match="landmark"):
        LandmarkModel(FaceModel(load_assets(tmp_path), cache_dir=meflow_cache))
