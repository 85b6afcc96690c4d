"""Per-region motion statistics of a flow, the numbers a motion prompt states (pure, numpy).

Before any statistic the head's residual motion is removed: the mean flow of a small window at
the nose tip is subtracted (`facial.nose_tip`), except from a ground-truth expression flow, whose
head motion is removed exactly. Then, per ROI of `facial.regions`:
- mean and max magnitude of the flow vectors (pixels);
- the direction of their sum (`facial.directions`: y flipped so "up" is 90 degrees) and its label;
- concentration R = |sum of vectors| / sum of magnitudes, in [0, 1]: 1 when all vectors agree.
Two fallbacks replace the direction: "no significant motion" when the mean magnitude is below a
threshold, else "no clear dominant direction" when R is below a threshold.

Thresholds (`Thresholds`): MELLM's are absolute (1e-4 px, R 0.15). The default here scales the
magnitude threshold with the face, a share of the inter-ocular distance, so the same expression
reads the same at 224 px and at 1024 px; MELLM's stay available for byte-exact prompts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facial.directions import DIRECTION_LABELS, direction_index, flow_angle_deg
from facial.ibug68 import N_POINTS, inter_ocular
from facial.nose_tip import subtract_nose_tip
from facial.regions import ROI_NAMES, roi_masks

NO_MOTION = "no significant motion"
NO_DIRECTION = "no clear dominant direction"
CONCENTRATION_EPS = 1e-12  # keeps R finite for an all-zero region

MELLM_MIN_MEAN_MAGNITUDE_PX = 1e-4  # MELLM's threshold, in pixels whatever the face size
MIN_CONCENTRATION = 0.15  # MELLM's: below it the vectors point every way
# Ours: 5e-4 of the outer-eye distance = 0.09 px on a face 180 px between the eyes (a 512-px
# render), below the error of classical flow on static skin, above float noise.
MIN_MEAN_MAGNITUDE_PER_INTER_OCULAR = 5e-4


@dataclass(frozen=True)
class Thresholds:
    """When a region's motion counts: mean magnitude at least `min_mean_magnitude_px` (or, when
    None, `min_mean_per_inter_ocular` times the face's inter-ocular distance), and a direction
    only with concentration at least `min_concentration`."""

    min_mean_magnitude_px: float | None = None
    min_mean_per_inter_ocular: float = MIN_MEAN_MAGNITUDE_PER_INTER_OCULAR
    min_concentration: float = MIN_CONCENTRATION

    def magnitude_threshold(self, landmarks: np.ndarray) -> float:
        if self.min_mean_magnitude_px is not None:
            return float(self.min_mean_magnitude_px)
        return float(self.min_mean_per_inter_ocular * inter_ocular(landmarks))


MELLM_THRESHOLDS = Thresholds(min_mean_magnitude_px=MELLM_MIN_MEAN_MAGNITUDE_PX)


@dataclass(frozen=True)
class RegionMotion:
    """One ROI's statistics. angle_deg and label are those of the summed vectors; `direction` is
    the label, or NO_MOTION / NO_DIRECTION when a threshold says so."""

    region: str
    pixels: int
    mean_magnitude: float
    max_magnitude: float
    angle_deg: float
    concentration: float
    label: str
    direction: str

    @property
    def moves(self) -> bool:
        """Whether the region shows significant motion (of any direction)."""
        return self.direction != NO_MOTION


def check_flow_and_landmarks(flow: np.ndarray, landmarks: np.ndarray) -> None:
    """ValueError in one line when a flow or its landmarks cannot give a prompt."""
    flow, landmarks = np.asarray(flow), np.asarray(landmarks)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be (H, W, 2), got {flow.shape}")
    if landmarks.shape != (N_POINTS, 2):
        raise ValueError(f"landmarks must be iBUG-68, shape (68, 2), got {landmarks.shape}")
    if not np.all(np.isfinite(landmarks)):
        raise ValueError("landmarks hold NaN or infinite values")
    if not np.all(np.isfinite(flow)):
        raise ValueError("flow holds NaN or infinite values: estimate it again")


def region_stats(vectors: np.ndarray) -> tuple[float, float, float, float]:
    """vectors (N, 2) pixels (u right, v down), N >= 1 -> (mean magnitude, max magnitude, angle
    of the summed vectors in degrees, concentration R)."""
    vectors = np.asarray(vectors, np.float64).reshape(-1, 2)
    magnitudes = np.linalg.norm(vectors, axis=1)
    total = vectors.sum(0)
    concentration = float(np.linalg.norm(total) / (magnitudes.sum() + CONCENTRATION_EPS))
    return float(magnitudes.mean()), float(magnitudes.max()), float(flow_angle_deg(total[0], total[1])), concentration


def region_motion(flow: np.ndarray, landmarks: np.ndarray, thresholds: Thresholds = Thresholds(),
                  head_removed: bool = False, nose_tip_half_window: int | None = None) -> list[RegionMotion]:
    """flow (H, W, 2) pixels onset -> apex, landmarks (68, 2) iBUG-68 pixels of the onset ->
    RegionMotion per non-empty ROI in ROI_NAMES order (regions wholly outside the image are
    left out, as MELLM skips them). The nose-tip mean is subtracted first, unless `head_removed`
    says the flow is an exact expression flow (ground truth: facial - head), where the nose
    tip's own small expression motion would only add a bias to every region."""
    check_flow_and_landmarks(flow, landmarks)
    landmarks = np.asarray(landmarks, np.float64)
    flow = np.asarray(flow, np.float64)
    if not head_removed:
        flow = subtract_nose_tip(flow, landmarks, nose_tip_half_window)
    masks = roi_masks(landmarks, *flow.shape[:2])
    min_mean = thresholds.magnitude_threshold(landmarks)
    out = []
    for name, mask in zip(ROI_NAMES, masks):
        if not mask.any():
            continue
        mean, peak, angle, concentration = region_stats(flow[mask])
        label = DIRECTION_LABELS[int(direction_index(angle))]
        direction = NO_MOTION if mean < min_mean else NO_DIRECTION if concentration < thresholds.min_concentration else label
        out.append(RegionMotion(name, int(mask.sum()), mean, peak, angle, concentration, label, direction))
    return out


def region_magnitudes(motions: list[RegionMotion]) -> np.ndarray:
    """(29,) mean magnitude per ROI in ROI_NAMES order, NaN where a region was empty."""
    out = np.full(len(ROI_NAMES), np.nan)
    for motion in motions:
        out[ROI_NAMES.index(motion.region)] = motion.mean_magnitude
    return out
