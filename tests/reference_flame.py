"""An independent numpy evaluation of FLAME, written from the model's definition (Li et al. 2017)
for checking the torch path: shape + expression blendshapes, joint regression, pose correctives,
forward kinematics, linear blend skinning, eyelids after skinning, barycentric landmarks with the
contour chosen by the head's yaw."""
from __future__ import annotations

import numpy as np


def rodrigues(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices."""
    theta = np.linalg.norm(axis_angle + 1e-8, axis=-1, keepdims=True)
    k = axis_angle / theta
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    K = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).reshape(*k.shape[:-1], 3, 3)
    s, c = np.sin(theta)[..., None], np.cos(theta)[..., None]
    return np.eye(3) + s * K + (1 - c) * (K @ K)


def flame_forward(m: dict, shape, expr, pose, neck, jaw, eyes, eyelids, transl):
    """One sample. m: FLAME arrays (v_template, shapedirs, posedirs, J_regressor, weights,
    parents, eyelids, static/dynamic embeddings, faces). Returns vertices (V, 3),
    landmarks (68, 3) in iBUG order, joints (5, 3)."""
    n_shape = len(shape)
    coeffs = np.concatenate([shape, expr])
    dirs = np.concatenate([m["shapedirs"][:, :, :n_shape], m["shapedirs"][:, :, 300:300 + len(expr)]], axis=2)
    v_shaped = m["v_template"] + dirs @ coeffs
    joints = m["J_regressor"] @ v_shaped
    rots = rodrigues(np.stack([pose, neck, jaw, eyes[:3], eyes[3:]]))
    pose_feature = (rots[1:] - np.eye(3)).reshape(-1)
    v_posed = v_shaped + m["posedirs"] @ pose_feature
    parents = m["parents"]
    world = np.zeros((len(parents), 4, 4))
    for j, p in enumerate(parents):
        local = np.eye(4)
        local[:3, :3] = rots[j]
        local[:3, 3] = joints[j] - (joints[p] if p >= 0 else 0.0)
        world[j] = local if p < 0 else world[p] @ local
    posed_joints = world[:, :3, 3].copy()
    skin = world.copy()
    skin[:, :3, 3] -= np.einsum("jab,jb->ja", world[:, :3, :3], joints)
    blend = np.einsum("vj,jab->vab", m["weights"], skin)
    verts = np.einsum("vab,vb->va", blend[:, :3, :3], v_posed) + blend[:, :3, 3]
    verts = verts + transl + eyelids[0] * m["eyelids"][0] + eyelids[1] * m["eyelids"][1]
    # Contour bin from the global rotation's yaw, as FLAME's look-up table is indexed.
    r = rots[0]
    yaw = np.degrees(np.arctan2(-r[2, 0], np.sqrt(r[0, 0] ** 2 + r[1, 0] ** 2)))
    b = int(np.round(min(-yaw, 39.0)))
    if b < 0:
        b = 78 if b < -39 else 39 - b
    faces = np.concatenate([m["dynamic_faces"][b], m["static_faces"]])
    bary = np.concatenate([m["dynamic_bary"][b], m["static_bary"]])
    landmarks = np.einsum("lk,lkc->lc", bary, verts[m["faces"][faces]])
    return verts, landmarks, posed_joints + transl
