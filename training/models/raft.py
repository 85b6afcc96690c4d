"""torchvision's RAFT-small as the deep baseline (the paper's fine-tuned RAFT row): trained from
scratch by the same trainer on the same shards, no downloaded weights. It estimates facial flow
only; its head flow is the nose-tip compensation, as for the classical methods."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import SIZE_MULTIPLE, ModelConfig
from .meflownet import FlowOutput
from .torchvision_compat import ensure_torchvision

RAFT_MIN_SIDE = 128  # its correlation pyramid needs 16 x 16 features at 1/8 resolution


class RaftSmall(nn.Module):
    """onset, apex (B, 3, H, W) float in [0, 1] -> FlowOutput (facial only). Images are padded
    (edge pixels repeated) to sides that are multiples of 8 and at least 128, and flows cropped back."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        try:
            ensure_torchvision()
            from torchvision.models.optical_flow import raft_small
        except ImportError:
            raise RuntimeError('the raft_small model needs torchvision: pip install "meflow[raft]"') from None

        self.net = raft_small(weights=None, progress=False)

    def trainable_parts(self, stage: int) -> list[nn.Module]:
        if stage != 1:
            raise ValueError("raft_small estimates facial flow only: train it with --stage 1")
        return [self.net]

    def forward(self, onset: torch.Tensor, apex: torch.Tensor, with_head: bool = False) -> FlowOutput:
        height, width = onset.shape[-2:]
        pad_h, pad_w = (max(RAFT_MIN_SIDE, -(-side // SIZE_MULTIPLE) * SIZE_MULTIPLE) - side for side in (height, width))
        pairs = [F.pad(image * 2 - 1, (0, pad_w, 0, pad_h), mode="replicate") for image in (onset, apex)]  # RAFT wants [-1, 1]
        flows = [flow[..., :height, :width] for flow in self.net(*pairs, num_flow_updates=self.config.raft_iterations)]
        return FlowOutput(list(flows))

