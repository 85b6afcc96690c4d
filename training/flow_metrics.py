"""End-point error and masked means: the one definition the losses, validation and `meflow eval`
all use."""
from __future__ import annotations

import torch

PX1_THRESHOLD = 1.0  # 1-px accuracy: share of pixels whose end-point error is below this


def end_point_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """pred, target (B, 2, H, W) -> (B, H, W) Euclidean distance of the flow vectors."""
    return torch.linalg.vector_norm(pred - target, dim=1)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """values (B, H, W), mask (B, H, W) bool or 0/1 -> (B,) mean over each image's mask; NaN for an
    image whose mask is empty (callers drop those images rather than count them as 0)."""
    weights = mask.to(values.dtype)
    total = weights.flatten(1).sum(1)
    mean = (values * weights).flatten(1).sum(1) / total.clamp_min(1.0)  # never 0/0: its gradient would be NaN
    return torch.where(total > 0, mean, torch.full_like(mean, float("nan")))


def masked_epe(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """pred, target (B, 2, H, W), mask (B, H, W) -> (B,) mean end-point error inside each mask."""
    return masked_mean(end_point_error(pred, target), mask)


def accuracy_within(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, threshold: float = PX1_THRESHOLD) -> torch.Tensor:
    """pred, target (B, 2, H, W), mask (B, H, W) -> (B,) share of masked pixels with EPE < threshold."""
    return masked_mean((end_point_error(pred, target) < threshold).to(pred.dtype), mask)
