"""One constructor for every flow network a config can name."""
from __future__ import annotations

from torch import nn

from ..config import ModelConfig


def build_model(config: ModelConfig) -> nn.Module:
    """MEFlowNet or RAFT-small, as config.kind says (both return a FlowOutput)."""
    if config.kind == "raft_small":
        from .raft import RaftSmall

        return RaftSmall(config)
    from .meflownet import MEFlowNet

    return MEFlowNet(config)
