"""Where FLAME's 68 landmarks sit on a mesh: 51 static faces plus 17 jaw-line faces chosen by yaw.

One definition serves the full mesh (FaceModel) and the sub-mesh of the faces the landmarks use
(LandmarkModel): the embedding only ever reads vertices of its own faces, so restricting it to
those vertices changes which numbers are stored, not what is computed.
"""
from __future__ import annotations

import numpy as np
import torch
from smplx.lbs import batch_rodrigues, find_dynamic_lmk_idx_and_bcoords, rot_mat_to_euler, vertices2landmarks
from torch import nn

from .assets import CONTOUR_MAX_YAW_DEG

CONTOUR_MODES = ("nearest", "blend")


def contour_rows(yaw_deg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """yaw (B,) degrees -> rows (B,) of FLAME's dynamic-contour table either side of it and the
    weight (B,) of the upper one. Rows 0..39 hold yaw 0..39, rows 40..78 yaw -1..-39."""
    yaw = yaw_deg.clamp(-CONTOUR_MAX_YAW_DEG, CONTOUR_MAX_YAW_DEG)
    low = torch.floor(yaw)
    high = torch.clamp(low + 1, max=CONTOUR_MAX_YAW_DEG)
    row = lambda y: torch.where(y >= 0, y, CONTOUR_MAX_YAW_DEG - y).long()  # noqa: E731
    return row(low), row(high), yaw - low


def head_yaw_degrees(full_pose: torch.Tensor, neck_kin_chain: torch.Tensor) -> torch.Tensor:
    """full_pose (B, J*3) axis-angle, neck_kin_chain (K,) joint ids -> (B,) yaw of the head along
    the neck chain, in smplx's sign."""
    batch = full_pose.shape[0]
    rotations = batch_rodrigues(full_pose.view(batch, -1, 3)[:, neck_kin_chain].reshape(-1, 3)).view(batch, -1, 3, 3)
    relative = torch.eye(3, dtype=full_pose.dtype, device=full_pose.device).expand(batch, 3, 3)
    for k in range(rotations.shape[1]):
        relative = rotations[:, k] @ relative
    return -rot_mat_to_euler(relative) * 180.0 / np.pi


class LandmarkEmbedding(nn.Module):
    """faces (F, 3) vertex ids; static_faces (51,) ids into faces with static_bary (51, 3);
    contour_faces (79, 17) and contour_bary (79, 17, 3), one row per degree of yaw (see
    contour_rows); neck_kin_chain (K,) the joints whose rotations make the head's yaw.

    Buffers are not persistent: they are derived from the model files, never state to save."""

    def __init__(self, faces: torch.Tensor, static_faces: torch.Tensor, static_bary: torch.Tensor,
                 contour_faces: torch.Tensor, contour_bary: torch.Tensor, neck_kin_chain: torch.Tensor) -> None:
        super().__init__()
        for name, value in dict(faces=faces, static_faces=static_faces, static_bary=static_bary, contour_faces=contour_faces,
                                contour_bary=contour_bary, neck_kin_chain=neck_kin_chain).items():
            self.register_buffer(name, value, persistent=False)

    @classmethod
    def of_flame(cls, flame) -> LandmarkEmbedding:
        """The embedding smplx's FLAME (built with use_face_contour) holds, on its whole mesh."""
        return cls(flame.faces_tensor, flame.lmk_faces_idx, flame.lmk_bary_coords, flame.dynamic_lmk_faces_idx,
                   flame.dynamic_lmk_bary_coords, flame.neck_kin_chain)

    def restricted(self) -> tuple[torch.Tensor, LandmarkEmbedding]:
        """-> (vertex ids (U,) into the mesh, the same embedding on the sub-mesh of those U vertices).
        U covers the static faces and every contour row, so the sub-mesh serves any yaw."""
        n_static = self.static_faces.numel()
        used_faces, slot = torch.unique(torch.cat([self.static_faces, self.contour_faces.flatten()]), return_inverse=True)
        vertex_ids, local_faces = torch.unique(self.faces[used_faces], return_inverse=True)
        return vertex_ids, LandmarkEmbedding(local_faces, slot[:n_static], self.static_bary,
                                             slot[n_static:].view_as(self.contour_faces), self.contour_bary, self.neck_kin_chain)

    def forward(self, vertices: torch.Tensor, full_pose: torch.Tensor, contour: str = "nearest") -> torch.Tensor:
        """vertices (B, V, 3), full_pose (B, J*3) axis-angle -> landmarks (B, 68, 3) in iBUG order
        (17 jaw-line points, then the 51 static ones).

        contour: "nearest" picks the jaw-line row of the yaw rounded to a degree, as FLAME and
        smplx do; "blend" interpolates the two rows either side, so the jaw-line landmarks move
        continuously with yaw (what a fitter's gradient needs)."""
        batch = vertices.shape[0]
        static_faces = self.static_faces.repeat(batch, 1)  # vertices2landmarks views its indices flat
        static_bary = self.static_bary.unsqueeze(0).expand(batch, -1, -1)
        if contour == "nearest":
            contour_faces, contour_bary = find_dynamic_lmk_idx_and_bcoords(
                vertices, full_pose, self.contour_faces, self.contour_bary, self.neck_kin_chain, pose2rot=True)
            return vertices2landmarks(vertices, self.faces, torch.cat([contour_faces, static_faces], 1),
                                      torch.cat([contour_bary, static_bary], 1))
        if contour == "blend":
            low, high, weight = contour_rows(head_yaw_degrees(full_pose, self.neck_kin_chain))
            at = lambda rows: vertices2landmarks(vertices, self.faces, self.contour_faces[rows], self.contour_bary[rows])  # noqa: E731
            jaw_line = (1.0 - weight)[:, None, None] * at(low) + weight[:, None, None] * at(high)
            return torch.cat([jaw_line, vertices2landmarks(vertices, self.faces, static_faces, static_bary)], 1)
        raise ValueError(f"contour must be one of {CONTOUR_MODES}, got {contour!r}")
