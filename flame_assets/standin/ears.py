"""Ears: a thin shell per side (front sheet with helix rim, antihelix, concha and lobe; a rounded
rim; a plain back sheet) standing off the side of the head, its front edge buried in the skin.

Built on a fan over the outline: psi in [0, pi] runs round the free edge from the top of the
root, over the back, to the lobe; t in [0, 1] from the root line out to the edge. The head's
grid is too coarse at the side (edges of about 5 mm) to carry a helix as relief, hence a mesh of
its own, as the eyeballs have. Ears move with the skin they hang on (see build._to_vertices).
"""
from __future__ import annotations

import numpy as np

from .spec import HeadSpec, smoothstep

EAR_ROWS_PSI, EAR_ROWS_T = 36, 12
ROOT_SPAN = 0.7  # share of the ear's height along which its front edge meets the head
RIM_START = 0.15  # the helix starts this share of the width behind the root line
LOBE_NARROWING = 0.35  # the lobe is this much narrower than the upper ear
BURY = 0.003  # metres the root line sinks into the skin, so no gap shows where they meet
CLOSE_OVER = 0.12 * np.pi  # the ends of the fan thin to nothing over this much of psi...
CLOSE_FLOOR = 0.08  # ...nearly: a tenth of a millimetre stays, so no face is degenerate


def _bump(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - centre) / width) ** 2)


def shell_relief(psi: np.ndarray, t: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """Height (metres, outwards) of the front sheet over the ear's plane at fan coordinates."""
    upper = smoothstep(0.85 * np.pi, 0.65 * np.pi, psi)  # 0 on the lobe
    helix = spec.ear_rim_height * _bump(t, 0.93, 0.05) * (0.4 + 0.6 * upper)
    scapha = -0.35 * spec.ear_rim_height * _bump(t, 0.80, 0.05) * upper
    antihelix = 0.6 * spec.ear_rim_height * _bump(t, 0.62, 0.07) * _bump(psi, 0.5 * np.pi, 0.28 * np.pi) * upper
    concha = -spec.ear_concha_depth * smoothstep(0.55, 0.2, t) * _bump(psi, 0.58 * np.pi, 0.2 * np.pi)
    return helix + scapha + antihelix + concha


def _outline(psi: np.ndarray, spec: HeadSpec) -> np.ndarray:
    """(n, 2) (up, back) in metres of the free edge; (0, 0) is the middle of the root line."""
    up = 0.5 * spec.ear_height * np.cos(psi)
    narrow = 1.0 - LOBE_NARROWING * smoothstep(0.0, -0.5 * spec.ear_height, up)
    back = spec.ear_width * (RIM_START + (1.0 - RIM_START) * np.sin(psi)) * narrow
    return np.stack([up, back], -1)


def _frame(side: float, spec: HeadSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit up, back and outward axes of one ear's plane (side +1 = subject's left, +x)."""
    protrude, lean = np.radians(spec.ear_protrusion_deg), np.radians(spec.ear_lean_deg)
    back = np.array([side * np.sin(protrude), 0.0, -np.cos(protrude)])
    up = np.array([0.0, np.cos(lean), -np.sin(lean)])
    up -= back * (up @ back)
    up /= np.linalg.norm(up)
    outward = -side * np.cross(up, back)  # away from the head
    return up, back, outward


def ear(side: float, root: np.ndarray, spec: HeadSpec, uv_box: tuple[float, float, float, float]
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One ear with the middle of its root line at `root` (3,): vertices (E, 3), outward faces
    (G, 3) indexing them, UVs (E, 2) in uv_box = (u0, v0, u1, v1), one chart (front sheet, rim,
    back sheet side by side along v)."""
    up, back, outward = _frame(side, spec)
    psi = np.linspace(0.0, np.pi, EAR_ROWS_PSI)
    t = np.linspace(0.0, 1.0, EAR_ROWS_T)
    edge = _outline(psi, spec)
    root_line = np.stack([ROOT_SPAN * edge[:, 0], np.zeros_like(psi)], -1)
    plane = root_line[:, None] + t[None, :, None] * (edge - root_line)[:, None]  # (P, T, 2)
    pp, tt = np.meshgrid(psi, t, indexing="ij")
    # Thickness tapers from the root to the edge; the lobe stays fleshy. The two ends of the fan
    # (psi = 0 and pi) close: front and back sheets meet there, so no opening shows.
    closing = np.maximum(smoothstep(0.0, CLOSE_OVER, pp) * smoothstep(np.pi, np.pi - CLOSE_OVER, pp), CLOSE_FLOOR)
    half = 0.5 * spec.ear_thickness * (1.4 - 0.6 * tt) * (1.0 + 0.8 * smoothstep(0.75 * np.pi, np.pi, pp)) * closing

    def place(in_plane: np.ndarray, height: np.ndarray) -> np.ndarray:
        return root + in_plane[..., :1] * up + in_plane[..., 1:] * back + height[..., None] * outward

    bury = -BURY * smoothstep(0.2, 0.0, tt)
    front = place(plane, shell_relief(pp, tt, spec) * closing + half + bury)
    rear = place(plane, -half + bury)
    out_of_edge = (edge - root_line) / np.linalg.norm(edge - root_line, axis=1, keepdims=True)
    close_edge = closing[:, -1:]
    rim = place(edge + 0.5 * spec.ear_thickness * close_edge * out_of_edge,
                0.5 * shell_relief(psi, np.ones_like(psi), spec) * close_edge[:, 0])
    # Columns along v: front t = 0..1, the rim, back t = 1..0; rows along psi.
    columns = np.concatenate([front, rim[:, None], rear[:, ::-1]], axis=1)  # (P, 2T + 1, 3)
    n_p, n_c = columns.shape[:2]
    vertices = columns.reshape(-1, 3)
    faces = []
    for i in range(n_p - 1):
        for j in range(n_c - 1):
            a, b, c, d = i * n_c + j, i * n_c + j + 1, (i + 1) * n_c + j, (i + 1) * n_c + j + 1
            faces += [[a, b, c], [b, d, c]]
    faces = np.asarray(faces, np.int64)
    # Orient: front faces outward, back faces towards the head, rim faces away from the root.
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    column = (faces % n_c).min(1)
    want = np.where((column < EAR_ROWS_T - 1)[:, None], outward, -outward)
    on_rim = (column >= EAR_ROWS_T - 1) & (column <= EAR_ROWS_T)
    away_from_root = tri.mean(1) - (root + 0.5 * spec.ear_width * back)
    want = np.where(on_rim[:, None], away_from_root, want)
    flip = np.einsum("ij,ij->i", normal, want) < 0
    faces[flip] = faces[flip][:, ::-1]
    u0, v0, u1, v1 = uv_box
    uu, vv = np.meshgrid(np.linspace(u0, u1, n_p), np.linspace(v0, v1, n_c), indexing="ij")
    return vertices, faces, np.stack([uu.ravel(), vv.ravel()], -1)
