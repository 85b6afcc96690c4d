"""Export a shard dataset as files: `flo` (our per-sample layout, Middlebury .flo) or `mellm`
(the layout MELLM's public WAFT-based loader reads)."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from facial.flame_layout import SCALE_NAMES
from shards.layout import DatasetDir
from shards.splits import SplitRule

from ..synthesis.seeds import sample_id
from .sample_files import write_core_files

FORMATS = ("flo", "mellm")


def _params(sample: dict, meta: dict) -> dict:
    return {
        "sample_id": sample_id(meta["recipe"]["name"], int(sample["sample_index"])),
        "index": int(sample["sample_index"]), "source_id": sample["source_id"],
        "recipe": meta["recipe"]["name"], "recipe_hash": meta["recipe_hash"],
        "head_model_fingerprint": meta["head_model_fingerprint"],
        "scales": dict(zip(SCALE_NAMES, sample["scales"].tolist())),
        "landmarks_onset": sample["landmarks_onset"].round(4).tolist(),
        "landmarks_apex": sample["landmarks_apex"].round(4).tolist(),
        "camera": {"world_from_camera": sample["camera"].tolist(), "intrinsics": sample["intrinsics"].tolist()},
        "scene": json.loads(sample["scene"]),
    }


def _write_mellm(folder: Path, sample: dict) -> dict:
    """MELLM's loader reads <sample>/render_output_exp_pose/{frame_0001.png, frame_0002.png,
    0001.npz, lm0.npy, lm1.npy} and <sample>/render_output_pose/0001.npz (flows as npz key 'flow')."""
    exp, pose = folder / "render_output_exp_pose", folder / "render_output_pose"
    exp.mkdir(parents=True, exist_ok=True)
    pose.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(exp / "frame_0001.png"), sample["onset"][..., ::-1])
    cv2.imwrite(str(exp / "frame_0002.png"), sample["apex"][..., ::-1])
    np.savez(exp / "0001.npz", flow=sample["flow_facial"])
    np.savez(pose / "0001.npz", flow=sample["flow_head"])
    np.save(exp / "lm0.npy", sample["landmarks_onset"])
    np.save(exp / "lm1.npy", sample["landmarks_apex"])
    np.save(folder / "mask.npy", sample["mask"].astype(np.uint8))
    return {"frame_1": str(exp / "frame_0001.png"), "frame_2": str(exp / "frame_0002.png"),
            "facial_flow": str(exp / "0001.npz"), "head_flow": str(pose / "0001.npz"),
            "landmarks_onset": str(exp / "lm0.npy"), "landmarks_apex": str(exp / "lm1.npy"), "mask": str(folder / "mask.npy")}


def export(root: Path, out: Path, fmt: str) -> int:
    """Write every sample; returns how many. mellm also writes train/test lists split by identity."""
    layout = DatasetDir(root)
    meta = layout.metadata()
    split = SplitRule.from_metadata(meta)
    out.mkdir(parents=True, exist_ok=True)
    lists = {"train": [], "test": []}
    count = 0
    for reader in layout.readers().values():
        for i in range(len(reader)):
            sample = reader.read(i)
            params = _params(sample, meta)
            folder = out / params["sample_id"]
            if fmt == "flo":
                write_core_files(folder, sample["onset"], sample["apex"], sample["flow_facial"], sample["flow_head"],
                                 sample["mask"], params)
            else:
                entry = _write_mellm(folder, sample)
                lists[split.split_of(sample["source_id"])].append((f"{folder}/", entry))
            count += 1
    if fmt == "mellm":
        for name, entries in lists.items():
            (out / f"{name}_data.txt").write_text("".join(f"{prefix}\n" for prefix, _ in entries))
            (out / f"files_{name}.jsonl").write_text("".join(json.dumps(e) + "\n" for _, e in entries))
    return count
