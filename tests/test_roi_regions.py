"""MELLM's 29 ROIs placed on iBUG-68 landmarks, and the iBUG-68 -> WFLW-98 embedding they go through."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import FRONTAL_IMAGE

from facial.ibug68 import GROUPS, NOSE_TIP, inter_ocular, mirror_landmarks
from facial.regions import REFERENCE_INTER_OCULAR_PX, ROI_MIRROR, ROI_NAMES, roi_boxes, roi_masks, roi_union
from facial.wflw98 import (
    IBUG68_FROM_WFLW98,
    MIRROR_WFLW98,
    N_POINTS_WFLW,
    NOSE_TIP_WFLW,
    PUPILS_WFLW,
    WFLW98_FROM_IBUG68,
    ibug68_from_wflw98,
    wflw98_from_ibug68,
)

IMAGE = FRONTAL_IMAGE

# DESIGN.md, "Instruction builder facts": MELLM's display names in its output order.
MELLM_ORDER = (
    "Left Lower Eyelid (Left Side)", "Left Lower Eyelid (Center)", "Left Lower Eyelid (Right Side)",
    "Right Lower Eyelid (Left Side)", "Right Lower Eyelid (Center)", "Right Lower Eyelid (Right Side)",
    "Left Upper Eyelid (Left Side)", "Left Upper Eyelid (Center)", "Left Upper Eyelid (Right Side)",
    "Right Upper Eyelid (Left Side)", "Right Upper Eyelid (Center)", "Right Upper Eyelid (Right Side)",
    "Left Outer Eyebrow", "Left Inner Eyebrow", "Right Outer Eyebrow", "Right Inner Eyebrow",
    "Left Nostril Wing", "Right Nostril Wing", "Left Mouth Corner", "Right Mouth Corner",
    "Upper Lip (Left Side)", "Upper Lip (Center)", "Upper Lip (Right Side)",
    "Lower Lip (Left Side)", "Lower Lip (Right Side)", "Lower Lip (Center)", "Chin", "Left Cheek", "Right Cheek",
)


@pytest.fixture(scope="module")
def frontal(frontal_landmarks) -> np.ndarray:
    """The stand-in's neutral landmarks seen from the front, (68, 2) pixels of a 512 image."""
    return frontal_landmarks


@pytest.fixture(scope="module")
def asymmetric(frontal) -> np.ndarray:
    """The frontal face rolled, moved off centre and jittered: no left-right symmetry to hide behind."""
    rng = np.random.default_rng(11)
    roll = np.deg2rad(7.0)
    rotation = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    centre = (IMAGE - 1) / 2
    return (frontal - centre) @ rotation.T * 0.8 + centre + (23.3, -11.7) + rng.normal(0, 1.5, frontal.shape)


def mask_of(masks: np.ndarray, name: str) -> np.ndarray:
    return masks[ROI_NAMES.index(name)]


def extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1) inclusive pixel bounds of a non-empty mask."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return cols[0], cols[-1], rows[0], rows[-1]


def contains(mask: np.ndarray, point: np.ndarray) -> bool:
    x, y = np.round(point).astype(int)
    return bool(mask[y, x])


# --- WFLW-98 ----------------------------------------------------------------------------------


def test_wflw_embedding_round_trips_exactly(asymmetric):
    assert WFLW98_FROM_IBUG68.shape == (N_POINTS_WFLW, 68)
    np.testing.assert_allclose(WFLW98_FROM_IBUG68.sum(1), 1.0)
    assert (WFLW98_FROM_IBUG68 >= 0).all()  # convex combinations: WFLW points lie among the iBUG ones
    assert sorted(IBUG68_FROM_WFLW98) == sorted(set(IBUG68_FROM_WFLW98)) and len(IBUG68_FROM_WFLW98) == 68
    for points in (asymmetric, asymmetric.astype(np.float32), np.random.default_rng(0).normal(size=(4, 3, 68, 3))):
        wflw = wflw98_from_ibug68(points)
        assert wflw.shape == (*points.shape[:-2], N_POINTS_WFLW, points.shape[-1]) and wflw.dtype == points.dtype
        np.testing.assert_array_equal(ibug68_from_wflw98(wflw), points)
    with pytest.raises(ValueError, match="68"):
        wflw98_from_ibug68(np.zeros((98, 2)))
    with pytest.raises(ValueError, match="98"):
        ibug68_from_wflw98(np.zeros((68, 2)))


