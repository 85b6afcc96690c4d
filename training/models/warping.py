"""Pixel grids, backward warping and convex upsampling: the geometry every warping iteration uses."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_grid(batch: int, height: int, width: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """-> (B, 2, H, W) pixel coordinates (x, y) of every pixel centre."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                            torch.arange(width, device=device, dtype=dtype), indexing="ij")
    return torch.stack((xs, ys)).unsqueeze(0).expand(batch, -1, -1, -1)


def backward_warp(features: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """features (B, C, H, W) of the second frame, flow (B, 2, H, W) first -> second in pixels
    -> (B, C, H, W): the second frame's features pulled back onto the first frame's grid
    (bilinear; samples outside the image read the border)."""
    batch, _, height, width = features.shape
    target = pixel_grid(batch, height, width, flow.device, flow.dtype) + flow
    # grid_sample wants (x, y) in [-1, 1] with align_corners=True mapping -1/1 to the edge pixel centres
    scale = torch.tensor([2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)], device=flow.device, dtype=flow.dtype)
    grid = (target * scale.view(1, 2, 1, 1) - 1.0).permute(0, 2, 3, 1)
    return F.grid_sample(features, grid.to(features.dtype), mode="bilinear", padding_mode="border", align_corners=True)


def convex_upsample(values: torch.Tensor, weights: torch.Tensor, factor: int) -> torch.Tensor:
    """values (B, C, H, W), weights (B, 9 * factor^2, H, W) logits -> (B, C, factor H, factor W):
    each fine pixel is a convex combination of its coarse pixel's 3 x 3 neighbourhood (RAFT's
    upsampler). Flow values must be scaled to fine pixels by the caller."""
    batch, channels, height, width = values.shape
    weights = torch.softmax(weights.view(batch, 1, 9, factor, factor, height, width), dim=2)
    patches = F.unfold(values, kernel_size=3, padding=1).view(batch, channels, 9, 1, 1, height, width)
    fine = (weights * patches).sum(dim=2)  # (B, C, f, f, H, W)
    return fine.permute(0, 1, 4, 2, 5, 3).reshape(batch, channels, factor * height, factor * width)
