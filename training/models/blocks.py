"""Residual convolution blocks shared by the encoder and the decoders. GroupNorm, not BatchNorm:
statistics do not depend on the batch (DDP ranks, batch 1 inference) and a frozen module has no
running statistics to drift."""
from __future__ import annotations

import torch
from torch import nn

GROUPS = 8  # GroupNorm groups (channels are multiples of 8 in every config)


def norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(GROUPS, channels), channels)


class ResidualBlock(nn.Module):
    """Two 3 x 3 convolutions with a skip; stride 2 halves the resolution (the skip is projected)."""

    def __init__(self, channels_in: int, channels_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1)
        self.norm1, self.norm2 = norm(channels_out), norm(channels_out)
        self.skip = nn.Identity() if stride == 1 and channels_in == channels_out else nn.Sequential(
            nn.Conv2d(channels_in, channels_out, 1, stride=stride), norm(channels_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.norm1(self.conv1(x)))
        return torch.relu(self.skip(x) + self.norm2(self.conv2(y)))
