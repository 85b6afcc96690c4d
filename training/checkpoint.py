"""Checkpoints: written atomically (a temporary file renamed over the old), holding the config,
stage, step, model, optimiser, schedule and every RNG state, so a resumed run continues exactly.

Layout of a run folder: RUN/stage1/{last.pt, log.csv, curve.png, tb/}, RUN/stage2/... ;
stage 2 starts from RUN/stage1/last.pt unless --init names another checkpoint.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig

CHECKPOINT_FORMAT = 1
LAST = "last.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used here; the message says why and what to do."""


def stage_dir(run: Path, stage: int) -> Path:
    return Path(run) / f"stage{stage}"


def rng_states() -> dict:
    states = {"python": random.getstate(), "numpy": np.random.get_state(),  # noqa: NPY002 - global state other libraries may draw from
              "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])  # noqa: NPY002 - see rng_states
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: Path, state: dict) -> Path:
    """Write `state` (plus the format version) to `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"format": CHECKPOINT_FORMAT, **state}, temporary)
    os.replace(temporary, path)
    return path


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint; CheckpointError (one line) when it is missing or not ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: train stage 1 first or give --init / --ckpt")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same one-line answer
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(err).__name__}): was it written by `meflow train`?") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT or "config" not in state:
        raise CheckpointError(f"{path} is not a MEFlow training checkpoint (format {CHECKPOINT_FORMAT}): was it written by `meflow train`?")
    return state


def config_of(state: dict) -> TrainConfig:
    return TrainConfig.from_dict(state["config"], source="checkpoint")


def config_differences(a: TrainConfig, b: TrainConfig, section: str | None = None) -> list[str]:
    """'section.key: a vs b' for every value that differs (one section, or all)."""
    da, db = a.to_dict(), b.to_dict()
    out = []
    for key in [section] if section else [k for k in da if k != "name"]:
        out += [f"{key}.{k}: {da[key][k]!r} vs {db[key][k]!r}" for k in da[key] if da[key][k] != db[key][k]]
    return out
