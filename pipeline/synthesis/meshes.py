"""Evaluate the three states of a sample (onset, head, apex) with the face model, on the CPU."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from flame_assets.model import FaceModel

from .face_params import FaceParams


@dataclass(frozen=True)
class StateGeometry:
    """vertices (V, 3), landmarks (68, 3) or None, joints (5, 3), head rotation (3, 3)."""

    vertices: np.ndarray
    landmarks: np.ndarray | None
    joints: np.ndarray
    rotation: np.ndarray


@torch.no_grad()
def evaluate_states(model: FaceModel, states: dict[str, FaceParams]) -> dict[str, StateGeometry]:
    """One batched forward pass for all states (float64 numpy out)."""
    names = list(states)

    def stack(field: str) -> torch.Tensor:
        return torch.tensor(np.stack([getattr(states[n], field) for n in names]), dtype=torch.float32)

    out = model(shape=stack("shape"), expression=stack("expression"), jaw=stack("jaw"), pose=stack("pose"),
                eyelids=stack("eyelids") if model.has_eyelids else None)
    result = {}
    for b, name in enumerate(names):
        result[name] = StateGeometry(
            vertices=out.vertices[b].double().numpy(),
            landmarks=None if out.landmarks is None else out.landmarks[b].double().numpy(),
            joints=out.joints[b].double().numpy(),
            rotation=Rotation.from_rotvec(states[name].pose).as_matrix(),
        )
    return result


def eye_regions(weights: np.ndarray, faces: np.ndarray, vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eyeball faces (F,) bool; per vertex, the angle (V,) in radians from the eyeball's forward
    pole (0 elsewhere), which the eye material turns into pupil, iris and sclera; and the
    vertex's place on the eye's polar disc (V, 2), (angle / pi) (cos, sin) of its azimuth about
    the pole, which carries the iris and sclera detail. Eyeball vertices are those skinned
    entirely to an eye joint (FLAME joints 3 and 4)."""
    angle = np.zeros(len(vertices))
    disc = np.zeros((len(vertices), 2))
    eye_vertex = np.zeros(len(vertices), bool)
    for joint in (3, 4):
        members = weights[:, joint] > 0.99
        if members.sum() < 4:
            continue
        eye_vertex |= members
        center = vertices[members].mean(0)
        d = vertices[members] - center
        angle[members] = np.arccos(np.clip(d[:, 2] / np.linalg.norm(d, axis=1), -1.0, 1.0))
        azimuth = np.arctan2(d[:, 1], d[:, 0])
        disc[members] = (angle[members] / np.pi)[:, None] * np.stack([np.cos(azimuth), np.sin(azimuth)], -1)
    return eye_vertex[faces].all(1), angle, disc
