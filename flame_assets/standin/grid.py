"""Topology of the stand-in: a latitude-longitude grid over the head with three slits.

The eyes and the mouth are slits: on a slit row the interior columns get a second vertex, so the
faces above and below no longer share it. Opening a slit is then only a matter of moving the two
copies apart in parameter space (see `open_slits`), which keeps every face well shaped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import HeadSpec, smoothstep


@dataclass(frozen=True)
class Slit:
    name: str
    row: int
    col_lo: int  # corner column (shared by both lips / lids)
    col_hi: int  # corner column


@dataclass(frozen=True)
class HeadGrid:
    """Parameters of each grid vertex (Vg of them) and the faces between them.

    theta (Vg,) longitude, 0 = front, +pi/2 = subject's left; phi (Vg,) polar angle from the crown
    (head rows), neck (Vg,) in [0, 1] along the neck (0 on head rows); row, col (Vg,) grid indices
    (row -1 = crown pole); lower_copy (Vg,) bool; faces (F, 3) outward-facing (counter-clockwise);
    uv (T, 2) and uv_faces (F, 3).
    """

    theta: np.ndarray
    phi: np.ndarray
    neck: np.ndarray
    row: np.ndarray
    col: np.ndarray
    lower_copy: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    uv_faces: np.ndarray
    row_phi: np.ndarray  # (n_head_rows,)
    column_theta: np.ndarray  # (n_columns,)
    slits: tuple[Slit, ...]

    @property
    def n_vertices(self) -> int:
        return int(self.theta.shape[0])

    def slit(self, name: str) -> Slit:
        return next(s for s in self.slits if s.name == name)


def column_angles(spec: HeadSpec, snap: list[float]) -> np.ndarray:
    """(n_columns,) longitudes in [-pi, pi), denser at the front, with columns snapped onto `snap`."""
    u = -1.0 + 2.0 * np.arange(spec.n_columns) / spec.n_columns
    theta = np.pi * (spec.column_warp * u + (1.0 - spec.column_warp) * u**3)
    for target in snap:  # symmetric pairs: snap the nearest column and its mirror
        for t in (target, -target):
            theta[np.argmin(np.abs(theta - t))] = t
    return theta


def row_angles(spec: HeadSpec, snap: list[float]) -> np.ndarray:
    """(n_head_rows,) polar angles from near the crown to the jaw, denser in the face band."""
    fine = np.linspace(0.0, spec.jaw_polar_angle, 4096)
    lo, hi = spec.row_band
    density = 1.0 + (spec.row_band_density - 1.0) * smoothstep(lo - 0.2, lo, fine) * smoothstep(hi + 0.2, hi, fine)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(fine))])
    first_gap = cumulative[-1] / (spec.n_head_rows + 0.5)
    targets = np.linspace(first_gap, cumulative[-1], spec.n_head_rows)
    phi = np.interp(targets, cumulative, fine)
    for target in snap:
        phi[np.argmin(np.abs(phi - target))] = target
    return phi


def build_grid(spec: HeadSpec, eye: tuple[float, float, float], mouth: tuple[float, float]) -> HeadGrid:
    """Build the grid. eye = (phi, theta_inner, theta_outer) of the left eye slit (the right one
    mirrors it); mouth = (phi, theta_corner)."""
    eye_phi, eye_inner, eye_outer = eye
    mouth_phi, mouth_corner = mouth
    col_theta = column_angles(spec, [eye_inner, eye_outer, mouth_corner])
    row_phi = row_angles(spec, [eye_phi, mouth_phi])
    n_cols, n_head = spec.n_columns, spec.n_head_rows
    n_rows = n_head + spec.n_neck_rows

    def col_of(t: float) -> int:
        return int(np.argmin(np.abs(col_theta - t)))

    eye_row, mouth_row = int(np.argmin(np.abs(row_phi - eye_phi))), int(np.argmin(np.abs(row_phi - mouth_phi)))
    slits = (
        Slit("left_eye", eye_row, col_of(eye_inner), col_of(eye_outer)),
        Slit("right_eye", eye_row, col_of(-eye_outer), col_of(-eye_inner)),
        Slit("mouth", mouth_row, col_of(-mouth_corner), col_of(mouth_corner)),
    )

    rows = np.repeat(np.arange(n_rows), n_cols)
    cols = np.tile(np.arange(n_cols), n_rows)
    # Vertex 0 is the crown pole; grid vertex (r, c) is 1 + r * n_cols + c.
    theta = [np.zeros(1), col_theta[cols]]
    phi = [np.zeros(1), np.where(rows < n_head, row_phi[np.minimum(rows, n_head - 1)], spec.jaw_polar_angle)]
    neck = [np.zeros(1), np.clip((rows - n_head + 1) / spec.n_neck_rows, 0.0, 1.0)]
    row_l, col_l, lower = [np.array([-1]), rows], [np.array([0]), cols], [np.array([False]), np.zeros(rows.size, bool)]
    index_above = 1 + np.arange(n_rows * n_cols).reshape(n_rows, n_cols)  # used by faces above a row
    index_below = index_above.copy()  # used by faces below a row
    next_index = 1 + n_rows * n_cols
    for slit in slits:
        interior = np.arange(slit.col_lo + 1, slit.col_hi)
        copies = next_index + np.arange(interior.size)
        next_index += interior.size
        index_below[slit.row, interior] = copies
        theta.append(col_theta[interior])
        phi.append(np.full(interior.size, row_phi[slit.row]))
        neck.append(np.zeros(interior.size))
        row_l.append(np.full(interior.size, slit.row))
        col_l.append(interior)
        lower.append(np.ones(interior.size, bool))

    faces = []
    nxt = np.roll(np.arange(n_cols), -1)
    for c in range(n_cols):  # crown fan
        faces.append([0, index_above[0, c], index_above[0, nxt[c]]])
    for r in range(n_rows - 1):
        a, c_ = index_below[r], index_below[r][nxt]
        b, d = index_above[r + 1], index_above[r + 1][nxt]
        faces.extend(np.stack([a, b, c_], 1))
        faces.extend(np.stack([c_, b, d], 1))
    faces = np.asarray(faces, dtype=np.int64)

    theta_all, row_all = np.concatenate(theta), np.concatenate(row_l)
    # UVs: longitude across, rows down, head in the upper part of the atlas. Faces that cross the
    # seam at the back (theta = -pi) use a second UV for column 0 at u = 1.
    u = 0.5 + theta_all / (2.0 * np.pi)
    v_span = 1.0 - spec.uv_head_bottom
    v = 1.0 - v_span * (row_all + 1) / n_rows
    uv = np.stack([u, v], 1)
    seam_cols = np.concatenate(col_l) == 0
    seam_uv = uv[seam_cols].copy()
    seam_uv[:, 0] = 1.0
    seam_index = np.full(len(u), -1)
    seam_index[seam_cols] = len(u) + np.arange(seam_cols.sum())
    uv_faces = faces.copy()
    crosses = np.zeros(len(faces), bool)
    cols_all = np.concatenate(col_l)
    for k in range(3):
        crosses |= cols_all[faces[:, k]] == n_cols - 1
    fix = crosses[:, None] & seam_cols[faces] & (faces != 0)
    uv_faces[fix] = seam_index[faces[fix]]
    return HeadGrid(
        theta=theta_all, phi=np.concatenate(phi), neck=np.concatenate(neck), row=row_all,
        col=cols_all, lower_copy=np.concatenate(lower), faces=faces,
        uv=np.concatenate([uv, seam_uv]), uv_faces=uv_faces, row_phi=row_phi,
        column_theta=col_theta, slits=slits,
    )


def open_slits(grid: HeadGrid, shifts: dict[str, tuple[np.ndarray, np.ndarray]], reach: float = 3.0) -> np.ndarray:
    """Polar angles (Vg,) with each slit opened.

    shifts[name] = (up, down): (Vg,) polar-angle shifts of the upper edge (towards the crown) and
    lower edge at each vertex's longitude, zero outside the slit. Rows near the slit move with it,
    fading over `reach` times the shift so rows never cross.
    """
    phi = grid.phi.copy()
    for slit in grid.slits:
        if slit.name not in shifts:
            continue
        up, down = shifts[slit.name]
        slit_phi = grid.row_phi[slit.row]
        head = grid.neck == 0
        above = head & ~grid.lower_copy & (grid.phi <= slit_phi)
        below = head & (grid.lower_copy | (grid.phi > slit_phi))
        d_above = (slit_phi - grid.phi) / np.maximum(reach * up, 1e-12)
        d_below = (grid.phi - slit_phi) / np.maximum(reach * down, 1e-12)
        phi = np.where(above, phi - up * np.clip(1.0 - d_above, 0.0, 1.0) ** 2, phi)
        phi = np.where(below, phi + down * np.clip(1.0 - d_below, 0.0, 1.0) ** 2, phi)
    return phi
