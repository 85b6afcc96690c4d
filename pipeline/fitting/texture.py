"""Photo -> UV texture: project visible texels, mirror the hidden side, fill the rest smoothly.

UV convention (Blender's, which renders the texture): u right, v up, (0, 0) the image's
bottom-left corner, so texel (row i, col j) sits at u = (j + 0.5) / S, v = 1 - (i + 0.5) / S.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import cKDTree

from .projection import project_np
from .raster import rasterize

MIN_FACING = 0.25  # cosine between a surface normal and the view: below it the photo is too oblique
DEPTH_TOLERANCE = 0.004  # metres a texel may lie behind the visible surface and still count as seen
MIRROR_MAX_DISTANCE = 0.004  # metres between a texel's mirrored position and its partner texel


@dataclass(frozen=True)
class TexelMap:
    """Where every texel of an S x S texture lies on the mesh. face (S, S) int, -1 outside the
    UV islands; bary (S, S, 3); mirror (S, S) flat index of the texel at the mirrored position
    of the template (x -> -x), -1 when none is close."""

    face: np.ndarray
    bary: np.ndarray
    mirror: np.ndarray

    @property
    def size(self) -> int:
        return self.face.shape[0]

    @property
    def covered(self) -> np.ndarray:
        return self.face >= 0


def texel_map(uv_coords: np.ndarray, uv_faces: np.ndarray, template: np.ndarray, faces: np.ndarray, size: int) -> TexelMap:
    """uv_coords (T, 2), uv_faces (F, 3), template (V, 3) neutral vertices, faces (F, 3) -> TexelMap."""
    xy = np.stack([uv_coords[:, 0] * size - 0.5, (1.0 - uv_coords[:, 1]) * size - 0.5], -1)
    face, bary = rasterize(xy, uv_faces, size, size)
    covered = face >= 0
    positions = surface_points(template, faces, face[covered], bary[covered])
    tree = cKDTree(positions)
    distance, nearest = tree.query(positions * np.array([-1.0, 1.0, 1.0]))
    mirror = np.full(size * size, -1, np.int64)
    flat = np.flatnonzero(covered)
    mirror[flat] = np.where(distance < MIRROR_MAX_DISTANCE, flat[nearest], -1)
    return TexelMap(face=face, bary=bary, mirror=mirror.reshape(size, size))


def surface_points(vertices: np.ndarray, faces: np.ndarray, face: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """vertices (V, 3), faces (F, 3), face (N,), bary (N, 3) -> points (N, 3)."""
    return np.einsum("nk,nkc->nc", bary, vertices[faces[face]])


def visible_texels(vertices: np.ndarray, faces: np.ndarray, camera: np.ndarray, texels: TexelMap,
                   image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Which texels the camera sees, and where. vertices (V, 3) fitted, camera (3,) pixels,
    image_size (W, H) -> visible (S, S) bool, pixel positions (S, S, 2)."""
    width, height = image_size
    xy = project_np(vertices, camera)
    depth = vertices[:, 2]  # the camera looks down -z: larger z is nearer
    front, front_bary = rasterize(xy, faces, height, width, depth)
    tri = vertices[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    facing = normals[:, 2] / np.maximum(np.linalg.norm(normals, axis=1), 1e-12)
    covered = texels.covered
    face = texels.face[covered]
    points = surface_points(vertices, faces, face, texels.bary[covered])
    pix = project_np(points, camera)
    col, row = np.round(pix[:, 0]).astype(int), np.round(pix[:, 1]).astype(int)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    seen = np.zeros(len(face), bool)
    idx = np.nonzero(inside)[0]
    front_face = front[row[idx], col[idx]]
    front_depth = np.full(len(idx), -np.inf)
    hit = front_face >= 0
    front_depth[hit] = (front_bary[row[idx], col[idx]][hit] * vertices[faces[front_face[hit]]][:, :, 2]).sum(1)
    seen[idx] = hit & (points[idx, 2] >= front_depth - DEPTH_TOLERANCE) & (facing[face[idx]] > MIN_FACING)
    visible = np.zeros(covered.shape, bool)
    visible[covered] = seen
    positions = np.zeros(covered.shape + (2,))
    positions[covered] = pix
    return visible, positions


def sample_photo(rgb: np.ndarray, positions: np.ndarray, visible: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Bilinear photo colours at texel positions (S, S, 2) in original pixels -> (S, S, 3) float
    in [0, 255], zero where not visible. `scale`: original pixels per working pixel."""
    maps = (positions / scale).astype(np.float32)
    colours = cv2.remap(rgb, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.where(visible[..., None], colours.astype(np.float64), 0.0)


def mirror_fill(colours: np.ndarray, known: np.ndarray, texels: TexelMap) -> tuple[np.ndarray, np.ndarray]:
    """Hidden texels take the colour of their mirror partner when that one is known.
    colours (S, S, 3), known (S, S) -> filled colours, newly known mask."""
    flat_known, partner = known.ravel(), texels.mirror.ravel()
    take = ~flat_known & (partner >= 0)
    take[take] = flat_known[partner[take]]
    out = colours.reshape(-1, 3).copy()
    out[take] = out[partner[take]]
    return out.reshape(colours.shape), take.reshape(known.shape)


def smooth_fill(colours: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill unknown texels from the known ones by push-pull: average down a pyramid, then paste
    the coarse colours back up where nothing was known. Smooth, no seams, O(S^2).
    colours (S, S, 3), known (S, S) -> (S, S, 3)."""
    if not known.any():
        raise ValueError("no visible texel to fill the texture from")
    levels = [(colours * known[..., None], known.astype(np.float64))]
    while min(levels[-1][1].shape) > 1:
        c, w = levels[-1]
        h, wd = (c.shape[0] + 1) // 2 * 2, (c.shape[1] + 1) // 2 * 2
        c = np.pad(c, ((0, h - c.shape[0]), (0, wd - c.shape[1]), (0, 0)))
        w = np.pad(w, ((0, h - w.shape[0]), (0, wd - w.shape[1])))
        levels.append((c.reshape(h // 2, 2, wd // 2, 2, 3).sum((1, 3)), w.reshape(h // 2, 2, wd // 2, 2).sum((1, 3))))
    c, w = levels[-1]
    filled = c / np.maximum(w, 1e-12)[..., None]
    for c, w in reversed(levels[:-1]):
        up = cv2.resize(filled, (w.shape[1], w.shape[0]), interpolation=cv2.INTER_LINEAR) if filled.shape[:2] != w.shape else filled
        up = cv2.GaussianBlur(up, (3, 3), 0) if min(up.shape[:2]) >= 3 else up
        mean = c / np.maximum(w, 1e-12)[..., None]
        alpha = np.clip(w, 0.0, 1.0)[..., None]
        filled = alpha * mean + (1 - alpha) * up
    return filled[: known.shape[0], : known.shape[1]]


@dataclass
class TextureResult:
    """texture (S, S, 3) uint8; visible, mirrored (S, S) bool: which texels came from the photo
    directly and which from the other side of the face."""

    texture: np.ndarray
    visible: np.ndarray
    mirrored: np.ndarray

    def coverage(self, texels: TexelMap) -> dict:
        n = max(int(texels.covered.sum()), 1)
        return {"visible": round(float(self.visible.sum()) / n, 4), "mirrored": round(float(self.mirrored.sum()) / n, 4)}


def photo_texture(rgb: np.ndarray, scale: float, image_size: tuple[int, int], vertices: np.ndarray,
                  faces: np.ndarray, camera: np.ndarray, texels: TexelMap) -> TextureResult:
    """The UV texture of a fitted face: rgb (h, w, 3) working copy of the photo, scale (original
    pixels per working pixel), image_size (W, H) original, vertices (V, 3), camera (3,) pixels."""
    visible, positions = visible_texels(vertices, faces, camera, texels, image_size)
    colours = sample_photo(rgb, positions, visible, scale)
    colours, mirrored = mirror_fill(colours, visible, texels)
    filled = smooth_fill(colours, visible | mirrored)
    return TextureResult(np.clip(np.round(filled), 0, 255).astype(np.uint8), visible, mirrored)
