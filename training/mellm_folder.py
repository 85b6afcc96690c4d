"""A folder in MELLM's data layout, read as samples with the keys, dtypes and shapes of a shard's.

The layout is what MELLM's released WAFT loader reads and `meflow dataset export --format mellm`
writes:
```
<root>/labels/train_data.txt, test_data.txt      one sample folder per line, ending in '/'
<root>/labels/meflow_files.jsonl                 the train samples as JSONL (frame_1, frame_2,
<root>/labels/meflow_files_test.jsonl            facial_flow, head_flow, landmarks_onset/_apex;
                                                 test: frame_1, frame_2, facial_flow, head_flow, mask)
<sample>/render_output_exp_pose/frame_0001.png   onset; frame_0002.png apex
<sample>/render_output_exp_pose/0001.npz         facial flow, np.load(f)['optical_flow'] (H, W, 2) x first
<sample>/render_output_pose/0001.npz             head flow
<sample>/render_output_exp_pose/lm0.npy, lm1.npy WFLW-98 landmarks (98, 2) (x, y) of onset and apex
<sample>/mask.npy                                foreground 0/1 (H, W) uint8
```
MELLM joins a list line to file names by string concatenation, which is why lines end in '/'.
numpy and OpenCV (PNG decoding) only: no torch, nothing of the factory.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from facial.wflw98 import N_POINTS_WFLW, ibug68_from_wflw98

LABELS_DIR = "labels"
LIST_FILES = {"train": f"{LABELS_DIR}/train_data.txt", "test": f"{LABELS_DIR}/test_data.txt"}
JSONL_FILES = {"train": f"{LABELS_DIR}/meflow_files.jsonl", "test": f"{LABELS_DIR}/meflow_files_test.jsonl"}
JSONL_KEYS = {"train": ("frame_1", "frame_2", "facial_flow", "head_flow", "landmarks_onset", "landmarks_apex"),
              "test": ("frame_1", "frame_2", "facial_flow", "head_flow", "mask")}
EXP_DIR = "render_output_exp_pose/"  # onset, apex, facial flow and landmarks
POSE_DIR = "render_output_pose/"  # head flow
FLOW_KEY = "optical_flow"
SPLITS = ("train", "test", "all")
EXPORT_HINT = "write the folder with `meflow dataset export DATASET --format mellm --out FOLDER`"


def sample_files(prefix: str) -> dict[str, str]:
    """A list line (a sample folder ending in '/') -> {JSONL key: file}, joined by string
    concatenation as MELLM's loader joins them."""
    return {"frame_1": f"{prefix}{EXP_DIR}frame_0001.png", "frame_2": f"{prefix}{EXP_DIR}frame_0002.png",
            "facial_flow": f"{prefix}{EXP_DIR}0001.npz", "head_flow": f"{prefix}{POSE_DIR}0001.npz",
            "landmarks_onset": f"{prefix}{EXP_DIR}lm0.npy", "landmarks_apex": f"{prefix}{EXP_DIR}lm1.npy",
            "mask": f"{prefix}mask.npy"}


def is_mellm_folder(path: Path) -> bool:
    """True when `path` has labels/ with a train or a test list (a folder for evaluation may hold
    only the test list)."""
    path = Path(path)
    return (path / LABELS_DIR).is_dir() and any((path / name).is_file() for name in LIST_FILES.values())


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _read_frame(path: str) -> np.ndarray:
    from .flow_files import read_rgb  # OpenCV, the train group's: imported here so that is_mellm_folder needs none

    return read_rgb(Path(path), f"missing or not an image: {EXPORT_HINT}")


