"""Where pairs come from: the samples of a MEFlow dataset (ground-truth expression flow,
landmarks and labels), or a CSV of real micro-expression clips as CASME II, SAMM, CAS(ME)^3 and
DFME annotations give them (flow from a flow method, landmarks from a file or a detector).

A source yields `Item`s, or `RowError`s for rows that cannot become one (a missing field, an
unknown emotion); an Item's `load()` reads the images and computes the flow, raising ValueError
with the reason when it cannot (a missing file, a landmark array of the wrong shape, NaN, a flow of
another size than its image). Nothing here stops a run for one bad row.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facial.action_units import ActionUnit, parse_au_list
from facial.ibug68 import N_POINTS
from shards.flo import read_flo
from shards.flows import FlowMethod, FlowPrediction
from shards.layout import DatasetDir, DatasetError
from shards.splits import SplitRule

from .answers import Labels
from .labels import normalise_emotion
from .motion import check_flow_and_landmarks

LandmarkDetector = Callable[[np.ndarray], np.ndarray]  # (H, W, 3) uint8 RGB -> (68, 2) pixels


@dataclass(frozen=True)
class PairData:
    """onset, apex (H, W, 3) uint8 RGB; flow (H, W, 2) pixels onset -> apex (the expression flow
    when the method gives a head flow); landmarks (68, 2) iBUG-68 pixels of the onset;
    head_removed: the flow is an exact expression flow (ground truth), no nose-tip compensation."""

    onset: np.ndarray
    apex: np.ndarray
    flow: np.ndarray
    landmarks: np.ndarray
    head_removed: bool = False


@dataclass(frozen=True)
class Item:
    id: str
    row: int  # 1-based position in the source (a CSV's data row, a dataset's sample order)
    subject: str
    split: str
    labels: Labels
    origin: str  # where it came from, for the record's metadata
    load: Callable[[], PairData]
    image_paths: tuple[Path, Path] | None = None  # existing files to point at (a CSV's frames)


@dataclass(frozen=True)
class RowError:
    row: int
    id: str
    reason: str


def units_from_labels(labels: dict) -> tuple[ActionUnit, ...] | None:
    """The `action_units` of a shard's labels JSON as ActionUnits (None when absent)."""
    units = labels.get("action_units")
    return None if units is None else tuple(ActionUnit.from_json(u) for u in units)


def check_pair(data: PairData) -> PairData:
    """ValueError with the reason when the arrays of a pair do not fit together: two images of one
    size, a flow of that size, and what every prompt needs (`motion.check_flow_and_landmarks`)."""
    if data.onset.shape != data.apex.shape or data.onset.ndim != 3:
        raise ValueError(f"onset {data.onset.shape} and apex {data.apex.shape} are not two RGB images of one size")
    if data.flow.shape[:2] != data.onset.shape[:2]:
        raise ValueError(f"the flow is {data.flow.shape[:2]} but its image is {data.onset.shape[:2]}: "
                         f"a flow of another image?")
    check_flow_and_landmarks(data.flow, data.landmarks)
    return data


# --- a MEFlow dataset ------------------------------------------------------------------------------

def dataset_items(root: Path) -> tuple[dict, Iterator[Item | RowError]]:
    """(dataset.json, items of every sample in shard order). DatasetError when the dataset has no
    emotion labels (a recipe without [emotions], or FLAME's unnamed expressions)."""
    layout = DatasetDir(Path(root))
    meta = layout.metadata()
    shards = layout.complete_shards()
    if not shards:
        raise DatasetError(f"{root} has no finished shard: build it first (meflow dataset build)")
    first = json.loads(layout.reader(shards[0]).read(0, ("labels",))["labels"])
    if "emotion" not in first:
        au_note = ("its samples carry action units but no emotion" if "action_units" in first else
                   f"its head model ({meta.get('head_model', '?')}) names no action units (FLAME's PCA expressions) "
                   "and its recipe no emotions")
        raise DatasetError(f"{root} carries no emotion labels: {au_note}; build one from an emotions recipe "
                           "with the stand-in head (meflow dataset build --recipe meflow-emotions)")
    rule = SplitRule.from_metadata(meta)
    return meta, _dataset_items(layout, shards, rule, meta["recipe"]["name"])


