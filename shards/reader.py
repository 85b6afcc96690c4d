"""Random access to samples: one sample reads only its own chunks."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import zarr

from .fast_read import FastArray
from .flows import DERIVED_FIELDS, derive
from .schema import FIELD_BY_NAME, FIELD_DEFAULTS, SCHEMA_VERSION, fields_of


class ShardReader:
    """A finished shard. `len(r)`; `r.read(i, fields)` -> dict of per-sample arrays / strings."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.group = zarr.open_group(str(self.path), mode="r")
        self.attrs = dict(self.group.attrs)
        self.schema_version = int(self.attrs.get("schema_version", SCHEMA_VERSION))
        self.fields = fields_of(self.schema_version)

    def __len__(self) -> int:
        return int(self.attrs["count"])

    @cached_property
    def arrays(self) -> dict:
        return {f.name: self.group[f.name] for f in self.fields}

    @cached_property
    def fast(self) -> dict:
        """Direct readers for numeric arrays in MEFlow's own layout (see fast_read)."""
        out = {}
        for f in self.fields:
            if f.dtype != "str":
                reader = FastArray.open(self.path / f.name)
                if reader is not None:
                    out[f.name] = reader
        return out

    def read(self, i: int, fields: tuple[str, ...] | None = None, use_zarr: bool = False) -> dict:
        """One sample's fields: stored ones (schema.FIELDS) and derived ones (flows.DERIVED_FIELDS,
        e.g. flow_expression). The fast path and zarr give identical values (tested)."""
        if not 0 <= i < len(self):
            raise IndexError(f"sample {i} of a shard with {len(self)}")
        wanted = tuple(fields or FIELD_BY_NAME)
        unknown = [n for n in wanted if n not in FIELD_BY_NAME and n not in DERIVED_FIELDS]
        if unknown:
            raise KeyError(f"no field {unknown} in a shard: choose from {[*FIELD_BY_NAME, *DERIVED_FIELDS]}")
        stored = {n for n in wanted if n in FIELD_BY_NAME}
        stored |= {s for n in wanted if n in DERIVED_FIELDS for s in DERIVED_FIELDS[n][0]}
        values = {name: self._read_stored(i, name, use_zarr) for name in stored}
        return {name: values[name] if name in values else derive(name, values) for name in wanted}

    def _read_stored(self, i: int, name: str, use_zarr: bool):
        if name not in self.arrays:  # added to the schema after this shard's version
            return FIELD_DEFAULTS[name]
        if not use_zarr and name in self.fast:
            return self.fast[name].read(i)
        value = self.arrays[name][i]
        return str(value) if FIELD_BY_NAME[name].dtype == "str" else np.asarray(value)

    def column(self, name: str) -> np.ndarray:
        """A whole per-sample field for the shard's samples (for small fields: ids, scales)."""
        if name not in self.arrays:
            return np.array([FIELD_DEFAULTS[name]] * len(self), dtype=object)
        return np.asarray(self.arrays[name][: len(self)])

    @property
    def failures(self) -> list[dict]:
        return list(self.attrs.get("failures", []))
