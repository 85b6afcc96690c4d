"""FaceModel's 68 landmarks and joints for the cost of the few vertices they are made of.

A fitter needs only landmarks, yet the full model blends, poses and skins every vertex (5023 in
FLAME, ~10k in the stand-in) per step. Each FLAME vertex depends only on its own rows of the
blendshapes, pose correctives, skinning weights and eyelid offsets, plus the joints; so the same
math on the ~500 vertices of the embedding's faces gives the same landmarks. The joints regress
the shaped mesh, which is linear in the shape and expression coefficients: their regression of
the template and of every direction is done once here, so no step touches the full mesh.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch
from smplx.lbs import batch_rigid_transform, batch_rodrigues, blend_shapes
from torch import nn

from .errors import AssetError
from .model import FaceModel, batch_size, checked_parameter, padded_parameter

_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # FaceModel -> its LandmarkModel


@dataclass
class LandmarkOutput:
    """landmarks (B, 68, 3) in iBUG order, joints (B, 5, 3) [global, neck, jaw, left eye, right
    eye]: FaceOutput without the vertices."""

    landmarks: torch.Tensor
    joints: torch.Tensor


def blended(coefficients: torch.Tensor | None, dirs: torch.Tensor) -> torch.Tensor | float:
    """coefficients (B, K) of the first K of dirs (N, 3, D) -> offsets (B, N, 3); 0 for None.
    Directions past K are never multiplied (a fitter uses a third of the shape space)."""
    return 0.0 if coefficients is None else blend_shapes(coefficients, dirs[..., : coefficients.shape[1]])


def skin(rest: torch.Tensor, rotations: torch.Tensor, joints: torch.Tensor, parents: torch.Tensor,
         posedirs: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """smplx's linear blend skinning from the shaped vertices on, for any subset of vertices.

    rest (B, U, 3) shaped vertices, rotations (B, J, 3, 3), joints (B, J, 3) shaped-mesh joints,
    parents (J,), posedirs (9 (J-1), U*3) pose correctives, weights (U, J) ->
    (posed vertices (B, U, 3), posed joints (B, J, 3))."""
    batch = rest.shape[0]
    identity = torch.eye(3, dtype=rest.dtype, device=rest.device)
    pose_feature = (rotations[:, 1:] - identity).reshape(batch, -1)
    posed_rest = rest + (pose_feature @ posedirs).view(batch, -1, 3)
    posed_joints, relative = batch_rigid_transform(rotations, joints, parents, dtype=rest.dtype)
    # Each vertex's transform is its weighted sum of the joints' (only the 3 x 4 affine rows matter).
    per_vertex = (weights @ relative[:, :, :3].flatten(2)).view(batch, -1, 3, 4)
    posed = (per_vertex[..., :3] @ posed_rest[..., None]).squeeze(-1) + per_vertex[..., 3]
    return posed, posed_joints


class LandmarkModel(nn.Module):
    """FaceModel.forward's landmarks and joints, to float32 round-off, from the U vertices the
    landmark embedding uses (every contour row, so any yaw). Same parameters as FaceModel; shape
    and expression are not padded, so only the directions given are blended."""

    def __init__(self, face_model: FaceModel) -> None:
        super().__init__()
        if face_model.landmark_embedding is None:
            raise AssetError("the face model has no landmark embedding (FLAME's landmark files)")
        flame = face_model.flame
        vertex_ids, self.embedding = face_model.landmark_embedding.restricted()
        n_vertices = flame.v_template.shape[0]
        self.n_shape, self.n_expression = face_model.n_shape, face_model.n_expression
        self.has_eyelids = face_model.has_eyelids
        self.assets = face_model.assets
        # The joints regress template + dirs @ coefficients: regress each term once (in float64,
        # so the products are as exact as smplx's regression of the summed mesh).
        regressor = flame.J_regressor.double()
        regress = lambda dirs: torch.einsum("jv,vcd->jcd", regressor, dirs.double()).to(dirs.dtype)  # noqa: E731
        buffers = dict(
            vertex_ids=vertex_ids, v_template=flame.v_template[vertex_ids],
            shapedirs=flame.shapedirs[vertex_ids], expr_dirs=flame.expr_dirs[vertex_ids],
            posedirs=flame.posedirs.view(-1, n_vertices, 3)[:, vertex_ids].reshape(flame.posedirs.shape[0], -1),
            lbs_weights=flame.lbs_weights[vertex_ids], eyelid_dirs=face_model.eyelid_dirs[:, vertex_ids],
            joint_template=(regressor @ flame.v_template.double()).to(flame.v_template.dtype),
            joint_shapedirs=regress(flame.shapedirs), joint_expr_dirs=regress(flame.expr_dirs), parents=flame.parents,
        )
        for name, value in buffers.items():
            self.register_buffer(name, value.contiguous(), persistent=False)

    @classmethod
    def of(cls, face_model: FaceModel) -> LandmarkModel:
        """The face model's landmark model, built once per face model (on its device and dtype of
        that moment) and kept while the face model lives."""
        if face_model not in _BUILT:
            _BUILT[face_model] = cls(face_model)
        return _BUILT[face_model]

    def _coefficients(self, value, max_width: int, name: str, batch: int) -> torch.Tensor | None:
        return None if value is None else checked_parameter(value, batch, max_width, name, self.v_template)

    def forward(self, shape=None, expression=None, jaw=None, pose=None, eyelids=None,
                neck=None, eyes=None, translation=None, contour: str = "nearest") -> LandmarkOutput:
        """Parameters as FaceModel.forward; contour "nearest" or "blend" (LandmarkEmbedding.forward)."""
        batch = batch_size(shape, expression, jaw, pose, eyelids, neck, eyes, translation)
        param = lambda value, width, name: padded_parameter(value, batch, width, name, self.v_template)  # noqa: E731
        eyelids = param(eyelids, 2, "eyelids")
        if not self.has_eyelids and bool(torch.any(eyelids != 0)):
            raise AssetError("eyelid parameters given but the assets have no l_eyelid.npy / r_eyelid.npy")
        shape = self._coefficients(shape, self.n_shape, "shape", batch)
        expression = self._coefficients(expression, self.n_expression, "expression", batch)
        shaped = lambda template, shape_dirs, expr_dirs: (  # noqa: E731
            template + blended(shape, shape_dirs) + blended(expression, expr_dirs)).expand(batch, -1, -1)
        rest = shaped(self.v_template, self.shapedirs, self.expr_dirs)
        joints = shaped(self.joint_template, self.joint_shapedirs, self.joint_expr_dirs)
        # smplx's joint order: global, neck, jaw, left eye, right eye.
        full_pose = torch.cat([param(pose, 3, "pose"), param(neck, 3, "neck"), param(jaw, 3, "jaw"), param(eyes, 6, "eyes")], 1)
        rotations = batch_rodrigues(full_pose.view(-1, 3)).view(batch, -1, 3, 3)
        posed, posed_joints = skin(rest, rotations, joints, self.parents, self.posedirs, self.lbs_weights)
        shift = param(translation, 3, "translation")[:, None]
        # Eyelids after skinning, as in FaceModel.
        vertices = posed + shift + torch.einsum("bk,kvc->bvc", eyelids, self.eyelid_dirs)
        return LandmarkOutput(landmarks=self.embedding(vertices, full_pose, contour), joints=posed_joints + shift)
