"""Quick shaded previews of meshes with matplotlib (painter's algorithm), for docs and checks.

Not the dataset renderer (that is Blender Cycles in render/): this only needs numpy and
matplotlib, so `meflow assets show` works on any machine.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

LIGHT_DIRECTION = np.array([-0.35, 0.45, 0.82])  # from the upper left front, camera space
SKIN_RGB = np.array([0.86, 0.70, 0.60])
EYE_RGB = np.array([0.92, 0.92, 0.90])
AMBIENT = 0.28
INSIDE_RGB = np.array([0.25, 0.12, 0.12])  # back faces seen through the mouth or eyes


def rotation_y(degrees: float) -> np.ndarray:
    a = np.deg2rad(degrees)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def draw_mesh(ax, vertices: np.ndarray, faces: np.ndarray, yaw_deg: float = 0.0,
              colors: np.ndarray | None = None, landmarks: np.ndarray | None = None,
              camera_distance: float = 0.9, focal: float = 4.0) -> None:
    """Draw a mesh (V, 3) / (F, 3) seen from +z after turning it by yaw_deg, with optional
    per-face base colours (F, 3) and 3D points (L, 3) drawn on top."""
    from matplotlib.collections import PolyCollection

    rot = rotation_y(yaw_deg)
    center = vertices.mean(0)
    v = (vertices - center) @ rot.T
    depth = camera_distance - v[:, 2]
    xy = focal * v[:, :2] / depth[:, None]
    tri3 = v[faces]
    normal = np.cross(tri3[:, 1] - tri3[:, 0], tri3[:, 2] - tri3[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    view = np.array([0.0, 0.0, camera_distance]) - tri3.mean(1)
    facing = np.einsum("ij,ij->i", normal, view) > 0
    light = LIGHT_DIRECTION / np.linalg.norm(LIGHT_DIRECTION)
    shade = AMBIENT + (1 - AMBIENT) * np.clip(normal @ light, 0, 1)
    base = np.broadcast_to(SKIN_RGB, (len(faces), 3)) if colors is None else colors
    rgb = np.clip(base * shade[:, None], 0, 1)
    rgb[~facing] = INSIDE_RGB
    order = np.argsort(-depth[faces].mean(1))
    ax.add_collection(PolyCollection(xy[faces[order]], facecolors=rgb[order], edgecolors=rgb[order], linewidths=0.2))
    if landmarks is not None:
        lm = (landmarks - center) @ rot.T
        lxy = focal * lm[:, :2] / (camera_distance - lm[:, 2])[:, None]
        ax.scatter(lxy[:, 0], lxy[:, 1], s=6, c="#1f77ff", zorder=10)
    pad = 0.05 * np.ptp(xy, axis=0).max()
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    ax.set_aspect("equal")
    ax.axis("off")


def save_views(path: Path, meshes: list[tuple[str, np.ndarray]], faces: np.ndarray,
               yaws: tuple[float, ...] = (0.0, 35.0), colors: np.ndarray | None = None,
               landmarks: list[np.ndarray | None] | None = None, panel: float = 2.6) -> Path:
    """A grid of panels: one row per (title, vertices) mesh, one column per yaw. Writes a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(meshes), len(yaws), figsize=(panel * len(yaws), panel * len(meshes) * 1.1), squeeze=False)
    for r, (title, verts) in enumerate(meshes):
        for c, yaw in enumerate(yaws):
            lm = landmarks[r] if landmarks else None
            draw_mesh(axes[r][c], verts, faces, yaw, colors, lm)
            axes[r][c].set_title(title if c == 0 else "", fontsize=9, loc="left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, facecolor="white")
    plt.close(fig)
    return path
