"""Hair that falls past the scalp (pure numpy): a curtain from the crown round the back and sides
of the head down to the jaw line, over the ears, open at the face. The hair cap painted on the
scalp cannot do this: it is the skin pushed out, so it ends where the scalp ends.

Drawn like the body: a separate object whose shape is made once per sample from the onset head
(in the head's local frame, see render.body.to_local) and then moved rigidly with the head, so
its flow targets are exact. The curtain starts buried inside the head below the crown and hangs
down from the widest point above each of its rows (hair falls; it does not follow the skull in
under the occiput), a clearance off whatever it passes: skin, cap or ears.

Grid: ROWS from the top down, COLUMNS from the subject's right front edge round the back to the
left one. Azimuth is measured about the head's vertical axis from its forward direction (+z).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

COLUMNS = 96
ROWS = 36
VERTICES = ROWS * COLUMNS
BURY = 0.010  # m the top row sits inside the head's envelope: the curtain grows out of the cap
CLEARANCE = 0.005  # m the hanging hair keeps off what lies under it
LIFT_SHARE = 0.15  # share of the rows over which the hair comes out from buried to clear
SMOOTH_COLUMNS = 4  # half-widths of the max-then-mean filters round the head and down it: no dents
SMOOTH_ROWS = 9  # between bins, and the bulge over the ears starts above them instead of as a step
INWARD_SLOPE = 0.3  # below its widest point the hair falls in towards the jaw by this much per metre down
EDGE_CURL = 0.012  # m the front edges turn in towards the face, so no paper-thin edge shows
EDGE_CURL_COLUMNS = 4  # columns over which they turn
EDGE_SINK = 0.001  # m the front edges end inside what is under them: they lie on the cheek, with no
# shadowed gap between hair and skin that reads as a black line down the face
EDGE_CLOSED_ROWS = (0.7, 0.9)  # share of the rows over which the edges come off the skin again
END_TUCK = 0.008  # m the ends curl under
END_ROWS = 4
EDGE_SWEEP_DEG = 35.0  # the front edges start this much further back at the top...
EDGE_SWEEP_SHARE = 0.45  # ...and come forward to front_deg over this share of the rows
CROWN_DROP = 0.015  # m below the top of the head where the buried top row runs
ENDS_BELOW_CHIN = 0.005  # m: a bob's ends, just below the jaw line


@dataclass(frozen=True)
class HairCut:
    """Where the curtain hangs, in the head's local frame (metres, degrees)."""

    top_y: float  # height of the buried top row
    bottom_y: float  # height of the ends
    front_deg: float = 80.0  # azimuth of its front edges from the face's forward direction


def bob_cut(head: np.ndarray, chin: np.ndarray) -> HairCut:
    """The cut of a jaw-length bob for a head (V, 3) and its chin landmark (3,), local frame."""
    return HairCut(top_y=float(head[:, 1].max()) - CROWN_DROP, bottom_y=float(chin[1]) - ENDS_BELOW_CHIN)


def hair_faces() -> np.ndarray:
    """(F, 3) triangles of the ROWS x COLUMNS grid (not closed round: the face is open)."""
    r, c = np.meshgrid(np.arange(ROWS - 1), np.arange(COLUMNS - 1), indexing="ij")
    a = r * COLUMNS + c
    b, d = a + 1, a + COLUMNS
    return np.concatenate([np.stack([a, d, b], -1).reshape(-1, 3), np.stack([b, d, d + 1], -1).reshape(-1, 3)])


def curtain_azimuths(front_deg: float) -> np.ndarray:
    """(ROWS, COLUMNS) radians, each row from its front edge on the subject's left (+x) round the
    back to the one on the right. The edges sweep forward down the head: the hair leaves the cap
    behind the temples, so no edge runs up beside the forehead."""
    rows = np.arange(ROWS) / (ROWS - 1)
    front = np.radians(front_deg + EDGE_SWEEP_DEG * (1.0 - _smoothstep(0.0, EDGE_SWEEP_SHARE, rows)))
    steps = np.linspace(0.0, 1.0, COLUMNS)
    return front[:, None] + steps[None, :] * (2.0 * np.pi - 2.0 * front[:, None])


