"""What `meflow fit` reads: single images, image folders, AffectNet's CSV, encoder parameters.

Each source yields FitItems. A row or file that cannot be used becomes an item with `error` set,
so the run records it with its reason and goes on.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facial.flame_layout import FACE_PARAMS
from facial.ibug68 import check_landmarks

from .images import IMAGE_SUFFIXES

AFFECTNET_COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height",
                     "facial_landmarks", "expression", "valence", "arousal")
AFFECTNET_EXPRESSIONS = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt",
                         "none", "uncertain", "no-face")
PARAM_SUFFIXES = (".npz", ".json")


@dataclass
class FitItem:
    """One thing to fit. name: its output folder; image: the photo (None for parameters alone);
    landmarks (68, 2) when the source gives them; params: encoder parameters when precomputed."""

    name: str
    source_id: str
    image: Path | None = None
    landmarks: np.ndarray | None = None
    params: dict | None = None
    meta: dict = field(default_factory=dict)
    error: str | None = None


def unique_names(stems: list[str]) -> list[str]:
    """Output folder names: the stem, or stem~2, stem~3 ... when stems repeat (in input order)."""
    seen: dict[str, int] = {}
    names = []
    for stem in stems:
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}~{seen[stem]}")
    return names


def image_items(paths: list[Path]) -> list[FitItem]:
    names = unique_names([p.stem for p in paths])
    return [FitItem(name=n, source_id=f"image:{p.name}", image=p) for n, p in zip(names, paths)]


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def parse_affectnet_landmarks(text: str) -> np.ndarray:
    """'x;y;x;y;...' (136 numbers) -> (68, 2); ValueError with the reason otherwise."""
    parts = [p for p in str(text).strip().split(";") if p.strip() != ""]
    try:
        values = np.array([float(p) for p in parts])
    except ValueError:
        raise ValueError("facial_landmarks holds something that is not a number") from None
    if len(values) % 2:
        raise ValueError(f"facial_landmarks has {len(values)} numbers, not x;y pairs")
    return check_landmarks(values.reshape(-1, 2), "facial_landmarks")


def affectnet_items(csv_path: Path, image_root: Path | None = None) -> list[FitItem]:
    """AffectNet's training.csv / validation.csv: one item per row, its landmarks from the CSV.
    Images are looked up under image_root (default: the CSV's folder)."""
    csv_path = Path(csv_path)
    root = Path(image_root) if image_root else csv_path.parent
    with open(csv_path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{csv_path.name}: empty file, expected AffectNet's header {','.join(AFFECTNET_COLUMNS)}")
        header = [h.strip() for h in header]
        missing = [c for c in ("subDirectory_filePath", "facial_landmarks") if c not in header]
        if missing:
            raise ValueError(f"{csv_path.name}: not an AffectNet CSV, columns {missing} are missing "
                             f"(expected {','.join(AFFECTNET_COLUMNS)})")
        col = {name: header.index(name) for name in header}
        rows = list(enumerate(reader, start=2))
    stems, parsed = [], []
    for line, row in rows:
        rel = row[col["subDirectory_filePath"]].strip() if len(row) > col["subDirectory_filePath"] else ""
        stems.append(Path(rel).stem if rel else f"row{line}")
        parsed.append((line, row, rel))
    items = []
    for name, (line, row, rel) in zip(unique_names(stems), parsed):
        item = FitItem(name=name, source_id=f"affectnet:{rel or f'row{line}'}", image=root / rel if rel else None,
                       meta={"csv_line": line})
        try:
            if len(row) != len(header):
                raise ValueError(f"{len(row)} fields where the header has {len(header)}")
            if not rel:
                raise ValueError("subDirectory_filePath is empty")
            item.landmarks = parse_affectnet_landmarks(row[col["facial_landmarks"]])
            for key in ("expression", "valence", "arousal"):
                if key in col and row[col[key]].strip():
                    item.meta[key] = float(row[col[key]]) if key != "expression" else int(row[col[key]])
            if "expression" in item.meta and 0 <= item.meta["expression"] < len(AFFECTNET_EXPRESSIONS):
                item.meta["expression_name"] = AFFECTNET_EXPRESSIONS[item.meta["expression"]]
        except ValueError as err:
            item.error = f"{csv_path.name} line {line}: {err}"
        items.append(item)
    return items


# TEASER / SMIRK key names (and common aliases) -> (our name, length); `cam` is the encoder's
# normalised weak-perspective camera [s, tx, ty].
ENCODER_KEYS = {
    "shape": (("shape_params", "shape", "betas"), FACE_PARAMS["shape"]),
    "expression": (("expression_params", "expression", "expr", "exp"), FACE_PARAMS["expression"]),
    "pose": (("pose_params", "pose", "global_pose"), FACE_PARAMS["pose"]),
    "jaw": (("jaw_params", "jaw", "jaw_pose"), FACE_PARAMS["jaw"]),
    "eyelids": (("eyelid_params", "eyelids", "eyelid"), FACE_PARAMS["eyelids"]),
    "cam": (("cam", "camera", "cam_params"), 3),
}


def read_encoder_params(path: Path) -> dict:
    """An encoder's output for one image (npz or json) -> dict of float64 arrays with our names.
    Shorter vectors are zero-padded (an encoder with 100 shape components), longer ones refused."""
    path = Path(path)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                raw = {k: np.asarray(data[k]) for k in data.files}
        else:
            raw = {k: np.asarray(v) for k, v in json.loads(path.read_text()).items() if not isinstance(v, (str, dict))}
    except (OSError, ValueError, json.JSONDecodeError) as err:
        raise ValueError(f"{path.name}: cannot read ({err})") from None
    out = {}
    for ours, (names, length) in ENCODER_KEYS.items():
        key = next((k for k in names if k in raw), None)
        if key is None:
            if ours in ("shape", "expression", "pose", "cam"):
                raise ValueError(f"{path.name}: no '{names[0]}' (also looked for {list(names[1:])})")
            out[ours] = np.zeros(length)
            continue
        try:
            values = np.asarray(raw[key], np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(f"{path.name}: '{key}' is not numeric") from None
        if len(values) > length or not np.isfinite(values).all():
            raise ValueError(f"{path.name}: '{key}' must be at most {length} finite numbers, got {len(values)}")
        out[ours] = np.pad(values, (0, length - len(values)))
    return out


def precomputed_items(folder: Path, image_folder: Path | None = None) -> list[FitItem]:
    """One item per npz/json of encoder parameters; the photo of the same stem (for the texture
    and the diagnostic) is looked for next to it or in image_folder."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in PARAM_SUFFIXES and p.stem != "summary")
    images = {p.stem: p for p in list_images(Path(image_folder or folder))}
    items = []
    for name, path in zip(unique_names([p.stem for p in files]), files):
        item = FitItem(name=name, source_id=f"encoder:{path.name}", image=images.get(path.stem))
        try:
            item.params = read_encoder_params(path)
        except ValueError as err:
            item.error = str(err)
        items.append(item)
    return items


class FitSourceError(ValueError):
    """The fit input or fit folder cannot be used; the message says why and what to do."""


def items_from_input(path: Path, image_root: Path | None = None) -> tuple[list[FitItem], str]:
    """`meflow fit`'s INPUT -> (its items, its kind: image, images, affectnet or precomputed).
    Raises FitSourceError (one line) when the input cannot be read at all."""
    try:
        kind = detect_kind(path)
        if image_root is not None and not Path(image_root).is_dir():
            raise ValueError(f"{image_root}: the image folder does not exist")
        if kind == "affectnet":
            return affectnet_items(path, image_root), kind
        if kind == "precomputed":
            return precomputed_items(path, image_root), kind
        if kind == "image":
            return image_items([Path(path)]), kind
        paths = list_images(path)
        if not paths:
            raise ValueError(f"{path}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
        return image_items(paths), kind
    except ValueError as err:
        raise FitSourceError(str(err)) from None


def detect_kind(path: Path) -> str:
    """'image', 'affectnet', 'precomputed' or 'images' for a `meflow fit` INPUT."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return "affectnet"
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return "image"
        raise ValueError(f"{path}: not an image ({', '.join(IMAGE_SUFFIXES)}) or an AffectNet .csv")
    if path.is_dir():
        if any(p.suffix.lower() in PARAM_SUFFIXES for p in path.iterdir()):
            return "precomputed"
        return "images"
    raise ValueError(f"{path}: no such file or folder")
