"""Running a trained network: padding to the sizes it needs, a batch prediction, and the
`FlowMethod` that `meflow eval` and `meflow flow` use for checkpoints of either model."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from shards.flows import FlowPrediction

from .checkpoint import config_of, load_checkpoint
from .config import SIZE_MULTIPLE, TrainConfig
from .models.factory import build_model


def pad_to_multiple(images: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H', W') with H', W' the next multiples, edge pixels repeated at the
    bottom and right (flows predicted on the padded pair are cropped back to H x W)."""
    height, width = images.shape[-2:]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    return F.pad(images, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else images


@dataclass(frozen=True)
class BatchFlows:
    """Final flows of a batch, (B, 2, H, W); head None when the model has no trained head decoder."""

    facial: torch.Tensor
    head: torch.Tensor | None


@torch.no_grad()
def predict_batch(model: nn.Module, onset: torch.Tensor, apex: torch.Tensor, with_head: bool) -> BatchFlows:
    """onset, apex (B, 3, H, W) float in [0, 1] of any size -> BatchFlows at H x W."""
    height, width = onset.shape[-2:]
    output = model(pad_to_multiple(onset), pad_to_multiple(apex), with_head=with_head)
    facial = output.facial[-1][..., :height, :width]
    head = output.head[-1][..., :height, :width] if output.head is not None else None
    return BatchFlows(facial, head)


def image_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (1, 3, H, W) float in [0, 1]."""
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {array.shape} {array.dtype}")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))).to(device).float().unsqueeze(0) / 255.0


class NetworkMethod:
    """A trained checkpoint as a FlowMethod. A stage-1 MEFlowNet or RAFT estimates facial flow only
    (head None: the evaluator compensates at the nose tip); a stage-2 MEFlowNet gives both."""

    def __init__(self, model: nn.Module, config: TrainConfig, stage: int, device: torch.device, name: str = "model") -> None:
        self.model, self.config, self.stage, self.device, self.name = model.eval(), config, stage, device, name
        self.with_head = config.model.kind == "meflownet" and stage == 2

    def predict(self, onset: np.ndarray, apex: np.ndarray) -> FlowPrediction:
        if np.shape(onset) != np.shape(apex):
            raise ValueError(f"onset and apex differ in size: {np.shape(onset)} vs {np.shape(apex)}")
        flows = predict_batch(self.model, image_tensor(onset, self.device), image_tensor(apex, self.device), self.with_head)
        facial = flows.facial[0].permute(1, 2, 0).float().cpu().numpy()
        head = None if flows.head is None else flows.head[0].permute(1, 2, 0).float().cpu().numpy()
        return FlowPrediction(facial, head)


def load_method(ckpt: Path, device: str = "cpu", name: str = "model") -> NetworkMethod:
    """A checkpoint written by `meflow train` -> NetworkMethod on `device` (CheckpointError if not one)."""
    state = load_checkpoint(ckpt)
    config = config_of(state)
    model = build_model(config.model)
    model.load_state_dict(state["model"])
    chosen = torch.device(device)
    return NetworkMethod(model.to(chosen), config, int(state["stage"]), chosen, name)
