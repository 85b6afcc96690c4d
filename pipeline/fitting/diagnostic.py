"""The fit's diagnostic picture: photo with given and fitted landmarks | fitted mesh over the
photo (pyrender, offscreen through EGL: Mesa's llvmpipe on a CPU, the GPU where a driver is) |
the UV texture."""
from __future__ import annotations

import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # before pyrender imports OpenGL

import cv2
import numpy as np

from .projection import project_np

GIVEN_COLOUR = (60, 220, 60)  # RGB: landmarks from the CSV or the detector
FITTED_COLOUR = (235, 50, 50)  # RGB: landmarks of the fitted model
MESH_OPACITY = 0.6
PANEL_HEIGHT = 512
FACE_MARGIN = 0.6  # the photo panels show the face and this much more around it


def render_mesh(vertices: np.ndarray, faces: np.ndarray, camera: np.ndarray, width: int, height: int) -> np.ndarray:
    """Shade the fitted mesh as the photo's camera sees it. vertices (V, 3), camera (3,) weak
    perspective in pixels of a width x height image -> RGBA (H, W, 4) uint8."""
    import pyrender
    import trimesh

    xy = project_np(vertices, camera)
    # Into an OpenGL frame where one unit is one pixel: x right, y up, z towards the viewer.
    gl = np.stack([xy[:, 0], (height - 1) - xy[:, 1], camera[0] * vertices[:, 2]], -1)
    gl[:, 2] -= gl[:, 2].max() + 1.0
    mesh = trimesh.Trimesh(gl, faces, process=False)
    material = pyrender.MetallicRoughnessMaterial(baseColorFactor=(0.75, 0.78, 0.85, 1.0), roughnessFactor=0.7)
    scene = pyrender.Scene(bg_color=(0, 0, 0, 0), ambient_light=(0.25, 0.25, 0.25))
    scene.add(pyrender.Mesh.from_trimesh(mesh, material=material, smooth=True))
    pose = np.eye(4)
    pose[:3, 3] = ((width - 1) / 2, (height - 1) / 2, 10.0)
    depth_range = float(np.ptp(gl[:, 2])) + 20.0
    scene.add(pyrender.OrthographicCamera(xmag=width / 2, ymag=height / 2, znear=0.1, zfar=depth_range), pose=pose)
    scene.add(pyrender.DirectionalLight(intensity=3.0), pose=pose)
    renderer = pyrender.OffscreenRenderer(width, height)
    try:
        colour, _ = renderer.render(scene, flags=pyrender.RenderFlags.RGBA)
    finally:
        renderer.delete()
    return colour


def _dots(image: np.ndarray, points: np.ndarray, colour, radius: int) -> None:
    for x, y in points:
        cv2.circle(image, (int(round(x)), int(round(y))), radius, colour, -1, lineType=cv2.LINE_AA)


def face_box(points: np.ndarray, height: int, width: int, margin: float = FACE_MARGIN) -> tuple[int, int, int, int]:
    """A square crop (top, bottom, left, right) around the landmarks (68, 2), grown by margin."""
    centre = (points.min(0) + points.max(0)) / 2
    half = (1 + margin) * np.ptp(points, 0).max() / 2
    left, top = np.maximum(np.floor(centre - half), 0).astype(int)
    right, bottom = np.minimum(np.ceil(centre + half), [width, height]).astype(int)
    if right <= left or bottom <= top:
        return 0, height, 0, width
    return top, bottom, left, right


def _fit_height(image: np.ndarray, height: int) -> np.ndarray:
    scale = height / image.shape[0]
    return cv2.resize(image, (max(1, round(image.shape[1] * scale)), height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def diagnostic_image(rgb: np.ndarray, scale: float, given: np.ndarray | None, fitted: np.ndarray,
                     vertices: np.ndarray, faces: np.ndarray, camera: np.ndarray,
                     texture: np.ndarray | None, caption: str) -> np.ndarray:
    """rgb (h, w, 3) working copy, scale original/working, landmarks (68, 2) and camera in
    original pixels -> RGB (PANEL_HEIGHT, W', 3) uint8 of the three panels side by side."""
    h, w = rgb.shape[:2]
    working_camera = np.asarray(camera, np.float64) / scale
    radius = max(1, round(max(h, w) / 300))
    marks = rgb.copy()
    if given is not None:
        _dots(marks, np.asarray(given) / scale, GIVEN_COLOUR, radius + 1)
    _dots(marks, np.asarray(fitted) / scale, FITTED_COLOUR, radius)
    shaded = render_mesh(vertices, faces, working_camera, w, h).astype(np.float64)
    alpha = MESH_OPACITY * shaded[..., 3:] / 255.0
    overlay = np.round(rgb * (1 - alpha) + shaded[..., :3] * alpha).astype(np.uint8)
    top, bottom, left, right = face_box(np.asarray(fitted) / scale, h, w)
    panels = [_fit_height(marks[top:bottom, left:right], PANEL_HEIGHT), _fit_height(overlay[top:bottom, left:right], PANEL_HEIGHT)]
    if texture is not None:
        panels.append(_fit_height(texture, PANEL_HEIGHT))
    sheet = np.concatenate(panels, 1)
    cv2.putText(sheet, caption, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(sheet, caption, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return sheet
