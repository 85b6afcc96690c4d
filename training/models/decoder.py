"""One warping decoder: N iterations of warp, refine, update, each giving a full-resolution flow
and its Mixture-of-Laplace parameters. MEFlowNet has two (facial, head) on one encoder."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .blocks import ResidualBlock
from .warping import backward_warp, convex_upsample

UPSAMPLE = 2  # the encoder works at 1/2 resolution
MIXTURE_CHANNELS = 4  # 2 mixture weight logits, 2 log-scales (SEA-RAFT / WAFT)
MASK_SCALE = 0.25  # RAFT's damping of the upsampling-mask logits


@dataclass(frozen=True)
class DecoderOutput:
    """flows: N tensors (B, 2, H, W) in pixels, coarse to refined; mixtures: N tensors (B, 4, H, W)
    (weight logits, then log-scales, unclamped)."""

    flows: list[torch.Tensor]
    mixtures: list[torch.Tensor]
    last_coarse: torch.Tensor  # (B, 2, h, w) the final flow at the decoder's resolution, in its pixels


class WarpingDecoder(nn.Module):
    """f1, f2 (B, C, h, w) encoder features of onset and apex -> DecoderOutput at (2h, 2w).

    With `start` (B, 2, h, w) the iterations begin from that flow instead of zero and the returned
    flows are the departures from it (flow - start): the head decoder refines from the facial flow."""

    def __init__(self, feature_channels: int, channels: int, blocks: int, iterations: int) -> None:
        super().__init__()
        self.iterations = iterations
        self.init_hidden = nn.Conv2d(feature_channels, channels, 3, padding=1)
        self.merge = nn.Conv2d(channels + 3 * feature_channels + 2, channels, 3, padding=1)
        self.refine = nn.Sequential(*[ResidualBlock(channels, channels) for _ in range(blocks)])
        self.to_update = nn.Conv2d(channels, 2 + MIXTURE_CHANNELS, 3, padding=1)
        self.to_mask = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(channels, 9 * UPSAMPLE ** 2, 1))
        nn.init.zeros_(self.to_update.weight)  # start from zero flow and unit scales
        nn.init.zeros_(self.to_update.bias)

    def forward(self, f1: torch.Tensor, f2: torch.Tensor, start: torch.Tensor | None = None) -> DecoderOutput:
        batch, _, height, width = f1.shape
        hidden = torch.tanh(self.init_hidden(f1))
        origin = f1.new_zeros(batch, 2, height, width) if start is None else start.detach()
        flow = origin  # in coarse pixels
        flows, mixtures = [], []
        for _ in range(self.iterations):
            flow = flow.detach()  # each iteration learns its own update (RAFT)
            warped = backward_warp(f2, flow)
            x = torch.cat((hidden, f1, warped, f1 - warped, flow), dim=1)
            hidden = torch.tanh(hidden + self.refine(self.merge(x)))
            update = self.to_update(hidden)
            flow = flow + update[:, :2]
            mask = MASK_SCALE * self.to_mask(hidden)
            flows.append(convex_upsample((flow - origin) * UPSAMPLE, mask, UPSAMPLE))
            mixtures.append(convex_upsample(update[:, 2:], mask, UPSAMPLE))
        return DecoderOutput(flows, mixtures, flow)
