"""The direction convention of flow vectors (DESIGN): the angle is atan2(-v, u) in degrees,
counter-clockwise from image right (v is down-positive, so "up" is 90), in [0, 360); 8 labels
centred on 0, 45, ..., 315; an angle halfway between two labels takes the earlier one in
DIRECTION_LABELS (as MELLM's nearest-octant search does).

This is not the angle that indexes the Middlebury colour wheel (`shards.flow_pictures`), which
follows Baker et al.'s own orientation; only the hue layout of that picture uses it.
"""
from __future__ import annotations

import numpy as np

DIRECTION_LABELS = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")
SECTOR_DEG = 360.0 / len(DIRECTION_LABELS)


def flow_angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """u, v (...) pixels (u right, v down) -> (...) angle in degrees in [0, 360)."""
    return np.mod(np.degrees(np.arctan2(-np.asarray(v, np.float64), np.asarray(u, np.float64))), 360.0)


def direction_index(angle_deg: np.ndarray) -> np.ndarray:
    """(...) angles in degrees -> (...) index into DIRECTION_LABELS of the nearest label (the
    earlier label on a tie)."""
    centres = SECTOR_DEG * np.arange(len(DIRECTION_LABELS))
    angle = np.asarray(angle_deg, np.float64)[..., None]
    distance = np.abs(np.mod(angle - centres + 180.0, 360.0) - 180.0)
    return np.argmin(distance, axis=-1)


def direction_label(angle_deg: float) -> str:
    """One angle in degrees -> its label ("up" for 80 degrees)."""
    return DIRECTION_LABELS[int(direction_index(angle_deg))]
