"""Process groups for DDP under `torchrun` (which sets RANK, WORLD_SIZE, LOCAL_RANK): NCCL on
GPUs, gloo on CPUs; a plain single process when WORLD_SIZE is unset."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Processes:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start(device: str = "auto") -> Processes:
    """Join the process group torchrun describes (if any) and pick this process's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    chosen = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(chosen)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return Processes(rank, world_size, local_rank, chosen)


def stop(processes: Processes) -> None:
    if processes.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_agree(flag: bool, processes: Processes) -> bool:
    """True when the flag holds on every process (a NaN or a time limit on one stops them all)."""
    if not processes.distributed:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=processes.device)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item() > 0.5)


def any_true(flag: bool, processes: Processes) -> bool:
    return not all_agree(not flag, processes)
