"""Synthetic faces with known parameters, projected to landmarks, for fitting tests."""
from __future__ import annotations

import numpy as np
import torch

from facial.flame_layout import N_EXPRESSION, N_SHAPE
from pipeline.fitting.fitter import FitResult
from pipeline.fitting.projection import project

IMAGE_SIDE = 512
TRUTH_SHAPE_DIRECTIONS = 20  # synthetic faces use only the first directions of each space
TRUTH_EXPRESSION_DIRECTIONS = 18


def tensors(**arrays) -> dict:
    return {k: torch.tensor(v, dtype=torch.float32) for k, v in arrays.items()}


def synthetic_faces(model, batch: int, seed: int, yaw_std_deg: float = 20.0) -> FitResult:
    """Moderate identities, expressions and head poses, seen by a camera that makes the face
    about half of a 512-pixel image wide: the truth a fit should find, as a FitResult."""
    rng = np.random.default_rng(seed)
    shape = np.zeros((batch, N_SHAPE))
    shape[:, :TRUTH_SHAPE_DIRECTIONS] = rng.normal(0, 1, (batch, TRUTH_SHAPE_DIRECTIONS))
    expression = np.zeros((batch, N_EXPRESSION))
    expression[:, :TRUTH_EXPRESSION_DIRECTIONS] = np.abs(rng.normal(0, 0.5, (batch, TRUTH_EXPRESSION_DIRECTIONS)))
    jaw = np.zeros((batch, 3))
    jaw[:, 0] = rng.uniform(0, 0.15, batch)
    pose = np.deg2rad(rng.normal(0, [8.0, yaw_std_deg, 5.0], (batch, 3)))
    eyelids = rng.uniform(0, 0.5, (batch, 2)) if model.has_eyelids else np.zeros((batch, 2))
    face_width = float(np.ptp(model.assets.v_template[:, 0]))
    camera = np.stack([rng.uniform(0.45, 0.55, batch) * IMAGE_SIDE / face_width,
                       rng.uniform(230, 280, batch), rng.uniform(230, 280, batch)], 1)
    with torch.no_grad():
        out = model(**tensors(shape=shape[:, :model.n_shape], expression=expression, jaw=jaw, pose=pose, eyelids=eyelids))
        landmarks = project(out.landmarks, torch.tensor(camera, dtype=torch.float32)).double().numpy()
    return FitResult(shape, expression, jaw, pose, eyelids, camera, landmarks, np.zeros(batch), out.vertices.double().numpy())


def expression_displacement(model, expression, jaw, eyelids) -> np.ndarray:
    """(B, 68, 3) how far the expression moves each landmark of the neutral head (what 68
    landmarks can tell about an expression)."""
    with torch.no_grad():
        moved = model(**tensors(expression=expression, jaw=jaw, eyelids=eyelids)).landmarks
        rest = model(**tensors(expression=np.zeros_like(expression))).landmarks
    return (moved - rest).double().numpy()
