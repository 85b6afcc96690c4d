"""Torch access to shard datasets: random access per sample, train / test split by source
identity, shard subsets, and shard-aware, seeded per-epoch orders for DDP ranks and DataLoader
workers (a worker reads whole shards, so its reads stay local)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, Sampler, get_worker_info

from shards.layout import DatasetDir
from shards.reader import ShardReader
from shards.splits import SplitRule

TRAINING_FIELDS = ("onset", "apex", "flow_facial", "flow_head", "mask", "landmarks_onset", "landmarks_apex")
CHANNELS_LAST = ("onset", "apex", "flow_facial", "flow_head", "flow_expression")  # (H, W, C) -> (C, H, W)
SPLITS = ("train", "test", "all")


def to_tensors(sample: dict) -> dict:
    """Images (3, H, W) uint8, flows (2, H, W) float32, mask (H, W) bool, the rest as tensors."""
    out = {}
    for name, value in sample.items():
        if isinstance(value, str):
            out[name] = value
        elif name in CHANNELS_LAST:
            out[name] = torch.from_numpy(np.ascontiguousarray(np.moveaxis(value, -1, 0)))
        else:
            out[name] = torch.from_numpy(np.asarray(value))
    return out


def to_arrays(sample: dict) -> dict:
    """The inverse of to_tensors: numpy arrays, images and flows channels-last again."""
    return {name: value if isinstance(value, str) else np.moveaxis(value.numpy(), 0, -1) if name in CHANNELS_LAST else value.numpy()
            for name, value in sample.items()}


class ShardDataset(Dataset):
    """Samples of the chosen shards and split. Item n -> dict of tensors (see to_tensors).

    root: dataset folder; split: train | test | all (by source identity, never both sides, with
    the rule the dataset records); shards: subset of shard indices (default: all complete);
    fields: which per-sample fields (stored, or derived such as flow_expression); test_fraction:
    another share of identities for test than the dataset's (the same salt).
    """

    def __init__(self, root: Path, split: str = "train", shards: list[int] | None = None,
                 fields: tuple[str, ...] = TRAINING_FIELDS, test_fraction: float | None = None) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.layout = DatasetDir(Path(root))
        self.meta = self.layout.metadata()
        self.split_rule = SplitRule.from_metadata(self.meta)
        if test_fraction is not None:
            self.split_rule = SplitRule(self.split_rule.salt, test_fraction)
        complete = self.layout.complete_shards()
        chosen = complete if shards is None else list(shards)
        missing = sorted(set(chosen) - set(complete))
        if missing:
            raise ValueError(f"shards {missing[:5]} are not complete in {root}: build them first")
        self.fields = fields
        self.entries: list[tuple[int, int]] = []  # (shard, position in shard)
        for s in chosen:
            ids = ShardReader(self.layout.shard_path(s)).column("source_id")
            for i, source in enumerate(ids):
                if split == "all" or self.split_rule.split_of(str(source)) == split:
                    self.entries.append((s, i))
        self._readers: dict[int, ShardReader] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def _reader(self, s: int) -> ShardReader:
        if s not in self._readers:  # opened lazily: each DataLoader worker opens its own
            self._readers[s] = ShardReader(self.layout.shard_path(s))
        return self._readers[s]

    def __getitem__(self, n: int) -> dict:
        s, i = self.entries[n]
        return to_tensors(self._reader(s).read(i, self.fields))

    def image_size(self, shard: int) -> tuple[int, int]:
        """(H, W) of the images of one shard."""
        shape = self._reader(shard).arrays["onset"].shape
        return int(shape[1]), int(shape[2])

    def shard_groups(self) -> dict[int, list[int]]:
        """Dataset indices grouped by shard."""
        groups: dict[int, list[int]] = {}
        for n, (s, _) in enumerate(self.entries):
            groups.setdefault(s, []).append(n)
        return groups


def epoch_assignment(groups: dict[int, list[int]], rank: int, world_size: int, seed: int, epoch: int,
                     shuffle: bool = True) -> list[int]:
    """Dataset indices for one rank in one epoch: shards shuffled by (seed, epoch) and dealt
    round-robin to ranks, samples shuffled within the rank, every rank cut to the same length
    (DDP needs equal step counts)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, epoch]))
    shards = sorted(groups)
    if shuffle:
        shards = [shards[i] for i in rng.permutation(len(shards))]
    per_rank = [[n for s in shards[r::world_size] for n in groups[s]] for r in range(world_size)]
    length = min(len(p) for p in per_rank)
    mine = per_rank[rank]
    if shuffle:
        mine = [mine[i] for i in np.random.default_rng(np.random.SeedSequence([seed, epoch, rank])).permutation(len(mine))]
    return mine[:length]


class ShardEpochSampler(Sampler):
    """For map-style loading under DDP: call set_epoch(e) each epoch (as DistributedSampler)."""

    def __init__(self, dataset: ShardDataset, rank: int = 0, world_size: int = 1, seed: int = 0, shuffle: bool = True) -> None:
        self.groups, self.rank, self.world_size = dataset.shard_groups(), rank, world_size
        self.seed, self.shuffle, self.epoch = seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        return iter(epoch_assignment(self.groups, self.rank, self.world_size, self.seed, self.epoch, self.shuffle))

    def __len__(self) -> int:
        """The samples this rank yields in the current epoch (the same on every rank)."""
        return len(epoch_assignment(self.groups, self.rank, self.world_size, self.seed, self.epoch, self.shuffle))


class ShardStream(IterableDataset):
    """Iterable loading where each DataLoader worker reads whole shards: the rank's shards for
    the epoch are dealt to workers round-robin. Call set_epoch(e) before each epoch."""

    def __init__(self, dataset: ShardDataset, rank: int = 0, world_size: int = 1, seed: int = 0, shuffle: bool = True) -> None:
        self.dataset, self.rank, self.world_size, self.seed, self.shuffle = dataset, rank, world_size, seed, shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        groups = self.dataset.shard_groups()
        order = epoch_assignment(groups, self.rank, self.world_size, self.seed, self.epoch, self.shuffle)
        info = get_worker_info()
        if info is not None:
            shard_of = {n: s for s, members in groups.items() for n in members}
            shards = sorted({shard_of[n] for n in order})
            keep = set(shards[info.id::info.num_workers])
            order = [n for n in order if shard_of[n] in keep]
        for n in order:
            yield self.dataset[n]

    def __len__(self) -> int:
        """The samples this rank yields in the current epoch, over all its DataLoader workers."""
        return len(epoch_assignment(self.dataset.shard_groups(), self.rank, self.world_size, self.seed, self.epoch, self.shuffle))