def _read_flow(path: str, size: tuple[int, int]) -> np.ndarray:
    try:
        arrays = np.load(path)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: cannot read the flow archive ({type(err).__name__}): {EXPORT_HINT}") from None
    if not isinstance(arrays, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is a bare array, not an .npz archive: save flows with np.savez(file, {FLOW_KEY}=flow)")
    with arrays:
        if FLOW_KEY not in arrays.files:
            raise ValueError(f"{path} holds {sorted(arrays.files)}, no '{FLOW_KEY}': save flows with np.savez(file, {FLOW_KEY}=flow)")
        flow = arrays[FLOW_KEY]
    if flow.shape != (*size, 2):
        raise ValueError(f"{path}: flow of shape {flow.shape}, the frames need {(*size, 2)}: flows are (H, W, 2) at the frames' size")
    return flow.astype(np.float32)


def _read_npy(path: str, shape: tuple[int, ...], what: str) -> np.ndarray:
    try:
        array = np.load(path)
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: cannot read {what} ({type(err).__name__}): {EXPORT_HINT}") from None
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{path} is an .npz archive: save {what} as one array with np.save")
    if array.shape != shape:
        raise ValueError(f"{path}: {what} of shape {array.shape}, expected {shape}")
    return array


class MellmFolder:
    """Samples of a MELLM-layout folder. Item n -> dict of numpy arrays as a shard sample:
    onset, apex (H, W, 3) uint8 RGB; flow_facial, flow_head (H, W, 2) float32; mask (H, W) bool;
    landmarks_onset, landmarks_apex (68, 2) float32 iBUG-68 (the shared points of lm0 / lm1);
    source_id, the sample folder's name.

    split: train | test | all, from labels/train_data.txt and test_data.txt. A list line names its
    folder as MELLM's loader opens it (a relative line: under `root`); a folder that does not exist
    as written (the export was moved) is looked up by its last name under `root`. The mask comes from the test JSONL when it
    names one that exists, else <sample>/mask.npy, else all True. A bad folder raises ValueError
    with one line naming the file and what to do.
    """

    def __init__(self, root: Path, split: str = "test") -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.root = Path(root)
        self.split = split
        self.prefixes: list[str] = []
        for part in ("train", "test") if split == "all" else (split,):
            listing = self.root / LIST_FILES[part]
            if not listing.is_file():
                raise ValueError(f"{listing} is missing: a MELLM folder lists its {part} samples there; {EXPORT_HINT}")
            self.prefixes += [self._locate(line, listing) for line in _read_lines(listing)]
        self.masks = self._jsonl_masks()

    def _locate(self, line: str, listing: Path) -> str:
        """The folder of a list line: as written (relative lines under root), else by its name under root."""
        written = Path(line) if Path(line).is_absolute() else self.root / line
        moved = self.root / Path(line).name
        for folder in (written, moved):
            if folder.is_dir():
                return f"{folder}/"
        raise ValueError(f"{listing}: sample folder {line!r} does not exist (nor {moved}): re-export, or fix the list")

    def _jsonl_masks(self) -> dict[str, str]:
        """{facial flow file: mask file} of the test JSONL entries whose mask exists."""
        path = self.root / JSONL_FILES["test"]
        if not path.is_file():
            return {}
        masks = {}
        for number, line in enumerate(_read_lines(path), start=1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                raise ValueError(f"{path}: line {number} is not JSON: one JSON object per line") from None
            if isinstance(entry, dict) and Path(str(entry.get("mask", ""))).is_file() and "facial_flow" in entry:
                masks[str(Path(entry["facial_flow"]).resolve())] = entry["mask"]
        return masks

    def __len__(self) -> int:
        return len(self.prefixes)

    def __getitem__(self, n: int) -> dict:
        prefix = self.prefixes[n]
        files = sample_files(prefix)
        onset, apex = _read_frame(files["frame_1"]), _read_frame(files["frame_2"])
        if onset.shape != apex.shape:
            raise ValueError(f"{files['frame_2']} is {apex.shape[1]}x{apex.shape[0]} but {files['frame_1']} is "
                             f"{onset.shape[1]}x{onset.shape[0]}: onset and apex frames must be the same size")
        size = onset.shape[:2]
        sample = {"onset": onset, "apex": apex,
                  "flow_facial": _read_flow(files["facial_flow"], size), "flow_head": _read_flow(files["head_flow"], size)}
        mask_file = self.masks.get(str(Path(files["facial_flow"]).resolve()), files["mask"])
        if Path(mask_file).is_file():
            sample["mask"] = _read_npy(mask_file, size, "the mask") != 0
        else:
            sample["mask"] = np.ones(size, bool)
        for name, key in (("landmarks_onset", "landmarks_onset"), ("landmarks_apex", "landmarks_apex")):
            wflw = _read_npy(files[key], (N_POINTS_WFLW, 2), "WFLW-98 landmarks")
            sample[name] = ibug68_from_wflw98(wflw).astype(np.float32)
        sample["source_id"] = Path(prefix.rstrip("/")).name
        return sample
