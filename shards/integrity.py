"""Is a shard folder whole? A structural check that reads only metadata files (no samples), cheap
enough to run on every shard of a dataset before a build decides what is done.

A shard is whole when its group metadata says it was finished (a count, no pending next index)
and every field of its schema has its array metadata. A folder that fails this was torn (a
second writer deleted files under it, a disk filled up): a build renders it again.
"""
from __future__ import annotations

import json
from pathlib import Path

from .schema import fields_of

METADATA_FILE = "zarr.json"


def group_attributes(folder: Path) -> dict | None:
    """The attributes a zarr group folder records in its metadata, None if it has none readable."""
    try:
        meta = json.loads((folder / METADATA_FILE).read_text())
    except (OSError, ValueError):
        return None
    return meta.get("attributes", {}) if isinstance(meta, dict) else None


def shard_structure_problem(folder: Path) -> str | None:
    """None when the shard folder is whole, else what is wrong with it (one phrase)."""
    folder = Path(folder)
    attrs = group_attributes(folder)
    if attrs is None:
        return f"no readable {METADATA_FILE}"
    if attrs.get("count") is None or attrs.get("next_index") is not None:
        return "not finished (no final count)"
    version = attrs.get("schema_version")
    if not isinstance(version, int):
        return "no schema version"
    missing = [f.name for f in fields_of(version) if not (folder / f.name / METADATA_FILE).is_file()]
    if missing:
        return f"missing arrays {missing}"
    return None
