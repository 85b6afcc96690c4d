"""Rigid attachment math shared by the objects drawn with the head (glasses, mouth, body): the frame an
object is placed in, and the rigid motions that carry it from the onset to another state."""
from __future__ import annotations

import numpy as np

Motion = tuple[np.ndarray, np.ndarray]  # (R (3, 3), t (3,)): p' = p @ R.T + t


def facing_frame(right: np.ndarray, left: np.ndarray, head_rotation: np.ndarray) -> np.ndarray:
    """(3, 3) axes as columns of a frame on a face: x from the subject's right point to the left
    one (3,), z the head's forward (head_rotation (3, 3) applied to +z) made perpendicular to x,
    y = z x x (up)."""
    x = left - right
    x = x / np.linalg.norm(x)
    forward = head_rotation @ np.array([0.0, 0.0, 1.0])
    z = forward - x * (forward @ x)
    z /= np.linalg.norm(z)
    return np.stack([x, np.cross(z, x), z], 1)


def head_motion(rot_from: np.ndarray, root_from: np.ndarray, rot_to: np.ndarray, root_to: np.ndarray) -> Motion:
    """The motion of a head whose rotation about its root joint goes from (rot_from, root_from)
    to (rot_to, root_to): p' = R_to R_from^T (p - root_from) + root_to."""
    rotation = rot_to @ rot_from.T
    return rotation, root_to - root_from @ rotation.T


def apply_motion(points: np.ndarray, motion: Motion) -> np.ndarray:
    """points (N, 3) moved by motion -> (N, 3)."""
    return points @ motion[0].T + motion[1]


def rigid_fit(source: np.ndarray, target: np.ndarray) -> Motion:
    """Least-squares motion with target ~ apply_motion(source, motion) (Kabsch), for point sets
    (M, 3), M >= 3 and not collinear."""
    cs, ct = source.mean(0), target.mean(0)
    u, _, vt = np.linalg.svd((source - cs).T @ (target - ct))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rotation, ct - cs @ rotation.T