def envelope(points: np.ndarray, axis: np.ndarray, heights: np.ndarray, azimuths: np.ndarray) -> np.ndarray:
    """The farthest any of points (N, 3) lies from the vertical axis (x, z) (2,) near each row height
    (R,) and grid azimuth (R, C) -> (R, C) metres (0 where no point is near). "Near" is half a row
    either way in height and a whole column's step in azimuth, so neighbouring bins overlap."""
    dx, dz = points[:, 0] - axis[0], points[:, 2] - axis[1]
    radius, azimuth = np.hypot(dx, dz), np.arctan2(dx, dz) % (2.0 * np.pi)
    dy = abs(heights[1] - heights[0])
    row = np.rint((heights[0] - points[:, 1]) / (heights[0] - heights[-1]) * (len(heights) - 1)).astype(int)
    inside = (row >= 0) & (row < len(heights))
    row, radius, azimuth, y = row[inside], radius[inside], azimuth[inside], points[inside, 1]
    near_height = np.abs(y - heights[row]) <= dy
    step = np.abs(azimuths[:, 1] - azimuths[:, 0])[row]
    out = np.zeros(azimuths.shape)
    for j in range(azimuths.shape[1]):
        near = near_height & (np.abs((azimuth - azimuths[row, j] + np.pi) % (2.0 * np.pi) - np.pi) <= step)
        np.maximum.at(out[:, j], row[near], radius[near])
    return out


def curtain_vertices(head: np.ndarray, cut: HairCut) -> np.ndarray:
    """head (V, 3) the head's surface with its hair cap, local frame -> (ROWS * COLUMNS, 3) local
    vertices of the curtain, row-major (row 0 at cut.top_y)."""
    skull = head[head[:, 1] > cut.top_y - 0.5 * (cut.top_y - cut.bottom_y)]
    axis = np.array([0.5 * (skull[:, 0].max() + skull[:, 0].min()), 0.5 * (skull[:, 2].max() + skull[:, 2].min())])
    heights = np.linspace(cut.top_y, cut.bottom_y, ROWS)
    azimuths = curtain_azimuths(cut.front_deg)
    under = envelope(head, axis, heights, azimuths)
    hanging = _hang(under, INWARD_SLOPE * abs(heights[1] - heights[0]))
    radius = _smooth_above(_smooth_above(hanging, SMOOTH_COLUMNS, axis=1), SMOOTH_ROWS, axis=0)
    rows = np.arange(ROWS) / (ROWS - 1)
    tuck = END_TUCK * _smoothstep((ROWS - END_ROWS) / (ROWS - 1), 1.0, rows)
    columns = np.arange(COLUMNS)
    from_edge = np.minimum(columns, COLUMNS - 1 - columns)
    curl = EDGE_CURL * (1.0 - _smoothstep(0.0, EDGE_CURL_COLUMNS, from_edge))
    # Ends and edges turn in, but only until they would touch what is under them.
    radius = np.maximum(radius + CLEARANCE - tuck[:, None] - curl[None, :], under + 0.5 * CLEARANCE)
    # The very edges close onto it (where there is something under them), down to the jaw: below
    # it they would follow the skin in under the chin.
    onto = (curl / EDGE_CURL)[None, :] ** 2 * (1.0 - _smoothstep(*EDGE_CLOSED_ROWS, rows))[:, None] * (under > 0)
    radius += onto * (under - EDGE_SINK - radius)
    # The top grows out of the head: from BURY inside what is under it to the hanging radius.
    buried = np.minimum(radius, under - BURY)
    radius = buried + (radius - buried) * _smoothstep(0.0, LIFT_SHARE, rows)[:, None]
    x = axis[0] + radius * np.sin(azimuths)
    z = axis[1] + radius * np.cos(azimuths)
    y = np.broadcast_to(heights[:, None], radius.shape)
    return np.stack([x, y, z], -1).reshape(-1, 3)


def _hang(envelope: np.ndarray, fall_in: float) -> np.ndarray:
    """(R, C) radii that never come in faster than fall_in metres a row, nor inside envelope (R, C)."""
    out = envelope.copy()
    for i in range(1, len(out)):
        out[i] = np.maximum(out[i], out[i - 1] - fall_in)
    return out


def _smooth_above(values: np.ndarray, half_width: int, axis: int) -> np.ndarray:
    """A max filter then a mean of the same width along axis: smooth, and never below values."""
    width = 2 * half_width + 1
    return uniform_filter1d(maximum_filter1d(values, width, axis=axis, mode="nearest"), width, axis=axis, mode="nearest")


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((np.asarray(x, float) - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
