"""Feature backbones: full-resolution features that join the RGB image at the encoder's input.

`dav2` is Depth-Anything-V2 (frozen, as WAFT uses it): the 32 channels of its depth head before
the last projection, loaded from a local Hugging Face folder, or built randomly from a config when
no weights are given (tests; no downloads ever). `cnn` is a small convolutional stack trained
with the encoder: the default when no depth weights are at hand.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from .blocks import norm
from .torchvision_compat import ensure_torchvision

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Random-init Depth-Anything-V2 sizes: "small" is the paper's backbone (ViT-S/14), "tiny" a
# test-sized one that runs the same code path in a second.
DAV2_SIZES = {
    "tiny": {"hidden_size": 32, "layers": 4, "heads": 2, "neck": [8, 16, 32, 32], "fusion": 16},
    "small": {"hidden_size": 384, "layers": 12, "heads": 6, "neck": [48, 96, 192, 384], "fusion": 64},
}
DAV2_HEAD_CHANNELS = 32


class ConvBackbone(nn.Module):
    """images (B, 3, H, W) in [0, 1] -> (B, C, H, W) features (two 3 x 3 conv layers)."""

    trainable = True

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), norm(channels), nn.ReLU(),
                                    nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU())
        self.channels = channels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images)


def _dav2_random(size: str):
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    spec = DAV2_SIZES[size]
    backbone = Dinov2Config(hidden_size=spec["hidden_size"], num_hidden_layers=spec["layers"], num_attention_heads=spec["heads"],
                            intermediate_size=4 * spec["hidden_size"], patch_size=14, image_size=518,
                            out_features=[f"stage{i}" for i in range(spec["layers"] - 3, spec["layers"] + 1)],
                            reshape_hidden_states=False, apply_layernorm=True)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=spec["hidden_size"], patch_size=14,
                                 neck_hidden_sizes=spec["neck"], fusion_hidden_size=spec["fusion"],
                                 head_hidden_size=DAV2_HEAD_CHANNELS)
    return DepthAnythingForDepthEstimation(config)


class DepthAnythingBackbone(nn.Module):
    """images (B, 3, H, W) in [0, 1] -> (B, 32, H, W): Depth-Anything-V2's head features (after its
    second convolution and ReLU), computed at `input_side` and resized to the image. Frozen."""

    trainable = False

    def __init__(self, weights: str, size: str, input_side: int) -> None:
        super().__init__()
        with contextlib.suppress(ImportError):  # transformers' image utilities import torchvision when it is there
            ensure_torchvision()
        try:
            import transformers  # noqa: F401
        except ImportError:
            raise RuntimeError('the dav2 backbone needs transformers: pip install "meflow[dav2]"') from None
        if weights:
            from transformers import DepthAnythingForDepthEstimation

            if not (Path(weights) / "config.json").is_file():
                raise RuntimeError(f"{weights} is not a Hugging Face model folder (no config.json): point model.backbone_weights "
                                   "at a local copy of Depth-Anything-V2-Small-hf")
            self.net = DepthAnythingForDepthEstimation.from_pretrained(weights, local_files_only=True)
        else:
            self.net = _dav2_random(size)
        self.net.requires_grad_(False).eval()
        self.input_side = input_side
        self.channels = DAV2_HEAD_CHANNELS
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> DepthAnythingBackbone:
        super().train(mode)
        self.net.eval()  # frozen: always in inference mode
        return self

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        side = self.input_side
        pixels = F.interpolate((images - self.mean) / self.std, size=(side, side), mode="bilinear", align_corners=False)
        patches = side // self.net.config.patch_size
        maps = self.net.backbone.forward_with_filtered_kwargs(pixels).feature_maps
        maps = self.net.neck(maps, patches, patches)
        head = self.net.head
        x = head.conv1(maps[head.head_in_index])
        x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=True)
        x = head.activation1(head.conv2(x))
        return F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)


def build_backbone(config: ModelConfig) -> nn.Module:
    if config.backbone == "dav2":
        return DepthAnythingBackbone(config.backbone_weights, config.dav2_size, config.dav2_input)
    return ConvBackbone(config.backbone_channels)
