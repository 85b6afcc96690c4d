"""Small shard datasets written with the real writer from synthetic samples (no rendering)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shards.layout import DatasetDir
from shards.schema import SCHEMA_VERSION
from shards.writer import ShardWriter

SIZE = 16


def synthetic_sample(k: int, identity: int) -> dict:
    rng = np.random.default_rng(k)
    return {
        "onset": rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8),
        "apex": rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8),
        "flow_facial": rng.normal(0, 0.3, (SIZE, SIZE, 2)).astype(np.float32),
        "flow_head": rng.normal(0, 0.1, (SIZE, SIZE, 2)).astype(np.float32),
        "mask": rng.random((SIZE, SIZE)) > 0.3,
        "landmarks_onset": rng.uniform(0, SIZE, (68, 2)).astype(np.float32),
        "landmarks_apex": rng.uniform(0, SIZE, (68, 2)).astype(np.float32),
        "shape": rng.normal(size=300).astype(np.float32),
        "expression": rng.normal(size=(3, 50)).astype(np.float32),
        "jaw": np.zeros((3, 3), np.float32), "pose": np.zeros((3, 3), np.float32),
        "eyelids": np.zeros((3, 2), np.float32), "scales": np.array([0.1, 0.2, 0.15, 0.21], np.float32),
        "camera": np.eye(4), "intrinsics": np.array([40.0, 7.5, 7.5]), "sample_index": np.int64(k),
        "source_id": f"photo-{identity:04d}", "scene": json.dumps({"k": k}), "labels": "{}",
    }


def write_dataset(root: Path, shards: int = 4, per_shard: int = 5, samples_per_identity: int = 3) -> DatasetDir:
    layout = DatasetDir(root)
    layout.write_metadata({"schema_version": SCHEMA_VERSION, "recipe": {"name": "synthetic", "version": 1, "file": "x", "text": ""},
                           "recipe_hash": "0" * 64, "head_model": "test", "head_model_fingerprint": "f",
                           "samples_per_shard": per_shard, "shards": shards, "width": SIZE, "height": SIZE})
    for s in range(shards):
        writer = ShardWriter(layout.shard_path(s), per_shard, SIZE, SIZE, {"shard": s})
        for k in range(s * per_shard, (s + 1) * per_shard):
            writer.append(synthetic_sample(k, k // samples_per_identity))
        writer.finish()
    return layout