def _dataset_items(layout: DatasetDir, shards: list[int], rule: SplitRule, name: str) -> Iterator[Item | RowError]:
    row = 0
    for s in shards:
        reader = layout.reader(s)
        for i in range(len(reader)):
            row += 1
            head = reader.read(i, ("sample_index", "source_id", "labels"))
            sample_id = f"{name}-{int(head['sample_index']):07d}"
            try:
                labels = json.loads(head["labels"])
                item_labels = Labels(normalise_emotion(labels["emotion"]), units_from_labels(labels))
            except (ValueError, KeyError, TypeError) as err:
                yield RowError(row, sample_id, f"unreadable labels: {err}")
                continue
            yield Item(sample_id, row, str(head["source_id"]), rule.split_of(str(head["source_id"])), item_labels,
                       f"{layout.root.name}:shard {s} sample {i}", _shard_loader(reader, i))


def _shard_loader(reader, i: int) -> Callable[[], PairData]:
    def load() -> PairData:
        sample = reader.read(i, ("onset", "apex", "flow_expression", "landmarks_onset"))
        return check_pair(PairData(np.asarray(sample["onset"]), np.asarray(sample["apex"]),
                                   np.asarray(sample["flow_expression"], np.float32),
                                   np.asarray(sample["landmarks_onset"], np.float64), head_removed=True))
    return load


# --- a CSV of real clips ---------------------------------------------------------------------------

# Column names as the datasets' annotation sheets spell them (compared lower-case, without spaces,
# underscores or dashes) -> ours.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "onset": ("onset", "onsetpath", "onsetframe", "onsetimage"),
    "apex": ("apex", "apexpath", "apexframe", "apeximage"),
    "subject": ("subject", "subjectid", "sub", "participant"),
    "emotion": ("emotion", "estimatedemotion", "emotiontype", "objectiveclass", "category", "label"),
    "aus": ("aus", "au", "actionunits", "actionunit"),
    "landmarks": ("landmarks", "landmarkspath", "onsetlandmarks"),
    "flow": ("flow", "flowpath"),
    "id": ("id", "clip", "filename", "sample"),
}
REQUIRED_COLUMNS = ("onset", "apex", "subject", "emotion")


def _column_map(header: list[str], path: Path) -> dict[str, str]:
    squash = {re.sub(r"[\s_\-]", "", h.lower()): h for h in header}
    found = {ours: next((squash[a] for a in aliases if a in squash), None) for ours, aliases in COLUMN_ALIASES.items()}
    missing = [c for c in REQUIRED_COLUMNS if found[c] is None]
    if missing:
        raise ValueError(f"{path}: no column for {missing} (have {header}); name them {list(REQUIRED_COLUMNS)}")
    return {ours: column for ours, column in found.items() if column is not None}


