"""The fit's camera: weak perspective (orthographic with scale), as TEASER / SMIRK / DECA use.

A model point (X, Y, Z) in metres, Y up, lands at pixel x = s X + tx, y = -s Y + ty (image y is
down). The camera (s, tx, ty) is in pixels. The encoders' `cam` is the same map in normalised
coordinates of the square crop they saw: x_n = s_n (X + tx_n) in [-1, 1], y flipped likewise.
"""
from __future__ import annotations

import numpy as np
import torch


def project(points: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """points (B, N, 3), camera (B, 3) [s, tx, ty] -> pixels (B, N, 2)."""
    s, t = camera[:, None, 0:1], camera[:, None, 1:3]
    xy = torch.stack([points[..., 0], -points[..., 1]], dim=-1)
    return s * xy + t


def project_np(points: np.ndarray, camera: np.ndarray) -> np.ndarray:
    """points (N, 3), camera (3,) -> pixels (N, 2)."""
    return camera[0] * np.stack([points[:, 0], -points[:, 1]], -1) + camera[1:3]


def camera_from_normalised(cam: np.ndarray, width: int, height: int) -> np.ndarray:
    """TEASER / SMIRK `cam` (3,) [s_n, tx_n, ty_n] for an image of this size -> pixel camera (3,).
    Pixel centres: x_n = -1 is the left edge of the image, x_n = 1 the right edge."""
    s_n, tx_n, ty_n = (float(v) for v in cam)
    half = 0.5 * width
    if abs(width - height) > 1:
        raise ValueError(f"an encoder camera describes the square crop it saw; the image is {width}x{height}: "
                         "give that crop as the image")
    return np.array([s_n * half, half * (1.0 + s_n * tx_n) - 0.5, half * (1.0 - s_n * ty_n) - 0.5])


def camera_to_normalised(camera: np.ndarray, width: int, height: int) -> np.ndarray:
    """Inverse of camera_from_normalised for a square image: pixel camera (3,) -> [s_n, tx_n, ty_n]."""
    half = 0.5 * width
    s_n = camera[0] / half
    return np.array([s_n, ((camera[1] + 0.5) / half - 1.0) / s_n, (1.0 - (camera[2] + 0.5) / half) / s_n])
