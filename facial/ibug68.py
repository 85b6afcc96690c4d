"""The iBUG 68-point landmark convention: point groups, mirror partners, eye corners and the
normalised mean error.

Points are 0-based, in image pixels (x right, y down). Group names say the image side: the
subject's right eye is `eye_image_left` (points 36-41).
"""
from __future__ import annotations

import numpy as np

N_POINTS = 68
GROUPS: dict[str, range] = {
    "jaw": range(0, 17),
    "brow_image_left": range(17, 22),
    "brow_image_right": range(22, 27),
    "nose_bridge": range(27, 31),
    "nostrils": range(31, 36),
    "eye_image_left": range(36, 42),
    "eye_image_right": range(42, 48),
    "mouth_outer": range(48, 60),
    "mouth_inner": range(60, 68),
}
JAW = slice(GROUPS["jaw"].start, GROUPS["jaw"].stop)  # the contour: where the outline is, not fixed skin
INNER = slice(GROUPS["jaw"].stop, N_POINTS)  # brows, nose, eyes and mouth: points on fixed skin
NOSE_TIP = 30  # the lowest point of the nose bridge: moves with the head, barely with expressions
OUTER_EYE_CORNERS = (36, 45)  # inter-ocular distance as in 300-W: outer corners of the two eyes
MIN_INTER_OCULAR_PX = 1.0  # below this the outer eye corners coincide: the landmarks are degenerate
# Mirror partner of every point (image left <-> right): flipping an image horizontally maps point
# i to the position of point MIRROR[i].
MIRROR = np.array(
    list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55] + [64, 63, 62, 61, 60, 67, 66, 65])


def inter_ocular(landmarks: np.ndarray) -> np.ndarray:
    """landmarks (..., 68, 2) -> (...) distance between the outer eye corners."""
    a, b = OUTER_EYE_CORNERS
    landmarks = np.asarray(landmarks)
    return np.linalg.norm(landmarks[..., a, :] - landmarks[..., b, :], axis=-1)


def normalised_mean_error(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """predicted, target (..., 68, 2) -> (...) mean point distance over the target's
    inter-ocular distance."""
    err = np.linalg.norm(np.asarray(predicted) - np.asarray(target), axis=-1).mean(-1)
    return err / np.maximum(inter_ocular(target), 1e-9)


def mirror_landmarks(landmarks: np.ndarray, width: int) -> np.ndarray:
    """landmarks (..., 68, 2) of an image `width` pixels wide -> the landmarks of the same image
    flipped left-right: x -> width - 1 - x (pixel centres), and every point takes its mirror
    partner's place, so index i still means iBUG point i."""
    flipped = np.array(landmarks, dtype=np.float64, copy=True)
    flipped[..., 0] = width - 1 - flipped[..., 0]
    return flipped[..., MIRROR, :]


def check_landmarks(landmarks, where: str) -> np.ndarray:
    """(68, 2) float64, or ValueError with a one-line reason that starts with `where`."""
    arr = np.asarray(landmarks, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{where}: landmarks must be 68 (x, y) pairs, got an array of shape {arr.shape}")
    if arr.shape[0] != N_POINTS:
        raise ValueError(f"{where}: {arr.shape[0]} landmarks, expected 68 (iBUG order)")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: landmarks hold NaN or infinite values")
    if inter_ocular(arr) < MIN_INTER_OCULAR_PX:
        raise ValueError(f"{where}: the outer eye corners (points 36, 45) coincide: landmarks are degenerate")
    return arr
