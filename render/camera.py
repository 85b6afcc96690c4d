"""Pinhole camera matching Blender's perspective camera (sensor fit horizontal), pure numpy.

Image convention (DESIGN): pixel (row i, col j) has its centre at x = j, y = i; x right, y down.
Blender's camera looks along its local -Z with +Y up, which is what `look_at` builds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SENSOR_WIDTH_MM = 36.0


@dataclass(frozen=True)
class Camera:
    """width, height in pixels; focal_mm over a sensor_mm-wide sensor; world_from_camera (4, 4)."""

    width: int
    height: int
    focal_mm: float
    world_from_camera: np.ndarray
    sensor_mm: float = SENSOR_WIDTH_MM

    @property
    def focal_px(self) -> float:
        return focal_px(self.focal_mm, self.width, self.sensor_mm)

    @property
    def principal_point(self) -> tuple[float, float]:
        """(cx, cy) in pixels: the image centre in the pixel-centre convention."""
        return 0.5 * self.width - 0.5, 0.5 * self.height - 0.5

    @property
    def location(self) -> np.ndarray:
        return self.world_from_camera[:3, 3]

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 3) camera coordinates (visible points have z < 0)."""
        rot, loc = self.world_from_camera[:3, :3], self.world_from_camera[:3, 3]
        return (np.asarray(points, np.float64) - loc) @ rot

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 2) pixel coordinates (x, y) in the pixel-centre convention."""
        c = self.to_camera(points)
        depth = -c[..., 2]
        # principal_point + f (x, -y) / depth, summed in this order so stored flows keep their bits
        x = 0.5 * self.width + self.focal_px * c[..., 0] / depth - 0.5
        y = 0.5 * self.height - self.focal_px * c[..., 1] / depth - 0.5
        return np.stack([x, y], -1)


def focal_px(focal_mm: float, width: int, sensor_mm: float = SENSOR_WIDTH_MM) -> float:
    """Focal length in pixels of an image `width` pixels wide (sensor fit horizontal)."""
    return focal_mm / sensor_mm * width


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = np.array([0.0, 1.0, 0.0])) -> np.ndarray:
    """(4, 4) world_from_camera for a camera at `eye` looking at `target` (-Z forward, +Y up)."""
    eye, target = np.asarray(eye, np.float64), np.asarray(target, np.float64)
    back = eye - target
    back /= np.linalg.norm(back)
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    true_up = np.cross(back, right)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, true_up, back, eye
    return m


def pixel_grid(height: int, width: int) -> np.ndarray:
    """(H, W, 2) pixel-centre coordinates (x = j, y = i)."""
    j, i = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    return np.stack([j, i], -1)


def flow_from_targets(camera: Camera, targets: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Forward flow (H, W, 2) float32: where the surface seen at each pixel centre goes.

    targets (H, W, 3): world position, in the target state, of the point seen at each pixel;
    mask (H, W) bool: foreground. Background flow is exactly zero.
    """
    flow = camera.project(targets) - pixel_grid(*mask.shape)
    return np.where(mask[..., None], flow, 0.0).astype(np.float32)


def subject_box(camera: Camera, points: np.ndarray, margin_px: float) -> tuple[int, int, int, int]:
    """points (N, 3) world -> (x0, y0, x1, y1): the pixel rows y0..y1-1 and columns x0..x1-1
    covering every projected point's pixel, grown by margin_px and clipped to the image. A mesh's
    triangles lie inside the hull of its vertices, so the box holds its whole silhouette."""
    xy = camera.project(points)
    lo = np.floor(xy.min(0) + 0.5 - margin_px).astype(int)  # pixel j spans [j - 0.5, j + 0.5)
    hi = np.ceil(xy.max(0) + 0.5 + margin_px).astype(int)
    x0, y0 = (int(v) for v in np.maximum(lo, 0))
    x1, y1 = int(min(hi[0], camera.width)), int(min(hi[1], camera.height))
    return x0, y0, max(x1, x0), max(y1, y0)
