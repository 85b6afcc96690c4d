"""A small vectorised triangle rasteriser with a depth buffer (numpy only).

Used twice: in UV space (which triangle and where, for every texel) and in image space (which
triangle the camera sees at every pixel). Pixel (row i, col j) has its centre at x = j, y = i.
"""
from __future__ import annotations

import numpy as np

EDGE_EPS = 1e-7  # barycentric slack so texels on shared edges are not lost to rounding


def rasterize(xy: np.ndarray, faces: np.ndarray, height: int, width: int,
              depth: np.ndarray | None = None, chunk: int = 4_000_000) -> tuple[np.ndarray, np.ndarray]:
    """xy (V, 2) pixel positions, faces (F, 3), depth (V,) larger = nearer (None: first wins)
    -> face index (H, W) int64 with -1 where empty, barycentric coordinates (H, W, 3)."""
    tri = xy[faces]  # (F, 3, 2)
    lo = np.maximum(np.ceil(tri.min(1) - EDGE_EPS), 0).astype(np.int64)
    hi = np.minimum(np.floor(tri.max(1) + EDGE_EPS), [width - 1, height - 1]).astype(np.int64)
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    keep = np.nonzero((hi >= lo).all(1) & (np.abs(area) > 1e-12))[0]
    span = hi[keep] - lo[keep] + 1
    counts = span[:, 0] * span[:, 1]
    face_index = np.full(height * width, -1, np.int64)
    best_depth = np.full(height * width, -np.inf)
    bary_out = np.zeros((height * width, 3))
    # Chunks of triangles bound the memory of the candidate pixel list.
    bounds = np.searchsorted(np.cumsum(counts), np.arange(chunk, counts.sum() + chunk, chunk))
    start = 0
    for stop in np.unique(np.append(bounds, len(keep))):
        if stop <= start:
            continue
        sel = slice(start, stop)
        f, n, sp = keep[sel], counts[sel], span[sel]
        owner = np.repeat(np.arange(len(f)), n)
        local = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        px = lo[f][owner, 0] + local % sp[owner, 0]
        py = lo[f][owner, 1] + local // sp[owner, 0]
        fa, fb, fc, ar = a[f][owner], b[f][owner], c[f][owner], area[f][owner]
        w_b = ((px - fa[:, 0]) * (fc[:, 1] - fa[:, 1]) - (py - fa[:, 1]) * (fc[:, 0] - fa[:, 0])) / ar
        w_c = ((fb[:, 0] - fa[:, 0]) * (py - fa[:, 1]) - (fb[:, 1] - fa[:, 1]) * (px - fa[:, 0])) / ar
        w_a = 1.0 - w_b - w_c
        inside = (w_a >= -EDGE_EPS) & (w_b >= -EDGE_EPS) & (w_c >= -EDGE_EPS)
        weights = np.stack([w_a, w_b, w_c], 1)[inside]
        face = f[owner[inside]]
        pixel = py[inside] * width + px[inside]
        z = (weights * depth[faces[face]]).sum(1) if depth is not None else np.zeros(len(face))
        # Nearest per pixel: sort by (pixel, -z), take the first of each pixel, then compare with earlier chunks.
        order = np.lexsort((-z, pixel))
        pixel, z, face, weights = pixel[order], z[order], face[order], weights[order]
        first = np.ones(len(pixel), bool)
        first[1:] = pixel[1:] != pixel[:-1]
        pixel, z, face, weights = pixel[first], z[first], face[first], weights[first]
        better = z > best_depth[pixel]
        face_index[pixel[better]] = face[better]
        best_depth[pixel[better]] = z[better]
        bary_out[pixel[better]] = weights[better]
        start = stop
    return face_index.reshape(height, width), bary_out.reshape(height, width, 3)
