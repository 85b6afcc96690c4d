"""Terms of the landmark-fitting objective, pure torch functions of batched tensors.

Residuals are measured in units of the face's size (see fitter.normalise), so one set of
weights serves a 100-pixel thumbnail and a 4K portrait alike.
"""
from __future__ import annotations

import torch


def lorentzian(residual: torch.Tensor, scale: float) -> torch.Tensor:
    """residual (B, N, 2) -> (B, N) log(1 + r^2 / scale^2). Quadratic near zero, logarithmic far
    away: a few landmarks that are plainly wrong pull with a force that fades as 1 / r."""
    return torch.log1p(residual.pow(2).sum(-1) / scale**2)


def landmark_term(predicted: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, scale: float) -> torch.Tensor:
    """predicted, target (B, 68, 2), weights (B, 68) -> (B,) weighted robust landmark cost."""
    return (weights * lorentzian(predicted - target, scale)).sum(-1)


def gaussian_prior(coefficients: torch.Tensor) -> torch.Tensor:
    """coefficients (B, K) of unit-variance PCA directions -> (B,) squared norm."""
    return coefficients.pow(2).sum(-1)


def box_penalty(values: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """values (B, K) -> (B,) squared distance outside [low, high]."""
    return (torch.relu(low - values).pow(2) + torch.relu(values - high).pow(2)).sum(-1)


def jaw_penalty(jaw: torch.Tensor, max_open: float, max_side: float) -> torch.Tensor:
    """jaw (B, 3) axis-angle -> (B,): the jaw opens about x (0 to max_open radians) and barely
    moves sideways or twists (|y|, |z| below max_side)."""
    return box_penalty(jaw[:, :1], 0.0, max_open) + box_penalty(jaw[:, 1:], -max_side, max_side)
