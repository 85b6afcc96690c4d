"""The FLAME parameter layout that MEFlow fits, renders and stores, defined once.

A face is `shape` (identity, never scaled), `expression`, `jaw` (axis-angle), `pose` (global head
rotation, axis-angle) and `eyelids` (closure [left, right] in [0, 1]), as TEASER / SMIRK output
them. A sample has three states of one face (paper eq. 1-3) and four scales.
"""
from __future__ import annotations

N_SHAPE = 300  # FLAME's identity space
N_EXPRESSION = 50  # expression directions used (FLAME ships 100; TEASER / SMIRK use the first 50)
FACE_PARAMS: dict[str, int] = {"shape": N_SHAPE, "expression": N_EXPRESSION, "jaw": 3, "pose": 3, "eyelids": 2}

# FLAME's kinematic tree, in its joint order.
JOINT_NAMES = ("global", "neck", "jaw", "left_eye", "right_eye")
JAW_JOINT = JOINT_NAMES.index("jaw")

# onset (eq. 1); head: the onset expression with the apex head pose (eq. 2); apex (eq. 3).
STATES = ("onset", "head", "apex")
# s_on^e, s_on^p, s_apex^e, s_apex^p: the order of a sample's scales wherever they are stored.
SCALE_NAMES = ("onset_expression", "onset_pose", "apex_expression", "apex_pose")
SCALE_SYMBOLS = ("s_on^e", "s_on^p", "s_apex^e", "s_apex^p")
