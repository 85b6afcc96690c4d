"""The batched landmark fitter: synthetic round trips, robustness, batch independence."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from fit_helpers import TRUTH_EXPRESSION_DIRECTIONS, TRUTH_SHAPE_DIRECTIONS, expression_displacement, synthetic_faces, tensors

from facial.flame_layout import N_EXPRESSION, N_SHAPE
from facial.ibug68 import INNER, JAW, N_POINTS
from flame_assets.embedding import contour_rows
from pipeline.fitting.config import FitConfig
from pipeline.fitting.fitter import fit_landmarks
from pipeline.fitting.projection import camera_from_normalised, camera_to_normalised, project_np


def _pixel_errors(fit, truth) -> np.ndarray:
    return np.linalg.norm(fit.landmarks - truth.landmarks, axis=-1)


@pytest.fixture(scope="module")
def standin_round_trip(standin_model):
    truth = synthetic_faces(standin_model, batch=4, seed=3)
    return truth, fit_landmarks(standin_model, truth.landmarks)


def test_synthetic_round_trip_recovers_landmarks_pose_and_expression(standin_model, standin_round_trip):
    truth, fit = standin_round_trip
    assert _pixel_errors(fit, truth).mean(1).max() < 0.5  # pixels, faces ~256 px wide
    assert np.rad2deg(np.abs(fit.pose - truth.pose)).max() < 2.0
    # Camera scale trades off against head size (an identity direction): only roughly pinned.
    assert np.abs(fit.camera[:, 0] / truth.camera[:, 0] - 1).max() < 0.15
    # Expression coefficients trade off against identity, so compare what they do to the face.
    moved = expression_displacement(standin_model, fit.expression, fit.jaw, fit.eyelids)
    true = expression_displacement(standin_model, truth.expression, truth.jaw, truth.eyelids)
    relative = np.linalg.norm(moved - true, axis=-1).mean(1) / np.linalg.norm(true, axis=-1).mean(1)
    assert np.median(relative) < 0.3 and relative.max() < 0.6
    assert (fit.nme < 0.005).all()


def test_a_batch_fits_exactly_as_its_images_alone(standin_model, standin_round_trip):
    truth, batched = standin_round_trip
    alone = fit_landmarks(standin_model, truth.landmarks[2:3])
    assert np.abs(alone.landmarks[0] - batched.landmarks[2]).max() < 0.05
    assert np.abs(alone.pose[0] - batched.pose[2]).max() < 1e-3


def test_the_landmark_only_fit_is_the_full_mesh_fit(standin_model):
    """The iterations evaluate only the landmarks' vertices; fitting through the whole mesh at
    every step lands in the same place, and the result still carries the full mesh."""
    truth = synthetic_faces(standin_model, batch=2, seed=11)
    config = FitConfig(full_iterations=40)
    fast = fit_landmarks(standin_model, truth.landmarks, config)
    full = fit_landmarks(standin_model, truth.landmarks, config, iterate_with=standin_model)
    np.testing.assert_allclose(fast.nme, full.nme, rtol=1e-3)  # float32 round-off, carried through 40 Adam steps
    assert np.abs(fast.landmarks - full.landmarks).max() < 0.01  # pixels
    with torch.no_grad():
        mesh = standin_model(**tensors(shape=fast.shape, expression=fast.expression, jaw=fast.jaw, pose=fast.pose,
                                       eyelids=fast.eyelids)).vertices.double().numpy()
    assert fast.vertices.shape == (2, standin_model.assets.n_vertices, 3)
    np.testing.assert_allclose(fast.vertices, mesh, atol=1e-6)


def test_a_few_wrong_landmarks_do_not_spoil_the_fit(standin_model):
    truth = synthetic_faces(standin_model, batch=2, seed=5)
    corrupted = truth.landmarks.copy()
    bad = [8, 30, 48]  # chin, nose tip, a mouth corner: moved by a third of the face width
    corrupted[:, bad] += np.array([60.0, -45.0])
    fit = fit_landmarks(standin_model, corrupted)
    good = np.setdiff1d(np.arange(68), bad)
    assert _pixel_errors(fit, truth)[:, good].mean(1).max() < 1.5
    assert np.rad2deg(np.abs(fit.pose - truth.pose)).max() < 3.0
    assert (fit.nme > 0.02).all()  # the error is recorded against the landmarks as given


def test_the_same_code_fits_a_flame_shaped_model(flame_shaped_model):
    truth = synthetic_faces(flame_shaped_model, batch=2, seed=9, yaw_std_deg=10.0)
    fit = fit_landmarks(flame_shaped_model, truth.landmarks)
    # The fixture's contour table holds random faces per degree of yaw (no jaw line to follow),
    # so the round trip is judged on the 51 inner points.
    assert _pixel_errors(fit, truth)[:, INNER].mean(1).max() < 0.5
    assert fit.shape.shape == (2, N_SHAPE) and fit.expression.shape == (2, N_EXPRESSION)
    # Its directions are random per-vertex noise: 51 points cannot tell a turn of its head from
    # 150 such directions (the full fit above lands up to 2.5 degrees off). Posed a determined
    # problem (the inner points, the directions the faces were drawn from) the same code finds
    # the head pose exactly.
    inner_only = np.ones((2, N_POINTS))
    inner_only[:, JAW] = 0.0
    config = FitConfig(n_shape=TRUTH_SHAPE_DIRECTIONS, n_expression=TRUTH_EXPRESSION_DIRECTIONS)
    determined = fit_landmarks(flame_shaped_model, truth.landmarks, config, visible=inner_only)
    assert np.rad2deg(np.abs(determined.pose - truth.pose)).max() < 0.05
    assert _pixel_errors(determined, truth)[:, INNER].max() < 0.01


def test_rejection_threshold_is_the_configs(standin_model, standin_round_trip):
    _, fit = standin_round_trip
    assert fit.accepted(FitConfig().max_nme).all()
    assert not fit.accepted(1e-6).any()


def test_blended_contour_is_continuous_and_matches_flame_at_whole_degrees(standin_model):
    low, high, weight = contour_rows(torch.tensor([-39.5, -1.25, 0.0, 12.75, 45.0]))
    assert low.tolist() == [78, 41, 0, 12, 39] and high.tolist() == [77, 40, 1, 13, 39]
    assert torch.allclose(weight, torch.tensor([0.0, 0.75, 0.0, 0.75, 0.0]))
    yaw = torch.zeros(3, 3)
    yaw[:, 1] = torch.deg2rad(torch.tensor([-17.0, 5.0, 23.0]))
    with torch.no_grad():
        nearest = standin_model(pose=yaw).landmarks
        blended = standin_model(pose=yaw, contour="blend").landmarks
        steps = torch.zeros(41, 3)
        steps[:, 1] = torch.deg2rad(torch.linspace(10.0, 12.0, 41))
        sweep = standin_model(pose=steps, contour="blend").landmarks[:, :17]
        jumps = standin_model(pose=steps).landmarks[:, :17]
    assert (nearest - blended).abs().max() < 1e-6
    # 0.05-degree steps: the nearest row jumps a whole row at each degree, the blend a 20th of it.
    step = lambda lm: (lm[1:] - lm[:-1]).norm(dim=-1).max()  # noqa: E731
    assert step(jumps) > 1e-3 and step(sweep) < 0.1 * step(jumps)


def test_encoder_camera_round_trips_and_matches_the_crop():
    camera = camera_from_normalised(np.array([8.0, 0.01, -0.02]), 224, 224)
    assert np.allclose(camera_to_normalised(camera, 224, 224), [8.0, 0.01, -0.02])
    # Worked by hand from the encoders' own projection (DECA's batch_orth_proj, then image
    # coordinates with y flipped): a point 0.1 m up and 0.05 m to the model's +x goes to
    # x_n = 8 (0.05 + 0.01) = 0.48 and y_n = 8 (0.1 - 0.02) = 0.64 (up), i.e. pixel centres
    # x = 112 (1 + 0.48) - 0.5 = 165.26 and y = 112 (1 - 0.64) - 0.5 = 39.82: above the centre.
    pixel = project_np(np.array([[0.05, 0.1, 0.0]]), camera)[0]
    np.testing.assert_allclose(pixel, [165.26, 39.82], atol=1e-9)
    with pytest.raises(ValueError, match="square crop"):
        camera_from_normalised(np.array([8.0, 0, 0]), 640, 480)
