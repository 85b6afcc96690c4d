"""Training losses: pure functions of predictions and ground truth (shapes in the docstrings).

Stage 1: MoL_facial + ROI-EPE_facial. Stage 2: 0.5 MoL_head + ROI-EPE_expr + EPE_expr. Every term
is summed over iterations with weight gamma^(N-i-1) (the last iteration weighs 1). RAFT, which
has no mixture output, trains on the sequence L1 of RAFT's paper in place of MoL.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .config import LossConfig
from .flow_metrics import masked_epe, masked_mean
from .models.meflownet import FlowOutput

LOG_TWO = math.log(2.0)


@dataclass(frozen=True)
class Targets:
    """Ground truth of a batch: flows (B, 2, H, W) in pixels; foreground and region masks (B, H, W)."""

    facial: torch.Tensor
    head: torch.Tensor
    foreground: torch.Tensor
    regions: torch.Tensor  # the 29 facial regions (union), inside the foreground

    @property
    def expression(self) -> torch.Tensor:
        return self.facial - self.head


def mixture_of_laplace_nll(flow: torch.Tensor, mixture: torch.Tensor, target: torch.Tensor, valid: torch.Tensor,
                           log_scale_max: float) -> torch.Tensor:
    """Mixture-of-Laplace negative log-likelihood (SEA-RAFT / WAFT form) -> scalar.

    flow, target (B, 2, H, W); mixture (B, 4, H, W): 2 weight logits then 2 log-scales; valid (B, H, W).
    Component 1 has log b1 clamped to [0, log_scale_max], component 2 b2 = 1; the weights are shared
    by u and v; the per-axis NLLs are summed and averaged over valid pixels of the batch.
    """
    log_weights = torch.log_softmax(mixture[:, :2], dim=1).unsqueeze(2)  # (B, 2, 1, H, W)
    log_b = torch.stack((mixture[:, 2].clamp(0.0, log_scale_max), torch.zeros_like(mixture[:, 3])), dim=1).unsqueeze(2)
    residual = (target - flow).abs().unsqueeze(1)  # (B, 1, 2, H, W)
    log_likelihood = torch.logsumexp(log_weights - LOG_TWO - log_b - residual * torch.exp(-log_b), dim=1)  # (B, 2, H, W)
    nll = -log_likelihood.sum(dim=1)
    weights = valid.to(nll.dtype)
    return (nll * weights).sum() / weights.sum().clamp_min(1.0)


def mean_over_images(per_image: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) per-image figures, NaN for an image with nothing to count -> scalar mean over the rest
    (a zero that keeps the graph of `like` when none is left)."""
    present = ~torch.isnan(per_image)
    return per_image[present].mean() if bool(present.any()) else like.sum() * 0.0


def epe(flow: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """flow, target (B, 2, H, W), valid (B, H, W) -> scalar: per-image mean EPE over valid pixels,
    then the mean over images that have any (0 when none has)."""
    return mean_over_images(masked_epe(flow, target, valid), flow)


def sequence_l1(flow: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """RAFT's training term: mean absolute flow error over valid pixels -> scalar."""
    return mean_over_images(masked_mean((flow - target).abs().sum(1), valid), flow)


def iteration_weights(count: int, gamma: float) -> list[float]:
    """gamma^(N-i-1) for i = 0..N-1: later iterations weigh more, the last weighs 1."""
    return [gamma ** (count - i - 1) for i in range(count)]


def stage1_loss(output: FlowOutput, targets: Targets, config: LossConfig) -> dict[str, torch.Tensor]:
    """Facial flow: MoL over the foreground (L1 for a model without mixtures) + ROI-EPE. -> terms and 'total'."""
    terms = {"mol_facial": 0.0, "roi_epe_facial": 0.0}
    for w, k in zip(iteration_weights(len(output.facial), config.gamma), range(len(output.facial)), strict=True):
        flow = output.facial[k]
        if output.facial_mixture is not None:
            terms["mol_facial"] = terms["mol_facial"] + w * mixture_of_laplace_nll(
                flow, output.facial_mixture[k], targets.facial, targets.foreground, config.log_scale_max)
        else:
            terms["mol_facial"] = terms["mol_facial"] + w * sequence_l1(flow, targets.facial, targets.foreground)
        terms["roi_epe_facial"] = terms["roi_epe_facial"] + w * epe(flow, targets.facial, targets.regions)
    terms["total"] = terms["mol_facial"] + terms["roi_epe_facial"]
    return terms


def stage2_loss(output: FlowOutput, targets: Targets, config: LossConfig) -> dict[str, torch.Tensor]:
    """Head flow: head_mol_weight x MoL_head + ROI-EPE_expr + EPE_expr (expression = facial - head). -> terms and 'total'."""
    if output.head is None or output.head_mixture is None:
        raise ValueError("stage 2 needs the head decoder's output")
    terms = {"mol_head": 0.0, "roi_epe_expr": 0.0, "epe_expr": 0.0}
    expression = output.expression
    for w, k in zip(iteration_weights(len(output.head), config.gamma), range(len(output.head)), strict=True):
        terms["mol_head"] = terms["mol_head"] + w * mixture_of_laplace_nll(
            output.head[k], output.head_mixture[k], targets.head, targets.foreground, config.log_scale_max)
        terms["roi_epe_expr"] = terms["roi_epe_expr"] + w * epe(expression[k], targets.expression, targets.regions)
        terms["epe_expr"] = terms["epe_expr"] + w * epe(expression[k], targets.expression, targets.foreground)
    terms["total"] = config.head_mol_weight * terms["mol_head"] + terms["roi_epe_expr"] + terms["epe_expr"]
    return terms


STAGE_LOSSES = {1: stage1_loss, 2: stage2_loss}
