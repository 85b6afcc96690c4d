"""A direct reader for the arrays MEFlow writes, for the training hot path.

Zarr's general machinery costs about a millisecond per array access; a training step reads five.
Our arrays have one layout (docs/shard_format.md): a sharding_indexed codec over blocks of samples,
one sample per inner chunk, inner codecs bytes(little) [+ zstd], index (offset, nbytes) uint64
pairs + crc32c at the end of each block file. For that layout this reader seeks to the chunk and
decodes it directly; anything else returns None and the caller uses zarr. Tests check it against
zarr sample by sample."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

INDEX_ENTRY_BYTES = 16  # (offset, nbytes), two little-endian uint64
CRC_BYTES = 4
EMPTY = np.uint64(2**64 - 1)
DTYPES = {"uint8": "<u1", "float32": "<f4", "float64": "<f8", "int64": "<i8", "bool": "|b1"}


class FastArray:
    """One per-sample array of a shard, readable by sample position."""

    def __init__(self, path: Path, meta: dict, sharding: dict) -> None:
        self.path = path
        self.shape = tuple(meta["shape"])
        self.block = meta["chunk_grid"]["configuration"]["chunk_shape"][0]
        self.dtype = np.dtype(DTYPES[meta["data_type"]])
        self.sample_shape = self.shape[1:]
        names = [c["name"] for c in sharding["codecs"]]
        self.zstd = None
        if names == ["bytes", "zstd"]:
            from numcodecs import Zstd

            self.zstd = Zstd()  # one decoder per array, not one per read
        self.indexes: dict[int, np.ndarray] = {}
        self.fill = meta.get("fill_value", 0)

    @classmethod
    def open(cls, path: Path) -> FastArray | None:
        try:
            meta = json.loads((path / "zarr.json").read_text())
        except (OSError, ValueError):
            return None
        codecs = meta.get("codecs", [])
        if (meta.get("data_type") not in DTYPES or len(codecs) != 1 or codecs[0]["name"] != "sharding_indexed"
                or meta["chunk_key_encoding"] != {"name": "default", "configuration": {"separator": "/"}}):
            return None
        sharding = codecs[0]["configuration"]
        inner = [c["name"] for c in sharding["codecs"]]
        little = all(c.get("configuration", {}).get("endian", "little") == "little" for c in sharding["codecs"] if c["name"] == "bytes")
        if (sharding["chunk_shape"] != [1, *meta["shape"][1:]] or inner not in (["bytes"], ["bytes", "zstd"]) or not little
                or [c["name"] for c in sharding["index_codecs"]] != ["bytes", "crc32c"] or sharding["index_location"] != "end"):
            return None
        return cls(path, meta, sharding)

    def _block_file(self, block: int) -> Path:
        return self.path / "c" / str(block) / "/".join("0" * len(self.sample_shape))

    def _index(self, block: int) -> np.ndarray | None:
        if block not in self.indexes:
            size = self.block * INDEX_ENTRY_BYTES + CRC_BYTES
            try:
                with open(self._block_file(block), "rb") as fh:
                    fh.seek(-size, 2)
                    raw = fh.read(size)
            except FileNotFoundError:
                return None
            self.indexes[block] = np.frombuffer(raw[:-CRC_BYTES], "<u8").reshape(self.block, 2)
        return self.indexes[block]

    def read(self, i: int) -> np.ndarray:
        block, j = divmod(i, self.block)
        index = self._index(block)
        if index is None or index[j, 0] == EMPTY:
            return np.full(self.sample_shape, self.fill, self.dtype)
        offset, nbytes = int(index[j, 0]), int(index[j, 1])
        with open(self._block_file(block), "rb") as fh:
            fh.seek(offset)
            raw = fh.read(nbytes)
        if self.zstd is not None:
            raw = self.zstd.decode(raw)
        return np.frombuffer(raw, self.dtype).reshape(self.sample_shape).copy()
