"""A dataset folder: `dataset.json` (provenance, recipe text and hash) and `shards/shard-NNNNN.zarr`."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from .integrity import shard_structure_problem
from .reader import ShardReader
from .schema import READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION
from .writer import PARTIAL_MARK, read_checkpoint, write_json_atomic

METADATA = "dataset.json"
SHARD_DIGITS = 5


class DatasetError(ValueError):
    """The dataset folder cannot be used as asked; the message says why and what to do."""


@dataclass(frozen=True)
class DatasetDir:
    root: Path

    @property
    def metadata_path(self) -> Path:
        return self.root / METADATA

    @property
    def shard_dir(self) -> Path:
        return self.root / "shards"

    def shard_path(self, s: int) -> Path:
        return self.shard_dir / f"shard-{s:0{SHARD_DIGITS}d}.zarr"

    def exists(self) -> bool:
        return self.metadata_path.exists()

    def metadata(self) -> dict:
        if not self.exists():
            raise DatasetError(f"{self.root} is not a MEFlow dataset (no {METADATA}): build one with `meflow dataset build --out {self.root}`")
        try:
            meta = json.loads(self.metadata_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise DatasetError(f"{self.metadata_path} is unreadable ({err}): the dataset folder is damaged") from None
        if meta.get("schema_version") not in READABLE_SCHEMA_VERSIONS:
            raise DatasetError(f"{self.root} has shard schema {meta.get('schema_version')!r}; this meflow reads "
                               f"{', '.join(map(str, READABLE_SCHEMA_VERSIONS))}: install the meflow that wrote it")
        return meta

    def write_metadata(self, data: dict) -> None:
        self.shard_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.metadata_path, data)

    def complete_shards(self) -> list[int]:
        """Indices of finished shards (partial folders never count)."""
        if not self.shard_dir.exists():
            return []
        out = []
        for p in self.shard_dir.iterdir():
            if p.name.startswith("shard-") and p.name.endswith(".zarr") and PARTIAL_MARK not in p.name:
                out.append(int(p.name[len("shard-"):-len(".zarr")]))
        return sorted(out)

    def torn_shards(self) -> dict[int, str]:
        """{shard: what is wrong} for shards under their final name that are not whole."""
        problems = {s: shard_structure_problem(self.shard_path(s)) for s in self.complete_shards()}
        return {s: p for s, p in problems.items() if p is not None}

    def remove_shard(self, s: int) -> None:
        """Delete shard s's final folder (a torn shard, before it is rendered again)."""
        shutil.rmtree(self.shard_path(s))

    def partials(self, s: int | None = None) -> list[Path]:
        """Half-written shard folders (of shard s, or all)."""
        if not self.shard_dir.exists():
            return []
        prefix = self.shard_path(s).name + PARTIAL_MARK if s is not None else None
        return sorted(p for p in self.shard_dir.iterdir()
                      if PARTIAL_MARK in p.name and (prefix is None or p.name.startswith(prefix)))

    def best_checkpoint(self, s: int) -> Path | None:
        """The partial folder of shard s with the most samples checkpointed; the others, and
        partials without a checkpoint, are deleted."""
        scored = [(read_checkpoint(p), p) for p in self.partials(s)]
        usable = sorted(((c["count"], p) for c, p in scored if c is not None), key=lambda t: t[0])
        best = usable[-1][1] if usable else None
        for _, p in scored:
            if p != best:
                shutil.rmtree(p, ignore_errors=True)
        return best

    def remove_stale_partials(self) -> int:
        """Delete partials that can never be used (their shard is complete, or no checkpoint)."""
        complete = set(self.complete_shards())
        stale = [p for p in self.partials() if int(p.name[len("shard-"):].split(".")[0]) in complete
                 or read_checkpoint(p) is None]
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return len(stale)

    def reader(self, s: int) -> ShardReader:
        return ShardReader(self.shard_path(s))

    def readers(self) -> dict[int, ShardReader]:
        return {s: self.reader(s) for s in self.complete_shards()}


def check_compatible(existing: dict, wanted: dict) -> None:
    """Refuse to mix: a dataset folder holds one recipe, one head model, one shard size."""
    if existing.get("schema_version") != SCHEMA_VERSION:
        raise DatasetError(f"the dataset in this folder has shard schema {existing.get('schema_version')} and this code writes "
                           f"{SCHEMA_VERSION} (other source ids): it still reads that dataset but never adds to it; "
                           "build into a new --out")
    for key, what in (("recipe_hash", "recipe"), ("head_model_fingerprint", "head model"),
                      ("samples_per_shard", "samples per shard"), ("width", "width"), ("height", "height")):
        if existing.get(key) != wanted.get(key):
            name = existing.get("recipe", {}).get("name") if key == "recipe_hash" else existing.get(key)
            raise DatasetError(
                f"the dataset in this folder was made with another {what} ({name!r}); a change is never mixed "
                f"into an existing dataset: choose a new --out for the new one")
