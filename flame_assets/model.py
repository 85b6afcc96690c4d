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
from smplx.lbs import batch_rodrigues, find_dynamic_lmk_idx_and_bcoords, rot_mat_to_euler, vertices2landmarks
from torch import nn

from facial.flame_layout import N_EXPRESSION

from .assets import CONTOUR_MAX_YAW_DEG, FlameAssets
from .errors import AssetError
from .smplx_cache import smplx_folder

CONTOUR_MODES = ("nearest", "blend")


def contour_rows(yaw_deg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """yaw (B,) degrees -> rows (B,) of FLAME's dynamic-contour table either side of it and the
    weight (B,) of the upper one. Rows 0..39 hold yaw 0..39, rows 40..78 yaw -1..-39."""
    yaw = yaw_deg.clamp(-CONTOUR_MAX_YAW_DEG, CONTOUR_MAX_YAW_DEG)
    low = torch.floor(yaw)
    high = torch.clamp(low + 1, max=CONTOUR_MAX_YAW_DEG)
    row = lambda y: torch.where(y >= 0, y, CONTOUR_MAX_YAW_DEG - y).long()  # noqa: E731
    return row(low), row(high), yaw - low


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

    def _param(self, value: torch.Tensor | None, batch: int, width: int, name: str, max_width: int | None = None) -> torch.Tensor:
        dtype, device = self.eyelid_dirs.dtype, self.eyelid_dirs.device
        if value is None:
            return torch.zeros(batch, width, dtype=dtype, device=device)
        value = torch.as_tensor(value, dtype=dtype, device=device)
        if value.ndim != 2 or value.shape[0] != batch or value.shape[1] > (max_width or width):
            raise ValueError(f"{name} must have shape ({batch}, <={max_width or width}), got {tuple(value.shape)}")
        if value.shape[1] < width:
            value = torch.nn.functional.pad(value, (0, width - value.shape[1]))
        return value

    def forward(self, shape=None, expression=None, jaw=None, pose=None, eyelids=None,
                neck=None, eyes=None, translation=None, contour: str = "nearest") -> FaceOutput:
        """contour: "nearest" picks the jaw-line row of the yaw rounded to a degree, as FLAME and
        smplx do; "blend" interpolates the two rows either side, so the jaw-line landmarks move
        continuously with yaw (what a fitter's gradient needs)."""
        given = [t for t in (shape, expression, jaw, pose, eyelids, neck, eyes, translation) if t is not None]
        batch = int(torch.as_tensor(given[0]).shape[0]) if given else 1
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
        if self.assets.has_landmarks:  # recomputed on the final vertices, so lids move them
            if contour == "blend":
                landmarks = self._blended_landmarks(vertices, out.full_pose)
            elif contour == "nearest":
                faces_idx, bary = self._landmark_embedding(batch, out.vertices, out.full_pose)
                landmarks = vertices2landmarks(vertices, self.flame.faces_tensor, faces_idx, bary)
            else:
                raise ValueError(f"contour must be one of {CONTOUR_MODES}, got {contour!r}")
        return FaceOutput(vertices=vertices, landmarks=landmarks, joints=joints)

    def head_yaw_degrees(self, full_pose: torch.Tensor) -> torch.Tensor:
        """full_pose (B, J*3) -> (B,) yaw of the head along the neck chain, in smplx's sign."""
        batch = full_pose.shape[0]
        chain = self.flame.neck_kin_chain
        rotations = batch_rodrigues(full_pose.view(batch, -1, 3)[:, chain].reshape(-1, 3)).view(batch, -1, 3, 3)
        relative = torch.eye(3, dtype=full_pose.dtype, device=full_pose.device).expand(batch, 3, 3)
        for k in range(rotations.shape[1]):
            relative = rotations[:, k] @ relative
        return -rot_mat_to_euler(relative) * 180.0 / np.pi

    def _blended_landmarks(self, vertices: torch.Tensor, full_pose: torch.Tensor) -> torch.Tensor:
        batch = vertices.shape[0]
        low, high, weight = contour_rows(self.head_yaw_degrees(full_pose))
        faces_tensor = self.flame.faces_tensor
        table_faces, table_bary = self.flame.dynamic_lmk_faces_idx, self.flame.dynamic_lmk_bary_coords
        at = lambda rows: vertices2landmarks(vertices, faces_tensor, table_faces[rows], table_bary[rows])  # noqa: E731
        contour = (1.0 - weight)[:, None, None] * at(low) + weight[:, None, None] * at(high)
        static = vertices2landmarks(vertices, faces_tensor, self.flame.lmk_faces_idx.unsqueeze(0).repeat(batch, 1),
                                    self.flame.lmk_bary_coords.unsqueeze(0).repeat(batch, 1, 1))
        return torch.cat([contour, static], 1)

    def _landmark_embedding(self, batch: int, vertices: torch.Tensor, full_pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Faces (B, 68) and barycentrics (B, 68, 3) in iBUG order for this batch's head yaw."""
        contour_faces, contour_bary = find_dynamic_lmk_idx_and_bcoords(
            vertices, full_pose, self.flame.dynamic_lmk_faces_idx, self.flame.dynamic_lmk_bary_coords,
            self.flame.neck_kin_chain, pose2rot=True)
        static_faces = self.flame.lmk_faces_idx.unsqueeze(0).expand(batch, -1)
        static_bary = self.flame.lmk_bary_coords.unsqueeze(0).expand(batch, -1, -1)
        return torch.cat([contour_faces, static_faces], 1), torch.cat([contour_bary, static_bary], 1)
