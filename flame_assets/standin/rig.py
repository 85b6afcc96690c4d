"""Skeleton of the stand-in in FLAME's layout: 5 joints, a joint regressor, skinning weights and
pose-corrective blendshapes."""
from __future__ import annotations

import numpy as np

from .geometry import Template
from .regions import Regions
from .spec import HeadSpec, smoothstep

N_JOINTS = 5
PARENTS = np.array([-1, 0, 1, 1, 1])  # global <- neck <- {jaw, left eye, right eye}
JAW_CHEEK_THINNING = 0.004  # metres the cheeks move inwards per unit sin(jaw angle)
NECK_THROAT_FOLD = 0.004  # metres the throat moves back per unit sin(nod angle)


def _pose_feature(joint: int, row: int, col: int) -> int:
    """Index into FLAME's 36 pose features: (R - I) flattened for joints 1..4."""
    return 9 * (joint - 1) + 3 * row + col


def joint_regressor(template: Template, spec: HeadSpec) -> np.ndarray:
    """(5, V): each joint is the mean of a symmetric set of vertices."""
    grid, v = template.grid, template.vertices
    n_v = len(v)
    reg = np.zeros((N_JOINTS, n_v))
    last_row = grid.row.max()
    base_ring = np.flatnonzero(grid.row == last_row)
    skin = v[: grid.n_vertices]
    neck_rows = np.unique(grid.row[grid.neck > 0])
    neck_row = neck_rows[np.argmin([abs(skin[grid.row == r, 1].mean() - spec.neck_joint_y) for r in neck_rows])]
    neck_ring = np.flatnonzero(grid.row == neck_row)
    hinge = []
    for side in (1.0, -1.0):
        target = np.array([side * spec.jaw_hinge_x, spec.jaw_joint_y, spec.jaw_joint_z])
        hinge.append(int(np.argmin(np.linalg.norm(skin - target, axis=1))))
    for joint, members in enumerate([base_ring, neck_ring, np.array(hinge), *template.eyeball_vertices]):
        reg[joint, members] = 1.0 / len(members)
    return reg


def skinning_weights(template: Template, regions: Regions) -> np.ndarray:
    """(V, 5): neck blends global -> neck joint; the head follows the neck, the lower face the jaw,
    each eyeball its eye joint, each ear its root."""
    grid = template.grid
    n_skin = grid.n_vertices
    w = np.zeros((len(template.vertices), N_JOINTS))
    to_root = smoothstep(0.25, 1.0, grid.neck)
    jaw = regions.jaw[:n_skin]
    w[:n_skin, 0] = to_root
    w[:n_skin, 2] = jaw * (1.0 - to_root)
    w[:n_skin, 1] = 1.0 - w[:n_skin, 0] - w[:n_skin, 2]
    for k, members in enumerate(template.eyeball_vertices):
        w[members, 3 + k] = 1.0
    for members, anchor in zip(template.ear_vertices, template.ear_anchors):
        w[members] = w[anchor]  # an ear follows the skin it hangs on
    return w


def pose_correctives(template: Template, regions: Regions) -> np.ndarray:
    """(V, 3, 36): cheeks thin when the jaw opens; the throat folds when the head nods down."""
    n_skin = template.grid.n_vertices
    skin = template.vertices[:n_skin]
    dirs = np.zeros((len(template.vertices), 3, 36))
    jaw = regions.jaw[:n_skin]
    transition = 4.0 * jaw * (1.0 - jaw)  # the skin between what moves and what stays
    cheek = np.zeros((n_skin, 3))
    cheek[:, 0] = -np.sign(skin[:, 0]) * JAW_CHEEK_THINNING * transition * smoothstep(0.015, 0.035, np.abs(skin[:, 0]))
    # A rotation by a about x has (R - I)[2, 1] = sin a and (R - I)[1, 2] = -sin a.
    dirs[:n_skin, :, _pose_feature(2, 2, 1)] = 0.5 * cheek
    dirs[:n_skin, :, _pose_feature(2, 1, 2)] = -0.5 * cheek
    throat = np.zeros((n_skin, 3))
    throat[:, 2] = -NECK_THROAT_FOLD * regions.front[:n_skin] * (template.grid.neck > 0)
    dirs[:n_skin, :, _pose_feature(1, 2, 1)] = 0.5 * throat
    dirs[:n_skin, :, _pose_feature(1, 1, 2)] = -0.5 * throat
    return dirs
