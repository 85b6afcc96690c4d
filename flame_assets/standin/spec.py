"""Named dimensions of the stand-in head, in metres (FLAME's unit), y up, z forward, +x = subject's left.

Anthropometry is rounded from adult averages; these are the only numbers that shape the head.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facial.flame_layout import JOINT_NAMES  # noqa: F401  (re-exported: the stand-in's skeleton is FLAME's)

VERSION = 6  # 2: jaw underside, chin, thicker neck, eyeballs that follow identity bumps; 3: a real human head's surface and
# identity targets; 4: a neck by sex; 5: temples filled out; 6: adult mouth, nose and chin sizes (proportions.py)
SEED = 20260  # the generator's own seed: the stand-in is a fixed model, not a random draw


@dataclass(frozen=True)
class HeadSpec:
    # Topology.
    n_columns: int = 128  # around the head; denser at the front (see column_warp)
    n_head_rows: int = 72  # crown to under the jaw
    n_neck_rows: int = 8
    column_warp: float = 0.42  # share of linear spacing in theta(u); lower = denser front
    row_band: tuple[float, float] = (0.95, 2.25)  # polar angles (rad) that get denser rows (the face)
    row_band_density: float = 2.2
    # Cranium as a superellipsoid.
    half_width: float = 0.074
    half_height: float = 0.108
    half_depth: float = 0.097
    superellipse_power: float = 2.3  # > 2 flattens face and sides
    jaw_polar_angle: float = 2.45  # last head row; the neck starts here
    jaw_taper: float = 0.13  # how much narrower the jaw is than the cranium
    nape_lift: float = 0.10  # share by which the last head row rises at the back of the head
    chin_forward: float = 0.012  # the chin stands this far forward of the bare cranium's curve
    submental_flatness: float = 1.0  # how level the underside of the jaw runs back before the neck drops
    # Neck: an elliptic tube that ends open, like FLAME's.
    neck_center_z: float = -0.020
    neck_half_width: float = 0.057  # androgynous: 11.4 cm across; the sex corners move it (shape_space.NECK_GIRTH)
    neck_half_depth: float = 0.057
    neck_bottom_y: float = -0.175
    # Eyes.
    eye_center_x: float = 0.0315
    eye_center_y: float = 0.004
    eye_half_width: float = 0.0145  # corner to centre
    eye_upper_opening: float = 0.0052  # upper lid above the slit, at the eye's middle: it covers the top 1 mm of the iris
    eye_lower_opening: float = 0.0045  # the lower lid at the iris's lower edge (adult margin-to-reflex distances: 4-5 mm each)
    eyeball_radius: float = 0.0120
    eyeball_protrusion: float = 0.0010  # cornea apex in front of the un-wrapped face surface
    lid_thickness: float = 0.0012
    eye_socket_half_width: float = 0.017  # the skin pulled onto the lid sphere: the lids, not the whole socket
    eye_socket_half_height: float = 0.011
    eyeball_rings: int = 12
    eyeball_segments: int = 20
    # Mouth.
    mouth_y: float = -0.0615
    mouth_half_width: float = 0.0255
    mouth_gap: float = 0.0003  # lips touch in the neutral face
    lip_roll_depth: float = 0.0035  # lip line recess
    # Ears (see ears.py): the middle of the root line, the shell's size and how it stands off.
    ear_center_y: float = -0.008
    ear_root_z: float = -0.008
    ear_height: float = 0.060
    ear_width: float = 0.030
    ear_thickness: float = 0.0025
    ear_rim_height: float = 0.0035
    ear_concha_depth: float = 0.007
    ear_protrusion_deg: float = 28.0  # angle between the ear and the side of the head
    ear_lean_deg: float = 12.0  # backwards tilt of the ear's long axis
    # Joints (FLAME order: global, neck, jaw, left eye, right eye).
    neck_joint_y: float = -0.062
    jaw_joint_y: float = -0.022
    jaw_joint_z: float = -0.005
    jaw_hinge_x: float = 0.052
    # Texture atlas: head in the upper part; two eye discs, then two ear charts, at the bottom.
    uv_head_bottom: float = 0.12
    uv_eye_size: float = 0.10
    uv_ear_box: tuple[float, float, float, float] = (0.24, 0.0, 0.605, 0.11)  # left ear; the right one follows


SPEC = HeadSpec()



def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """Hermite step from 0 at edge0 to 1 at edge1 (edges may be in either order)."""
    t = np.clip((np.asarray(x, dtype=np.float64) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def gaussian2d(x: np.ndarray, y: np.ndarray, cx: float, cy: float, sx: float, sy: float) -> np.ndarray:
    return np.exp(-0.5 * (((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2))
