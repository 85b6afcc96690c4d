"""The shared encoder: image and backbone features -> features at 1/2 resolution."""
from __future__ import annotations

import torch
from torch import nn

from .blocks import ResidualBlock

IMAGE_MEAN = 0.5  # images enter in [0, 1]; centre them for the first convolution


class ResNetEncoder(nn.Module):
    """images (B, 3, H, W) in [0, 1], features (B, Cb, H, W) -> (B, C, H/2, W/2).

    A stride-2 residual block then `blocks - 1` more at 1/2 resolution (WAFT's ResNet18 trunk,
    cut to what the config asks for)."""

    def __init__(self, backbone_channels: int, channels: int, blocks: int) -> None:
        super().__init__()
        layers = [ResidualBlock(3 + backbone_channels, channels, stride=2)]
        layers += [ResidualBlock(channels, channels) for _ in range(blocks - 1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.cat((images - IMAGE_MEAN, features), dim=1))
