"""Removing the head's residual motion by the flow at the nose tip.

The nose tip (iBUG point 30) moves with the head and barely with any facial action, so the mean
flow of a small window there estimates the head's motion near the face centre; subtracting it
leaves mostly expression motion. MELLM does this before its region statistics (a 5 x 5 window),
and the paper's ablation uses it as the head flow of methods that estimate facial flow only. The
window here grows with the face, so it covers the same piece of skin at any resolution.
"""
from __future__ import annotations

import numpy as np

from .ibug68 import NOSE_TIP, inter_ocular

HALF_WINDOW_PER_INTER_OCULAR = 0.03  # half side of the window, as a share of the outer-eye distance
MIN_HALF_WINDOW_PX = 2  # never below MELLM's 5 x 5 window


def nose_tip_half_window(landmarks: np.ndarray) -> int:
    """landmarks (68, 2) -> half side in pixels of the nose-tip window (the window is 2 h + 1)."""
    return max(MIN_HALF_WINDOW_PX, int(round(HALF_WINDOW_PER_INTER_OCULAR * float(inter_ocular(landmarks)))))


def nose_tip_flow(flow: np.ndarray, landmarks: np.ndarray, half_window: int | None = None) -> np.ndarray:
    """flow (H, W, 2), landmarks (68, 2) pixels -> (2,) mean flow of the window around the nose
    tip (clipped to the image). ValueError when the nose tip lies outside the image."""
    height, width = flow.shape[:2]
    half = nose_tip_half_window(landmarks) if half_window is None else int(half_window)
    x, y = (int(round(c)) for c in np.asarray(landmarks)[NOSE_TIP])
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f"the nose tip ({x}, {y}) lies outside the {width}x{height} flow: landmarks of another image?")
    window = flow[max(0, y - half): y + half + 1, max(0, x - half): x + half + 1]
    return window.reshape(-1, 2).mean(0)


def subtract_nose_tip(flow: np.ndarray, landmarks: np.ndarray, half_window: int | None = None) -> np.ndarray:
    """flow (H, W, 2) -> flow minus its nose-tip mean (H, W, 2), same dtype."""
    return (flow - nose_tip_flow(flow, landmarks, half_window)).astype(flow.dtype)
