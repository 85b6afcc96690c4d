"""Where the stand-in's human head keeps its features: detect iBUG-68 on a frontal render of
MakeHuman's hm08 head (mediapipe, as on real photos), lift the points onto the mesh by a ray cast,
and write iBUG 17-67 to flame_assets/standin/makehuman_landmarks.json. Then print how far the
similarity alone leaves them from the stand-in's layout, and how far the warp does.

    .venv/bin/python bench/makehuman_anchors.py [--write] [--picture build/makehuman_front.png]
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from flame_assets.standin import human
from flame_assets.standin.mesh import quad_triangles
from flame_assets.standin.spec import SPEC
from pipeline.fitting.detectors import MediapipeDetector

IMAGE_SIZE = 512
VIEW_HALF_HEIGHT = 0.13  # metres of the orthographic view either side of its centre
VIEW_CENTRE_BELOW_CROWN = 0.12  # metres
FIRST = 17


def frontal_render(vertices: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A grey-shaded orthographic frontal render (H, W, 3) uint8 and the view centre (3,)."""
    import pyrender
    import trimesh

    centre = np.array([0.0, vertices[:, 1].max() - VIEW_CENTRE_BELOW_CROWN, 0.0])
    scene = pyrender.Scene(ambient_light=[0.25, 0.25, 0.25])
    material = pyrender.MetallicRoughnessMaterial(baseColorFactor=[0.8, 0.6, 0.5, 1.0], roughnessFactor=0.8)
    scene.add(pyrender.Mesh.from_trimesh(trimesh.Trimesh(vertices, triangles, process=False), material=material, smooth=True))
    pose = np.eye(4)
    pose[:3, 3] = [centre[0], centre[1], 1.0]
    scene.add(pyrender.OrthographicCamera(xmag=VIEW_HALF_HEIGHT, ymag=VIEW_HALF_HEIGHT, znear=0.01, zfar=2.0), pose=pose)
    scene.add(pyrender.DirectionalLight(intensity=3.0), pose=pose)
    colour, _ = pyrender.OffscreenRenderer(IMAGE_SIZE, IMAGE_SIZE).render(scene)
    return colour, centre


def lift(pixels: np.ndarray, centre: np.ndarray, vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(K, 2) image points -> (K, 3) the frontmost mesh point behind each."""
    import trimesh

    half = IMAGE_SIZE / 2
    x = centre[0] + (pixels[:, 0] + 0.5 - half) / half * VIEW_HALF_HEIGHT
    y = centre[1] - (pixels[:, 1] + 0.5 - half) / half * VIEW_HALF_HEIGHT
    origins = np.stack([x, y, np.ones_like(x)], 1)
    mesh = trimesh.Trimesh(vertices, triangles, process=False)
    hits, rays, _ = mesh.ray.intersects_location(origins, np.tile([0.0, 0.0, -1.0], (len(x), 1)), multiple_hits=True)
    z = np.full(len(x), -np.inf)
    np.maximum.at(z, rays, hits[:, 2])
    missed = ~np.isfinite(z)
    if missed.any():  # a point on the lid line can fall between the lids: take the nearest vertex in front
        front = vertices[vertices[:, 2] > np.median(vertices[:, 2])]
        for k in np.flatnonzero(missed):
            z[k] = front[np.argmin(np.linalg.norm(front[:, :2] - [x[k], y[k]], axis=1)), 2]
    return np.stack([x, y, z], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="Rewrite the landmarks file (changes the stand-in).")
    parser.add_argument("--picture", type=Path, default=None)
    args = parser.parse_args()
    mesh = human.base_mesh()
    quads = mesh.quads[human.SKIN_GROUP]
    quads = quads[mesh.vertices[quads][:, :, 1].min(1) > human.HEAD_CUT_Y]
    triangles = quad_triangles(quads)
    image, centre = frontal_render(mesh.vertices, triangles)
    pixels = MediapipeDetector().detect(image)
    points = lift(pixels, centre, mesh.vertices, triangles)
    if args.picture:
        from PIL import Image, ImageDraw

        picture = Image.fromarray(image)
        draw = ImageDraw.Draw(picture)
        for px, py in pixels:
            draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=(40, 220, 60))
        args.picture.parent.mkdir(parents=True, exist_ok=True)
        picture.save(args.picture)
    if args.write:
        about = json.loads(human.LANDMARKS_FILE.read_text())["about"]
        human.LANDMARKS_FILE.write_text(json.dumps(
            {"about": about, "first_index": FIRST, "points": [[round(float(c), 5) for c in p] for p in points[FIRST:]]}, indent=1))
    stored = np.asarray(json.loads(human.LANDMARKS_FILE.read_text())["points"])
    print(f"detected vs stored anchors: {1000 * np.linalg.norm(points[FIRST:] - stored, axis=1).max():.2f} mm at most")
    index, wanted = human.layout_targets(SPEC)
    head = human.human_head(SPEC)
    source = human.mh_landmarks()[index]
    similar = head.align.scale * source @ head.align.rotation.T + head.align.shift
    print(f"similarity: scale {head.align.scale:.4f}; its distance to the stand-in's layout (mm): "
          f"median {1000 * np.median(np.linalg.norm(similar[:, :2] - wanted, axis=1)):.2f}, "
          f"max {1000 * np.linalg.norm(similar[:, :2] - wanted, axis=1).max():.2f}")
    print(f"after the warp: max {1000 * np.linalg.norm(head.align(source)[:, :2] - wanted, axis=1).max():.3f} mm")


if __name__ == "__main__":
    main()