def test_wflw_points_lie_on_the_right_features(frontal):
    w = wflw98_from_ibug68(frontal)
    np.testing.assert_array_equal(w[NOSE_TIP_WFLW], frontal[NOSE_TIP])
    np.testing.assert_array_equal(w[0:33:2], frontal[GROUPS["jaw"]])  # iBUG's jaw is every other contour point
    np.testing.assert_array_equal(w[[76, 82]], frontal[[48, 54]])  # mouth corners
    for pupil, eye in zip(PUPILS_WFLW, ("eye_image_left", "eye_image_right")):
        corners = frontal[[GROUPS[eye][0], GROUPS[eye][3]]]
        lids = frontal[list(GROUPS[eye])]
        assert corners[:, 0].min() < w[pupil, 0] < corners[:, 0].max()
        assert lids[:, 1].min() < w[pupil, 1] < lids[:, 1].max()
    assert w[96, 0] < w[97, 0]  # pupil 96 on the image left
    # Lower brow arcs: below the upper arc, above the eye.
    for lower, upper, eye in ((range(38, 42), (37, 36, 35, 34), range(60, 64)), (range(47, 51), (45, 44, 43, 42), range(68, 72))):
        assert (w[list(lower), 1] > w[list(upper), 1]).all()
        assert (w[list(lower), 1] < w[list(eye), 1].min()).all()
    # Eyelid midpoints between their neighbours on the lid.
    np.testing.assert_allclose(w[62], (w[61] + w[63]) / 2)
    np.testing.assert_allclose(w[74], (w[73] + w[75]) / 2)


def test_wflw_embedding_commutes_with_mirroring(asymmetric):
    """Embedding the flipped face's landmarks gives the flipped embedding (WFLW's own mirror order)."""
    flipped = wflw98_from_ibug68(mirror_landmarks(asymmetric, IMAGE))
    expected = wflw98_from_ibug68(asymmetric)[MIRROR_WFLW98]
    expected[:, 0] = IMAGE - 1 - expected[:, 0]
    np.testing.assert_allclose(flipped, expected, atol=1e-9)


# --- the 29 ROIs ------------------------------------------------------------------------------


def test_roi_names_are_mellms_order():
    assert ROI_NAMES == MELLM_ORDER
    assert [ROI_NAMES[i] for i in ROI_MIRROR][:3] == ["Right Lower Eyelid (Right Side)", "Right Lower Eyelid (Center)",
                                                      "Right Lower Eyelid (Left Side)"]


def test_rois_sit_on_their_features(frontal):
    masks = roi_masks(frontal, IMAGE, IMAGE)
    assert masks.shape == (29, IMAGE, IMAGE) and masks.dtype == bool
    assert all(m.any() for m in masks)
    np.testing.assert_array_equal(roi_union(frontal, IMAGE, IMAGE), masks.any(0))
    assert contains(mask_of(masks, "Chin"), frontal[8])
    assert contains(mask_of(masks, "Upper Lip (Center)"), frontal[51])
    assert contains(mask_of(masks, "Lower Lip (Center)"), frontal[57])
    assert contains(mask_of(masks, "Upper Lip (Left Side)"), frontal[49])
    assert contains(mask_of(masks, "Left Inner Eyebrow"), (frontal[20] + frontal[21]) / 2)
    midline = frontal[NOSE_TIP, 0]
    for side, eye in (("Left", "eye_image_left"), ("Right", "eye_image_right")):
        points = frontal[list(GROUPS[eye])]
        for lid in ("Lower", "Upper"):
            x0s, x1s = [], []
            for part in ("Left Side", "Center", "Right Side"):
                x0, x1, y0, y1 = extent(mask_of(masks, f"{side} {lid} Eyelid ({part})"))
                x0s.append(x0)
                x1s.append(x1)
                # Over the eye, off the lid: below the lower lid, above the upper one.
                assert points[:, 0].min() - 0.1 * inter_ocular(frontal) < (x0 + x1) / 2 < points[:, 0].max() + 0.1 * inter_ocular(frontal)
                if lid == "Lower":
                    assert y1 > points[[4, 5], 1].max() and y0 < points[[4, 5], 1].max() + 10
                else:
                    assert y0 < points[[1, 2], 1].min() and y1 > points[[1, 2], 1].min() - 10
            assert x0s == sorted(x0s) and x1s == sorted(x1s)  # (Left Side) nearest the image's left edge
        # "Left" means the image's left: the left regions are left of the nose tip.
        for name in ROI_NAMES:
            if name.startswith(side) and name != f"{side} Cheek":
                x0, x1, _, _ = extent(mask_of(masks, name))
                assert (x1 < midline) if side == "Left" else (x0 > midline), name
    x0, x1, _, _ = extent(mask_of(masks, "Left Mouth Corner"))
    assert x0 < frontal[48, 0] and x1 < frontal[51, 0]  # outward of the corner


