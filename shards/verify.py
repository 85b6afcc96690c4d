"""Check every shard of a dataset: schema, counts, finite values, checksums."""
from __future__ import annotations

import numpy as np

from .layout import DatasetDir, DatasetError
from .reader import ShardReader
from .schema import fields_of, sample_checksum


def verify_shard(reader: ShardReader, shard: int, samples_per_shard: int, schema_version: int) -> list[str]:
    """Problems found in one shard of a dataset of `schema_version` (empty: fine)."""
    problems = []
    attrs = reader.attrs
    if attrs.get("schema_version") != schema_version:
        return [f"schema {attrs.get('schema_version')} in a dataset of schema {schema_version}"]
    missing = [f.name for f in fields_of(schema_version) if f.name not in reader.group]
    if missing:
        return [f"missing arrays {missing}"]
    n = len(reader)
    failed = {f["index"] for f in reader.failures}
    if n + len(failed) != samples_per_shard:
        problems.append(f"{n} samples + {len(failed)} recorded failures != {samples_per_shard}")
    indices = reader.column("sample_index")
    expected = [k for k in range(shard * samples_per_shard, (shard + 1) * samples_per_shard) if k not in failed]
    if indices.tolist() != expected:
        problems.append("sample indices are not the shard's own, in order, without duplicates")
    for i in range(n):
        sample = reader.read(i)
        for name in ("flow_facial", "flow_head", "landmarks_onset", "landmarks_apex", "scales"):
            if not np.all(np.isfinite(sample[name])):
                problems.append(f"sample {i}: {name} holds NaN or infinite values")
        if sample_checksum(sample, schema_version) != sample["sha256"]:
            problems.append(f"sample {i} (index {int(sample['sample_index'])}): checksum mismatch")
    return problems


def verify_dataset(layout: DatasetDir) -> dict[int, list[str]]:
    """{shard: problems} for every shard with problems, including missing ones."""
    meta = layout.metadata()
    m = meta["samples_per_shard"]
    bad: dict[int, list[str]] = {}
    complete = set(layout.complete_shards())
    for s in range(meta["shards"]):
        if s not in complete:
            bad[s] = ["missing (run the same build command again to finish it)"]
            continue
        try:
            problems = verify_shard(layout.reader(s), s, m, meta["schema_version"])
        except Exception as err:  # noqa: BLE001 - a corrupt shard can fail in many ways
            problems = [f"unreadable: {type(err).__name__}: {err}"]
        if problems:
            bad[s] = problems
    return bad


__all__ = ["verify_dataset", "verify_shard", "DatasetError"]
