"""Write one shard: samples are buffered BLOCK at a time (memory does not grow with the shard),
each block lands as one storage object per array, and the shard appears under its final name
only when complete (a directory rename), so a killed run never leaves a torn shard behind.

After every block the partial folder records a checkpoint (samples written, the next sample
index to make, failures so far); a retried task adopts the best checkpoint of its shard, so a
worker killed mid-shard costs only the shard's unfinished part."""
from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from pathlib import Path

import numpy as np
import zarr

from .integrity import group_attributes, shard_structure_problem
from .schema import BLOCK, FIELD_BY_NAME, FIELDS, SCHEMA_VERSION, sample_checksum

PARTIAL_MARK = ".partial-"


def partial_name(final: Path) -> str:
    """`shard-NNNNN.zarr.partial-<host>-<pid>-<random>`: the name says which process writes it."""
    return f"{final.name}{PARTIAL_MARK}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def partial_owner(partial: Path) -> tuple[str, int] | None:
    """(host, process id) of the writer named in a partial folder's name, None if it names none."""
    fields = Path(partial).name.split(PARTIAL_MARK, 1)[-1].rsplit("-", 2)
    return (fields[0], int(fields[1])) if len(fields) == 3 and fields[1].isdigit() else None


def read_checkpoint(partial: Path) -> dict | None:
    """{count, next_index, failures} recorded in a partial shard, or None if it has none."""
    attrs = group_attributes(partial)
    if attrs is None or attrs.get("next_index") is None:
        return None
    return {"count": attrs["count"], "next_index": attrs["next_index"], "failures": attrs.get("failures", [])}


class TornShardError(RuntimeError):
    """A partial shard lost files while it was written (another process deleted them)."""


class ShardWriter:
    """Usage: `w = ShardWriter(final, capacity, H, W, attrs, first_index)`; `w.append(sample, k)`
    or `w.fail(record)` per sample k in order; `w.finish()` -> final path. `resume_from` adopts a
    partial shard with a checkpoint: writing continues at `w.next_index`."""

    def __init__(self, final: Path, capacity: int, height: int, width: int, attrs: dict, first_index: int = 0,
                 resume_from: Path | None = None) -> None:
        self.final = Path(final)
        self.partial = self.final.with_name(partial_name(self.final))
        self.height, self.width, self.capacity = height, width, capacity
        self.buffer: list[dict] = []
        if resume_from is not None:
            checkpoint = read_checkpoint(resume_from)
            if checkpoint is None:
                raise ValueError(f"{resume_from} has no checkpoint to resume from")
            resume_from.rename(self.partial)  # claims it: a second claimant's rename fails
            self.group = zarr.open_group(str(self.partial), mode="r+")
            self.arrays = {f.name: self.group[f.name] for f in FIELDS}
            self.count, self.next_index = checkpoint["count"], checkpoint["next_index"]
            self.failures = list(checkpoint["failures"])
            self.resumed = self.count
            return
        self.group = zarr.open_group(str(self.partial), mode="w")
        self.group.attrs.update({**attrs, "schema_version": SCHEMA_VERSION, "capacity": capacity})
        self.arrays = {}
        for f in FIELDS:
            shape = (capacity, *f.sample_shape(height, width))
            if f.dtype == "str":
                self.arrays[f.name] = self.group.create_array(f.name, shape=shape, dtype=str, chunks=(BLOCK,))
            else:
                self.arrays[f.name] = self.group.create_array(
                    f.name, shape=shape, dtype=f.dtype, chunks=(1, *shape[1:]), shards=(BLOCK, *shape[1:]))
        self.count, self.next_index, self.failures, self.resumed = 0, first_index, [], 0

    def fail(self, failure: dict) -> None:
        """Record a sample that could not be made (index, stage, reason) and move past it."""
        self.failures.append(failure)
        self.next_index = failure["index"] + 1

    def append(self, sample: dict, index: int | None = None) -> None:
        missing = [f.name for f in FIELDS if f.name != "sha256" and f.name not in sample]
        if missing:
            raise ValueError(f"sample lacks {missing}")
        for name, value in sample.items():
            f = FIELD_BY_NAME[name]
            expected = f.sample_shape(self.height, self.width)
            if f.dtype != "str" and np.shape(value) != expected:
                raise ValueError(f"{name} has shape {np.shape(value)}, expected {expected}")
        if self.count + len(self.buffer) >= self.capacity:
            raise ValueError(f"shard is full ({self.capacity} samples)")
        self.buffer.append({**sample, "sha256": sample_checksum(sample)})
        self.next_index = (index if index is not None else self.next_index) + 1
        if len(self.buffer) == BLOCK:
            self._flush()
            self.group.attrs.update({"count": self.count, "next_index": self.next_index, "failures": self.failures})

    def _flush(self) -> None:
        if not self.buffer:
            return
        lo, hi = self.count, self.count + len(self.buffer)
        for f in FIELDS:
            values = [s[f.name] for s in self.buffer]
            self.arrays[f.name][lo:hi] = np.array(values, dtype=object if f.dtype == "str" else f.dtype)
        self.count = hi
        self.buffer = []

    def finish(self) -> Path:
        """Flush, record count and failures, check the folder is whole, and rename it into place.
        A complete shard is never replaced: if another attempt already finished this shard (a
        retried task), that one is kept (shards are deterministic). A partial that lost files
        under this writer is never published: TornShardError, and the task's retry redoes it."""
        self._flush()
        self.group.attrs.update({"count": self.count, "failures": self.failures, "next_index": None})
        problem = shard_structure_problem(self.partial)
        if problem is not None:
            raise TornShardError(f"{self.partial.name}: {problem} after writing; another process changed this "
                                 "shard's folder (two builds of one dataset?): the shard is not published")
        try:
            self.partial.rename(self.final)
        except OSError:
            if not (self.final / "zarr.json").exists():
                raise
            shutil.rmtree(self.partial, ignore_errors=True)
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)
