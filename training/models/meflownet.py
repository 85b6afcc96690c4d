"""MEFlowNet: the two-stage micro-expression flow network (MELLM section 3.3.2).

A backbone and a ResNet encoder shared by two warping decoders: the facial decoder estimates the
whole motion onset -> apex, the head decoder the head-only motion; the micro-expression flow is
their difference at every iteration. Stage 1 trains the backbone (when trainable), the encoder and
the facial decoder; stage 2 freezes them and trains the head decoder alone.

The head decoder starts its iterations from the facial decoder's final flow rather than from zero
(our choice; the paper does not say): a head flow is the facial flow minus the expression, so
each of its iterations estimates how far the head's motion departs from the whole face's, and the
expression flow facial - head is that departure, exactly zero before stage 2 trains it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import ModelConfig
from .backbones import build_backbone
from .decoder import DecoderOutput, WarpingDecoder
from .encoder import ResNetEncoder

IMAGE_SIDE_MULTIPLE = 2  # the encoder halves the resolution


@dataclass(frozen=True)
class FlowOutput:
    """Predictions, one per iteration (last = final), each (B, 2, H, W) in pixels.

    facial, facial_mixture: the facial decoder's flows and (B, 4, H, W) MoL parameters.
    head, head_mixture: the head decoder's, or None when it did not run (stage 1, or a model
        that estimates facial flow only such as RAFT).
    """

    facial: list[torch.Tensor]
    facial_mixture: list[torch.Tensor] | None = None
    head: list[torch.Tensor] | None = None
    head_mixture: list[torch.Tensor] | None = None

    @property
    def expression(self) -> list[torch.Tensor]:
        """Final facial flow - head flow, at every head iteration (the head decoder refines from the
        final facial flow)."""
        if self.head is None:
            raise ValueError("no head flow in this output: run the head decoder (stage 2)")
        return [self.facial[-1] - h for h in self.head]


class MEFlowNet(nn.Module):
    """onset, apex (B, 3, H, W) float in [0, 1], H and W even -> FlowOutput."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = build_backbone(config)
        self.encoder = ResNetEncoder(self.backbone.channels, config.encoder_channels, config.encoder_blocks)
        args = (config.encoder_channels, config.decoder_channels, config.decoder_blocks, config.iterations)
        self.facial_decoder = WarpingDecoder(*args)
        self.head_decoder = WarpingDecoder(*args)

    def trainable_parts(self, stage: int) -> list[nn.Module]:
        """The modules a stage trains; everything else stays frozen."""
        if stage == 1:
            return [m for m in (self.backbone, self.encoder, self.facial_decoder) if getattr(m, "trainable", True)]
        return [self.head_decoder]

    def forward(self, onset: torch.Tensor, apex: torch.Tensor, with_head: bool = True) -> FlowOutput:
        if onset.shape[-2] % IMAGE_SIDE_MULTIPLE or onset.shape[-1] % IMAGE_SIDE_MULTIPLE:
            raise ValueError(f"image sides must be even, got {tuple(onset.shape[-2:])}: pad or crop first")
        both = torch.cat((onset, apex), dim=0)
        features = self.encoder(both, self.backbone(both))
        f1, f2 = features.chunk(2, dim=0)
        facial: DecoderOutput = self.facial_decoder(f1, f2)
        if not with_head:
            return FlowOutput(facial.flows, facial.mixtures)
        head: DecoderOutput = self.head_decoder(f1, f2, start=facial.last_coarse)
        head_flows = [facial.flows[-1] + departure for departure in head.flows]
        return FlowOutput(facial.flows, facial.mixtures, head_flows, head.mixtures)
