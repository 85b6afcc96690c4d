"""Independent ground truth: cast a ray through every pixel centre onto the onset mesh (trimesh),
interpolate the target state at the hit point, and project it with a pinhole camera written here
from Blender's camera parameters (lens, 36 mm sensor, horizontal fit, -Z forward)."""
from __future__ import annotations

import numpy as np
import trimesh


def _pinhole(width, height, focal_mm, world_from_camera):
    f = focal_mm / 36.0 * width
    rot, loc = world_from_camera[:3, :3], world_from_camera[:3, 3]

    def project(p):
        c = (p - loc) @ rot
        return np.stack([width / 2 + f * c[:, 0] / -c[:, 2] - 0.5, height / 2 - f * c[:, 1] / -c[:, 2] - 0.5], -1)

    j, i = np.meshgrid(np.arange(width), np.arange(height))
    d = np.stack([(j + 0.5 - width / 2) / f, -(i + 0.5 - height / 2) / f, -np.ones(j.shape)], -1).reshape(-1, 3) @ rot.T
    return project, loc, d / np.linalg.norm(d, axis=1, keepdims=True)


def reprojected_flow(scene, onset: np.ndarray, faces: np.ndarray, target: np.ndarray, with_faces: bool = False):
    """(flow (H, W, 2), hit mask (H, W), depth (H, W)) for a SceneSpec and onset / target
    vertices (V, 3) of one mesh; with_faces: also the index (H, W) of the face hit (-1: none)."""
    h, w = scene.height, scene.width
    project, origin, dirs = _pinhole(w, h, scene.focal_mm, np.asarray(scene.world_from_camera))
    mesh = trimesh.Trimesh(onset, faces, process=False)
    hits, ray, tri = mesh.ray.intersects_location(np.repeat(origin[None], len(dirs), 0), dirs, multiple_hits=False)
    bary = trimesh.triangles.points_to_barycentric(mesh.triangles[tri], hits)
    moved = np.einsum("nk,nkc->nc", bary, target[faces[tri]])
    pixel = np.stack([ray % w, ray // w], -1).astype(np.float64)
    flow = np.zeros((h * w, 2))
    flow[ray] = project(moved) - pixel
    mask = np.zeros(h * w, bool)
    mask[ray] = True
    depth = np.full(h * w, np.inf)
    depth[ray] = np.linalg.norm(hits - origin, axis=1)
    out = flow.reshape(h, w, 2), mask.reshape(h, w), depth.reshape(h, w)
    if with_faces:
        hit_face = np.full(h * w, -1)
        hit_face[ray] = tri
        out += (hit_face.reshape(h, w),)
    return out
