"""Training pairs from shards: augmented, with the 29-region mask placed on the onset landmarks,
in a deterministic order that a resumed run continues exactly.

Each item is addressed by (epoch, index), and its augmentation draws from a generator seeded by
(seed, epoch, index): the same step sees the same batch whatever the worker count or restarts.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from facial.regions import roi_union

from .augment import augment
from .config import AugmentConfig
from .shard_dataset import TRAINING_FIELDS, ShardDataset, epoch_assignment, to_arrays

NEEDED_FIELDS = TRAINING_FIELDS


def to_training_tensors(sample: dict, where: str) -> dict:
    """numpy sample -> images (3, H, W) float32 in [0, 1], flows (2, H, W), masks (H, W) bool,
    `regions`: the 29 facial regions (union) inside the foreground; `where` names the sample."""
    height, width = sample["onset"].shape[:2]
    mask = sample["mask"].astype(bool)
    regions = roi_union(sample["landmarks_onset"], height, width) & mask
    out = {"where": where, "mask": torch.from_numpy(mask), "regions": torch.from_numpy(regions),
           "landmarks_onset": torch.from_numpy(np.asarray(sample["landmarks_onset"], dtype=np.float32))}
    for name in ("onset", "apex"):
        out[name] = torch.from_numpy(np.ascontiguousarray(sample[name].transpose(2, 0, 1))).float() / 255.0
    for name in ("flow_facial", "flow_head"):
        out[name] = torch.from_numpy(np.ascontiguousarray(sample[name].transpose(2, 0, 1), dtype=np.float32))
    return out


class TrainingPairs(Dataset):
    """Items (epoch, index) -> augmented training tensors (see to_training_tensors); plain index ->
    the unaugmented, uncropped sample (validation)."""

    def __init__(self, root: Path, split: str, augment_config: AugmentConfig | None, crop: tuple[int, int], seed: int) -> None:
        self.shards = ShardDataset(root, split, fields=NEEDED_FIELDS)
        self.augment_config, self.crop, self.seed = augment_config, crop, seed

    def __len__(self) -> int:
        return len(self.shards)

    def __getitem__(self, item) -> dict:
        epoch, index = item if isinstance(item, tuple) else (None, item)
        s, i = self.shards.entries[index]
        sample = to_arrays(self.shards[index])
        if epoch is not None and self.augment_config is not None:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, epoch, index]))
            sample = augment(sample, self.augment_config, self.crop, rng)
        return to_training_tensors(sample, f"shard {s} sample {i} ({sample.get('source_id', '?')})")


def collate(items: list[dict]) -> dict:
    batch = {name: torch.stack([item[name] for item in items]) for name in items[0] if name != "where"}
    batch["where"] = [item["where"] for item in items]
    return batch


class StepBatches(Sampler):
    """Batches of (epoch, index) for steps [start, stop) of one rank: epochs of the shard-aware
    order (training.shard_dataset.epoch_assignment) cut into whole batches, one after another.
    Step n always gets the same batch, so resuming at step k continues the sequence exactly."""

    def __init__(self, groups: dict[int, list[int]], batch_size: int, rank: int, world_size: int, seed: int,
                 start: int, stop: int) -> None:
        self.groups, self.batch_size, self.rank, self.world_size = groups, batch_size, rank, world_size
        self.seed, self.start, self.stop = seed, start, stop
        first = epoch_assignment(groups, rank, world_size, seed, 0)
        if len(first) < batch_size:
            raise ValueError(f"an epoch holds {len(first)} pairs per process, fewer than the batch size {batch_size}: "
                             "lower optim.batch_size or build more samples")

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step, epoch = 0, 0
        while step < self.stop:
            order = epoch_assignment(self.groups, self.rank, self.world_size, self.seed, epoch)
            for b in range(len(order) // self.batch_size):
                if step >= self.stop:
                    return
                if step >= self.start:
                    yield [(epoch, n) for n in order[b * self.batch_size:(b + 1) * self.batch_size]]
                step += 1
            epoch += 1