def read_rgb(path: Path) -> np.ndarray:
    """An image file -> (H, W, 3) uint8 RGB; ValueError naming the file when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise ValueError(f"missing image {path}") from None
    except (OSError, UnidentifiedImageError) as err:
        raise ValueError(f"cannot read the image {path}: {err}") from None


def read_landmarks(path: Path) -> np.ndarray:
    try:
        landmarks = np.load(path)
    except FileNotFoundError:
        raise ValueError(f"missing landmarks {path}") from None
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read the landmarks {path}: {err}") from None
    if landmarks.shape != (N_POINTS, 2):
        raise ValueError(f"{path} holds landmarks of shape {landmarks.shape}: expected iBUG-68, (68, 2) pixels")
    return landmarks.astype(np.float64)


def read_flow(path: Path) -> np.ndarray:
    """A .flo (Middlebury) or .npy (H, W, 2) flow file."""
    if not path.exists():
        raise ValueError(f"missing flow {path}")
    flow = read_flo(path) if path.suffix.lower() == ".flo" else np.load(path)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"{path} holds a flow of shape {flow.shape}: expected (H, W, 2)")
    return flow.astype(np.float32)


def flow_of(prediction) -> np.ndarray:
    """A method's answer -> the flow to describe: facial - head when it gives a head flow (the
    expression flow), else its facial flow (the nose tip removes the head's shift)."""
    if isinstance(prediction, FlowPrediction):
        return prediction.expression if prediction.head is not None else prediction.facial
    return np.asarray(prediction)


def csv_items(path: Path, method: FlowMethod | None, detector: LandmarkDetector | None,
              rule: SplitRule) -> Iterator[Item | RowError]:
    """Items of a CSV with columns onset, apex, subject, emotion and optionally aus, landmarks (an
    .npy of the onset's iBUG-68 points), flow (.flo / .npy), id. Paths are relative to the CSV's
    folder. Needs `method` unless every row names a flow, `detector` unless every row names
    landmarks. ValueError for a CSV without the required columns."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as err:
        raise ValueError(f"cannot read the pairs CSV {path}: {err}") from None
    with handle:
        reader = csv.DictReader(handle)
        columns = _column_map(reader.fieldnames or [], path)
        rows = list(reader)
    for row_number, row in enumerate(rows, start=1):
        fields = {ours: (row.get(col) or "").strip() for ours, col in columns.items()}
        item_id = fields.get("id") or f"{fields['subject']}_{hashlib.sha1((fields['onset'] + '|' + fields['apex']).encode()).hexdigest()[:10]}"
        item_id = re.sub(r"[^A-Za-z0-9._-]", "_", item_id)
        empty = [c for c in REQUIRED_COLUMNS if not fields[c]]
        if empty:
            yield RowError(row_number, item_id, f"missing {', '.join(empty)}")
            continue
        try:
            labels = Labels(normalise_emotion(fields["emotion"]),
                            parse_au_list(fields["aus"]) if "aus" in fields else None)
        except ValueError as err:
            yield RowError(row_number, item_id, str(err))
            continue
        onset, apex = (path.parent / fields["onset"], path.parent / fields["apex"])
        landmarks = path.parent / fields["landmarks"] if fields.get("landmarks") else None
        flow = path.parent / fields["flow"] if fields.get("flow") else None
        yield Item(item_id, row_number, fields["subject"], rule.split_of(fields["subject"]), labels,
                   f"{path.name}:row {row_number}", _csv_loader(onset, apex, landmarks, flow, method, detector),
                   image_paths=(onset, apex))


def _csv_loader(onset_path: Path, apex_path: Path, landmarks_path: Path | None, flow_path: Path | None,
                method: FlowMethod | None, detector: LandmarkDetector | None) -> Callable[[], PairData]:
    def load() -> PairData:
        onset, apex = read_rgb(onset_path), read_rgb(apex_path)
        if landmarks_path is not None:
            landmarks = read_landmarks(landmarks_path)
        elif detector is not None:
            landmarks = np.asarray(detector(onset), np.float64)
        else:
            raise ValueError("the row names no landmarks and no landmark detector is set (--landmarks mediapipe)")
        if flow_path is not None:
            flow = read_flow(flow_path)
        elif method is not None:
            flow = flow_of(method.predict(onset, apex))
        else:
            raise ValueError("the row names no flow file and no flow method is set (--flow-model)")
        return check_pair(PairData(onset, apex, np.asarray(flow, np.float32), landmarks))
    return load


def read_sample(root: Path, sample: str) -> dict:
    """One sample of a dataset by id ("meflow-emotions-0000003") or index k ("3"): its fields plus
    "id" and "flow_expression". ValueError when there is none."""
    layout = DatasetDir(Path(root))
    try:
        meta = layout.metadata()
    except DatasetError as err:
        raise ValueError(str(err)) from None
    name = meta["recipe"]["name"]
    text = str(sample).strip()
    k = int(text[len(name) + 1:]) if text.startswith(f"{name}-") and text[len(name) + 1:].isdigit() else (
        int(text) if text.isdigit() else None)
    if k is None:
        raise ValueError(f"--sample {sample!r} is neither an index nor an id like {name}-0000003")
    for s in layout.complete_shards():
        reader = layout.reader(s)
        indices = reader.column("sample_index")
        hits = np.nonzero(indices == k)[0]
        if len(hits):
            fields = reader.read(int(hits[0]), ("onset", "apex", "flow_expression", "landmarks_onset", "labels"))
            return {**fields, "id": f"{name}-{k:07d}"}
    raise ValueError(f"{root} has no sample {sample!r} (failed, or beyond its {meta['shards']} x {meta['samples_per_shard']} samples)")


def au_samples(root: Path, limit: int | None = None) -> list[tuple[tuple[ActionUnit, ...], np.ndarray]]:
    """(action units, (29,) region magnitudes of the ground-truth expression flow) per sample of a
    dataset whose labels carry action units. ValueError when they carry none."""
    from .motion import region_magnitudes, region_motion

    layout = DatasetDir(Path(root))
    try:
        layout.metadata()
    except DatasetError as err:
        raise ValueError(str(err)) from None
    out = []
    for s in layout.complete_shards():
        reader = layout.reader(s)
        for i in range(len(reader)):
            if limit is not None and len(out) >= limit:
                return out
            sample = reader.read(i, ("flow_expression", "landmarks_onset", "labels"))
            labels = json.loads(sample["labels"])
            if "action_units" not in labels:
                raise ValueError(f"{root} carries no action units: its head model's expressions name none "
                                 "(FLAME's PCA directions); build with the stand-in head")
            units = units_from_labels(labels)
            magnitudes = region_magnitudes(region_motion(sample["flow_expression"], sample["landmarks_onset"], head_removed=True))
            out.append((units, magnitudes))
    if not out:
        raise ValueError(f"{root} has no finished samples")
    return out
