"""Write one shard: samples are buffered BLOCK at a time (memory does not grow with the shard),
each block lands as one storage object per array, and the shard appears under its final name
only when complete (a directory rename), so a killed run never leaves a torn shard behind."""
from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import numpy as np
import zarr

from .schema import BLOCK, FIELD_BY_NAME, FIELDS, SCHEMA_VERSION, sample_checksum

PARTIAL_MARK = ".partial-"


class ShardWriter:
    """Usage: `w = ShardWriter(final, capacity, H, W, attrs)`; `w.append(sample)` per sample;
    `w.finish(failures)` -> final path. Samples are dicts keyed by schema field (sha256 is added)."""

    def __init__(self, final: Path, capacity: int, height: int, width: int, attrs: dict) -> None:
        self.final = Path(final)
        self.partial = self.final.with_name(f"{self.final.name}{PARTIAL_MARK}{uuid.uuid4().hex[:8]}")
        self.height, self.width, self.capacity = height, width, capacity
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
        self.buffer: list[dict] = []
        self.count = 0

    def append(self, sample: dict) -> None:
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
        if len(self.buffer) == BLOCK:
            self._flush()

    def _flush(self) -> None:
        if not self.buffer:
            return
        lo, hi = self.count, self.count + len(self.buffer)
        for f in FIELDS:
            values = [s[f.name] for s in self.buffer]
            self.arrays[f.name][lo:hi] = np.array(values, dtype=object if f.dtype == "str" else f.dtype)
        self.count = hi
        self.buffer = []

    def finish(self, failures: list[dict]) -> Path:
        """Flush, record count and failures, and rename into place. If another attempt already
        finished this shard (a retried task), keep that one: shards are deterministic."""
        self._flush()
        self.group.attrs.update({"count": self.count, "failures": failures})
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