def test_box_sizes_follow_the_face(frontal):
    masks = roi_masks(frontal, IMAGE, IMAGE)
    iod = inter_ocular(frontal)
    x0, x1, y0, y1 = extent(mask_of(masks, "Chin"))
    assert abs((x1 - x0 + 1) - 24 * iod / REFERENCE_INTER_OCULAR_PX) <= 1  # MELLM's 24 px at the reference face
    big = roi_masks(2 * frontal, 2 * IMAGE, 2 * IMAGE)
    small = roi_masks(frontal / 2, IMAGE // 2, IMAGE // 2)
    for n, name in enumerate(ROI_NAMES):
        x0, x1, y0, y1 = extent(masks[n])
        side = x1 - x0 + 1
        assert abs((y1 - y0 + 1) - side) <= 1, name  # square, up to where the centre falls between pixels
        bx0, bx1, _, _ = extent(big[n])
        assert abs((bx1 - bx0 + 1) - 2 * side) <= 2, name
        assert abs((bx0 + bx1) / 2 - (x0 + x1)) <= 1.5, name  # the centre doubles as well
        sx0, sx1, _, _ = extent(small[n])
        assert abs(2 * (sx1 - sx0 + 1) - side) <= 2, name


def test_flipping_the_image_swaps_left_and_right_rois(asymmetric):
    masks = roi_masks(asymmetric, IMAGE, IMAGE)
    flipped = roi_masks(mirror_landmarks(asymmetric, IMAGE), IMAGE, IMAGE)
    assert all(m.any() for m in masks)
    for n, name in enumerate(ROI_NAMES):
        np.testing.assert_array_equal(flipped[ROI_MIRROR[n]], masks[n][:, ::-1], err_msg=name)
    # And on a width whose centre falls between pixels and on boxes the image edge cuts.
    width = 301
    near_edge = asymmetric - (240.0, 100.0)
    masks = roi_masks(near_edge, 400, width)
    flipped = roi_masks(mirror_landmarks(near_edge, width), 400, width)
    assert not masks[ROI_NAMES.index("Left Cheek")].any() and masks[ROI_NAMES.index("Right Cheek")].any()
    np.testing.assert_array_equal(flipped[ROI_MIRROR], masks[:, :, ::-1])


def test_points_outside_the_image_give_empty_masks(frontal):
    outside = frontal + (2 * IMAGE, 0.0)
    assert not roi_masks(outside, IMAGE, IMAGE).any()
    assert not roi_masks(np.full((68, 2), np.nan), IMAGE, IMAGE).any()
    half_out = frontal - (frontal[NOSE_TIP, 0] + 0.5, 0.0)  # the nose tip just left of the image
    masks = roi_masks(half_out, IMAGE, IMAGE)
    assert not mask_of(masks, "Left Cheek").any() and mask_of(masks, "Right Cheek").any()
    x0, _, _, _ = extent(mask_of(masks, "Chin"))
    assert x0 == 0  # clipped at the edge, not dropped
    tiny = roi_masks(frontal / 20, 26, 26)  # a 9-px inter-ocular face: boxes shrink to a pixel or so
    assert tiny.shape == (29, 26, 26) and tiny.any(axis=(1, 2)).all()


def test_roi_boxes_chin_stays_in_a_cut_off_image(frontal):
    height = int(frontal[8, 1]) + 3  # the chin point three pixels above the bottom edge
    boxes = roi_boxes(frontal, height)
    chin = ROI_NAMES.index("Chin")
    assert boxes[chin, 1] < frontal[8, 1]  # moved up towards the lower lip
    assert roi_masks(frontal, height, IMAGE)[chin].any()


def test_regions_are_batched_for_the_trainer(frontal, asymmetric):
    """A batch of landmarks (B, 68, 2) gives what each image gives alone, chin fallback included."""
    batch = np.stack([frontal, asymmetric, frontal + (0.0, 200.0)])  # the third face's chin leaves the image
    size = 256
    boxes = roi_boxes(batch, size)
    assert boxes.shape == (3, 29, 3)
    for b in range(3):
        np.testing.assert_array_equal(boxes[b], roi_boxes(batch[b], size))
    masks = roi_masks(batch, size, size)
    assert masks.shape == (3, 29, size, size)
    assert all((masks[b] == roi_masks(batch[b], size, size)).all() for b in range(3))
    assert (roi_union(batch, size, size) == masks.any(1)).all()
