"""Export a shard dataset as files: `flo` (our per-sample layout, Middlebury .flo) or `mellm`
(the layout MELLM's public WAFT-based loader reads, see `training.mellm_folder`).

mellm: <OUT>/<sample_id>/render_output_exp_pose/{frame_0001.png (onset), frame_0002.png (apex),
0001.npz (facial flow), lm0.npy, lm1.npy} and render_output_pose/0001.npz (head flow), flows as
np.savez(..., optical_flow=(H, W, 2) float32, x first); <sample_id>/mask.npy the foreground (0/1
uint8). lm0 / lm1 are WFLW-98 (98, 2) float32 pixels, `facial.wflw98.wflw98_from_ibug68` of the
shard's iBUG-68 onset / apex landmarks: the 68 shared points are the stored ones exactly, the 30
others are fixed combinations of them in the image. (The same map on the 3D landmarks before the
projection would differ only by perspective across a few millimetres of face: far below a pixel;
it would need the head model that built the dataset, which an export does not.)

The split is the dataset's identity split (the SplitRule its dataset.json records), so no identity
is on both sides. <OUT>/labels/train_data.txt and test_data.txt list the sample folders, one a
line ending in '/', and labels/meflow_files.jsonl (train: frame_1, frame_2, facial_flow, head_flow,
landmarks_onset, landmarks_apex) and meflow_files_test.jsonl (test: frame_1, frame_2, facial_flow,
head_flow, mask) list their files. Every path is ABSOLUTE: MELLM's loader opens list lines and JSONL
paths as written, from wherever it runs (`training.mellm_folder.MellmFolder` still finds a moved
export under its root). The .txt lists and the JSONL describe the same samples: MELLM's train loader
reads train_data.txt and a JSONL of extra data, so point it at one of them, not both.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facial.flame_layout import SCALE_NAMES
from facial.wflw98 import wflw98_from_ibug68
from shards.layout import DatasetDir
from shards.splits import SplitRule
from training.mellm_folder import FLOW_KEY, JSONL_FILES, JSONL_KEYS, LIST_FILES, sample_files

from ..synthesis.seeds import sample_id
from .sample_files import write_core_files, write_png

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


def _write_mellm(prefix: str, sample: dict) -> None:
    """One sample in MELLM's layout under the folder `prefix` (ending in '/')."""
    files = sample_files(prefix)
    for key in ("frame_1", "facial_flow", "head_flow", "mask"):
        Path(files[key]).parent.mkdir(parents=True, exist_ok=True)
    write_png(Path(files["frame_1"]), sample["onset"])
    write_png(Path(files["frame_2"]), sample["apex"])
    np.savez(files["facial_flow"], **{FLOW_KEY: np.asarray(sample["flow_facial"], np.float32)})
    np.savez(files["head_flow"], **{FLOW_KEY: np.asarray(sample["flow_head"], np.float32)})
    np.save(files["landmarks_onset"], wflw98_from_ibug68(np.asarray(sample["landmarks_onset"], np.float32)))
    np.save(files["landmarks_apex"], wflw98_from_ibug68(np.asarray(sample["landmarks_apex"], np.float32)))
    np.save(files["mask"], np.asarray(sample["mask"]).astype(np.uint8))


def _write_mellm_lists(out: Path, prefixes: dict[str, list[str]]) -> None:
    """labels/{train,test}_data.txt and the JSONL lists of the samples of each split."""
    (out / LIST_FILES["train"]).parent.mkdir(parents=True, exist_ok=True)
    for split, entries in prefixes.items():
        (out / LIST_FILES[split]).write_text("".join(f"{prefix}\n" for prefix in entries))
        lines = []
        for prefix in entries:
            files = sample_files(prefix)
            lines.append(json.dumps({key: files[key] for key in JSONL_KEYS[split]}) + "\n")
        (out / JSONL_FILES[split]).write_text("".join(lines))


def export(root: Path, out: Path, fmt: str) -> int:
    """Write every sample of the dataset at `root` under `out` as `fmt` (flo | mellm); returns how
    many. mellm also writes the train / test lists, split by identity (see the module docstring)."""
    layout = DatasetDir(root)
    meta = layout.metadata()
    split = SplitRule.from_metadata(meta)
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()  # mellm lists absolute paths
    prefixes: dict[str, list[str]] = {"train": [], "test": []}
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
                _write_mellm(f"{folder}/", sample)
                prefixes[split.split_of(str(sample["source_id"]))].append(f"{folder}/")
            count += 1
    if fmt == "mellm":
        _write_mellm_lists(out, prefixes)
    return count
