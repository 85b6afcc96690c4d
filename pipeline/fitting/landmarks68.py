"""iBUG 68-point conventions: groups, eye corners and the normalised mean error."""
from __future__ import annotations

import numpy as np

N_POINTS = 68
JAW = slice(0, 17)
OUTER_EYE_CORNERS = (36, 45)  # inter-ocular distance as in 300-W: outer corners of the two eyes
# Mirror partner of every point (image left <-> right), for flipping photos and symmetry checks.
MIRROR = np.array(
    list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55] + [64, 63, 62, 61, 60, 67, 66, 65])


def inter_ocular(landmarks: np.ndarray) -> np.ndarray:
    """landmarks (..., 68, 2) -> (...) distance between the outer eye corners."""
    a, b = OUTER_EYE_CORNERS
    return np.linalg.norm(landmarks[..., a, :] - landmarks[..., b, :], axis=-1)


def normalised_mean_error(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """predicted, target (..., 68, 2) -> (...) mean point distance over the target's
    inter-ocular distance."""
    err = np.linalg.norm(np.asarray(predicted) - np.asarray(target), axis=-1).mean(-1)
    return err / np.maximum(inter_ocular(np.asarray(target)), 1e-9)


def check_landmarks(landmarks, where: str) -> np.ndarray:
    """(68, 2) float64 or ValueError with a one-line reason."""
    arr = np.asarray(landmarks, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{where}: landmarks must be 68 (x, y) pairs, got an array of shape {arr.shape}")
    if arr.shape[0] != N_POINTS:
        raise ValueError(f"{where}: {arr.shape[0]} landmarks, expected 68 (iBUG order)")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: landmarks hold NaN or infinite values")
    if inter_ocular(arr) < 1.0:
        raise ValueError(f"{where}: the outer eye corners (points 36, 45) coincide: landmarks are degenerate")
    return arr
