"""The numpy facial-geometry package: iBUG-68 conventions, regions, the direction convention,
nose-tip compensation, and the FLAME parameter layout everyone imports."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import FRONTAL_IMAGE

from facial.directions import DIRECTION_LABELS, direction_index, direction_label, flow_angle_deg
from facial.flame_layout import FACE_PARAMS, N_EXPRESSION, SCALE_NAMES, STATES
from facial.ibug68 import (
    GROUPS,
    MIRROR,
    N_POINTS,
    NOSE_TIP,
    OUTER_EYE_CORNERS,
    check_landmarks,
    inter_ocular,
    mirror_landmarks,
    normalised_mean_error,
)
from facial.nose_tip import nose_tip_flow, nose_tip_half_window, subtract_nose_tip
from facial.regions import COARSE_MARGIN_PX, COARSE_REGIONS, coarse_region_masks, convex_hull, fill_convex

IMAGE = FRONTAL_IMAGE


def test_groups_cover_the_68_points_once():
    covered = sorted(i for g in GROUPS.values() for i in g)
    assert covered == list(range(N_POINTS))


def test_mirror_swaps_image_sides_of_a_symmetric_face(frontal_landmarks):
    assert (MIRROR[MIRROR] == np.arange(N_POINTS)).all()  # a flip twice is no flip
    flipped = mirror_landmarks(frontal_landmarks, IMAGE)
    # The stand-in is left-right symmetric: its flipped landmarks are its landmarks.
    assert np.abs(flipped - frontal_landmarks).max() < 0.01 * inter_ocular(frontal_landmarks)
    left, right = OUTER_EYE_CORNERS
    assert frontal_landmarks[left, 0] < frontal_landmarks[right, 0]  # 36 is on the image left


def test_normalised_mean_error_and_landmark_checks():
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 100, (68, 2))
    target[36], target[45] = (20.0, 50.0), (70.0, 50.0)  # inter-ocular distance 50
    assert normalised_mean_error(target + [3.0, 4.0], target) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="row 3: 67 landmarks, expected 68"):
        check_landmarks(np.zeros((67, 2)), "row 3")
    with pytest.raises(ValueError, match="NaN"):
        check_landmarks(np.full((68, 2), np.nan), "row 3")
    with pytest.raises(ValueError, match="coincide"):
        check_landmarks(np.zeros((68, 2)), "row 3")


@pytest.mark.parametrize("u,v,angle,label", [
    (1.0, 0.0, 0.0, "right"), (1.0, -1.0, 45.0, "up-right"), (0.0, -2.0, 90.0, "up"), (-1.0, -1.0, 135.0, "up-left"),
    (-1.0, 0.0, 180.0, "left"), (-1.0, 1.0, 225.0, "down-left"), (0.0, 0.5, 270.0, "down"), (1.0, 1.0, 315.0, "down-right"),
])
def test_direction_convention(u, v, angle, label):
    """v is down-positive in images, so a flow with v < 0 points up (90 degrees)."""
    assert flow_angle_deg(u, v) == pytest.approx(angle)
    assert direction_label(flow_angle_deg(u, v)) == label


def test_direction_sectors_are_centred_on_the_labels():
    angles = np.array([22.4, 22.6, 337.4, 337.6, 359.9, 67.6, -10.0, 720.0])
    labels = [DIRECTION_LABELS[i] for i in direction_index(angles)]
    assert labels == ["right", "up-right", "down-right", "right", "right", "up", "right", "right"]
    # Halfway between two labels, the earlier one in DIRECTION_LABELS wins (MELLM's nearest-octant search).
    ties = [DIRECTION_LABELS[i] for i in direction_index(np.array([22.5, 67.5, 157.5, 337.5]))]
    assert ties == ["right", "up-right", "up-left", "right"]


def test_nose_tip_compensation_removes_a_head_shift(frontal_landmarks):
    flow = np.zeros((IMAGE, IMAGE, 2), np.float32)
    flow[...] = (0.7, -0.3)  # the head moves
    mouth = np.round(frontal_landmarks[48]).astype(int)
    flow[mouth[1] - 3: mouth[1] + 4, mouth[0] - 3: mouth[0] + 4] += (0.0, -0.5)  # the mouth corner goes up
    np.testing.assert_allclose(nose_tip_flow(flow, frontal_landmarks), (0.7, -0.3), atol=1e-6)
    residual = subtract_nose_tip(flow, frontal_landmarks)
    assert residual.dtype == np.float32
    np.testing.assert_allclose(residual[mouth[1], mouth[0]], (0.0, -0.5), atol=1e-6)
    nose = np.round(frontal_landmarks[NOSE_TIP]).astype(int)
    np.testing.assert_allclose(residual[nose[1], nose[0]], 0.0, atol=1e-6)


def test_nose_tip_window_grows_with_the_face(frontal_landmarks):
    small = (frontal_landmarks - 255.5) / 8 + 255.5
    assert nose_tip_half_window(small) == 2  # never below MELLM's 5 x 5
    assert nose_tip_half_window(frontal_landmarks) > 2
    with pytest.raises(ValueError, match="outside"):
        nose_tip_flow(np.zeros((64, 64, 2)), frontal_landmarks)


def test_fill_convex_marks_the_pixels_of_a_known_polygon():
    square = convex_hull(np.array([[2.0, 3.0], [6.0, 3.0], [6.0, 5.0], [2.0, 5.0], [4.0, 4.0]]))
    assert len(square) == 4  # the inner point is not a corner
    mask = fill_convex(square, 10, 10)
    expected = np.zeros((10, 10), bool)
    expected[3:6, 2:7] = True
    np.testing.assert_array_equal(mask, expected)
    segment = fill_convex(convex_hull(np.array([[1.0, 1.0], [4.0, 1.0]])), 5, 5)
    assert segment.sum() == 4 and segment[1, 1:5].all()


def test_coarse_regions_match_opencv_on_faces(frontal_landmarks):
    """The numpy rasteriser against OpenCV's fillConvexPoly + dilate (what stats used before)."""
    rng = np.random.default_rng(3)
    agree, total = 0, 0
    for _ in range(20):
        landmarks = (frontal_landmarks - 255.5) * rng.uniform(0.15, 0.3) + rng.uniform(40, 90, 2)
        ours = coarse_region_masks(landmarks, 128, 128)
        kernel = np.ones((2 * COARSE_MARGIN_PX + 1,) * 2, np.uint8)
        for name, index in COARSE_REGIONS.items():
            reference = np.zeros((128, 128), np.uint8)
            cv2.fillConvexPoly(reference, cv2.convexHull(np.round(landmarks[list(index)]).astype(np.int32)), 1)
            reference = cv2.dilate(reference, kernel).astype(bool)
            agree += (ours[name] == reference)[reference | ours[name]].sum()
            total += (reference | ours[name]).sum()
    assert agree / total > 0.995, agree / total


def test_flame_layout_is_the_one_everybody_uses(standin_model):
    from pipeline.synthesis.face_params import FaceParams
    from pipeline.synthesis.schedule import Scales
    from shards.schema import FIELD_BY_NAME

    assert tuple(FaceParams.__dataclass_fields__) == tuple(FACE_PARAMS)
    assert tuple(Scales.__dataclass_fields__) == SCALE_NAMES
    assert FIELD_BY_NAME["shape"].shape == (FACE_PARAMS["shape"],)
    for name in ("expression", "jaw", "pose", "eyelids"):
        assert FIELD_BY_NAME[name].shape == (len(STATES), FACE_PARAMS[name])
    assert standin_model.n_expression == N_EXPRESSION
    assert Scales(0.1, 0.2, 0.3, 0.4).as_array().tolist() == [0.1, 0.2, 0.3, 0.4]
