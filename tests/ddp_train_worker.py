"""Run under torchrun by test_training: one training step with DDP (gloo on CPU), then each rank
saves the weights it holds, so the test can compare them across ranks."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from training.config import load_config
from training.trainer import TrainRequest, train

data, out = Path(sys.argv[1]), Path(sys.argv[2])
config = load_config("cpu").with_changes(optim={"batch_size": 2}, run={"validation_samples": 1})
summary = train(TrainRequest(1, data, out, config, max_steps=1, progress=False, device="cpu"))
rank = int(os.environ["RANK"])
torch.save({"step": summary.last_step, "weights": summary.model.state_dict()}, out / f"rank{rank}.pt")
