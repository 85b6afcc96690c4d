"""A batched torch face model on FLAME files: parameters -> vertices, 68 landmarks, joints.

The math is smplx's FLAME (linear blend skinning with shape, expression and pose correctives);
this class adapts it to the parameter layout TEASER / SMIRK use and the dataset stores, adds
eyelid blendshapes after skinning as SMIRK does, and returns landmarks in iBUG-68 order.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from facial.flame_layout import N_EXPRESSION

from .assets import FlameAssets
from .embedding import LandmarkEmbedding
from .errors import AssetError
from .smplx_cache import smplx_folder


def batch_size(*parameters: torch.Tensor | None) -> int:
    """The batch of the first parameter given, 1 when none is."""
    given = [t for t in parameters if t is not None]
    return int(torch.as_tensor(given[0]).shape[0]) if given else 1


def checked_parameter(value, batch: int, max_width: int, name: str, like: torch.Tensor) -> torch.Tensor:
    """value (B, <=max_width) -> the same as a tensor of like's dtype and device, or a clear error."""
    value = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if value.ndim != 2 or value.shape[0] != batch or value.shape[1] > max_width:
        raise ValueError(f"{name} must have shape ({batch}, <={max_width}), got {tuple(value.shape)}")
    return value


def padded_parameter(value, batch: int, width: int, name: str, like: torch.Tensor) -> torch.Tensor:
    """value (B, <=width) or None -> (B, width), zero-padded (None: all zero)."""
    if value is None:
        return torch.zeros(batch, width, dtype=like.dtype, device=like.device)
    value = checked_parameter(value, batch, width, name, like)
    return torch.nn.functional.pad(value, (0, width - value.shape[1])) if value.shape[1] < width else value


@dataclass
class FaceOutput:
    """vertices (B, V, 3), landmarks (B, 68, 3) in iBUG order or None without an embedding,
    joints (B, 5, 3) [global, neck, jaw, left eye, right eye]."""

    vertices: torch.Tensor
    landmarks: torch.Tensor | None
    joints: torch.Tensor


class FaceModel(nn.Module):
    """FLAME evaluated with smplx. Parameters (all optional, default zero, batch B):

    shape (B, <=300), expression (B, <=n_expression), jaw (B, 3) axis-angle, pose (B, 3) global
    head rotation axis-angle, eyelids (B, 2) [left, right] in [0, 1], neck (B, 3), eyes (B, 6)
    [left, right] axis-angle, translation (B, 3).
    """

    def __init__(self, assets: FlameAssets, n_expression: int = N_EXPRESSION,
                 cache_dir: Path | None = None, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        import smplx

        if n_expression > assets.n_expression:
            raise AssetError(f"{assets.release} has {assets.n_expression} expression directions, "
                             f"{n_expression} were asked for")
        folder = smplx_folder(assets, cache_dir)
        self.assets = assets
        self.n_shape = assets.n_shape
        self.n_expression = n_expression
        self.flame = smplx.FLAME(
            model_path=str(folder), ext="npz", num_betas=assets.n_shape, num_expression_coeffs=n_expression,
            use_face_contour=assets.has_landmarks, create_betas=False, create_expression=False,
            create_global_orient=False, create_neck_pose=False, create_jaw_pose=False,
            create_leye_pose=False, create_reye_pose=False, create_transl=False, dtype=dtype,
        )
        eyelids = assets.eyelids if assets.eyelids is not None else np.zeros((2, assets.n_vertices, 3))
        self.register_buffer("eyelid_dirs", torch.tensor(eyelids, dtype=dtype))
        self.has_eyelids = assets.eyelids is not None
        self.landmark_embedding = LandmarkEmbedding.of_flame(self.flame) if assets.has_landmarks else None

    @property
    def faces(self) -> np.ndarray:
        """(F, 3) triangle vertex indices."""
        return self.assets.faces

    @property
    def uv(self) -> tuple[np.ndarray, np.ndarray] | None:
        """UV coordinates (T, 2) and per-face UV indices (F, 3), when the files carry them."""
        if self.assets.uv_coords is None:
            return None
        return self.assets.uv_coords, self.assets.uv_faces

    def _param(self, value: torch.Tensor | None, batch: int, width: int, name: str) -> torch.Tensor:
        return padded_parameter(value, batch, width, name, self.eyelid_dirs)

    def forward(self, shape=None, expression=None, jaw=None, pose=None, eyelids=None,
                neck=None, eyes=None, translation=None, contour: str = "nearest") -> FaceOutput:
        """contour: "nearest" or "blend", see LandmarkEmbedding.forward."""
        batch = batch_size(shape, expression, jaw, pose, eyelids, neck, eyes, translation)
        shape = self._param(shape, batch, self.n_shape, "shape")
        expression = self._param(expression, batch, self.n_expression, "expression")
        eyelids = self._param(eyelids, batch, 2, "eyelids")
        if not self.has_eyelids and bool(torch.any(eyelids != 0)):
            raise AssetError("eyelid parameters given but the assets have no l_eyelid.npy / r_eyelid.npy")
        eyes = self._param(eyes, batch, 6, "eyes")
        out = self.flame(
            betas=shape, expression=expression, global_orient=self._param(pose, batch, 3, "pose"),
            neck_pose=self._param(neck, batch, 3, "neck"), jaw_pose=self._param(jaw, batch, 3, "jaw"),
            leye_pose=eyes[:, :3], reye_pose=eyes[:, 3:], transl=self._param(translation, batch, 3, "translation"),
            return_full_pose=True,
        )
        # Eyelids after skinning, as SMIRK / TEASER do (their encoders were trained that way).
        vertices = out.vertices + torch.einsum("bk,kvc->bvc", eyelids, self.eyelid_dirs)
        joints = out.joints[:, : self.assets.parents.shape[0]]
        landmarks = None
        if self.landmark_embedding is not None:  # on the final vertices, so lids move them
            landmarks = self.landmark_embedding(vertices, out.full_pose, contour)
        return FaceOutput(vertices=vertices, landmarks=landmarks, joints=joints)
