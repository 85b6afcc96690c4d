"""What a shard holds, per sample, and the dataset-level metadata. See docs/shard_format.md."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from facial.flame_layout import FACE_PARAMS, SCALE_NAMES, SCALE_SYMBOLS, STATES
from facial.ibug68 import N_POINTS

# Version of the shard arrays and dataset.json. 1: a random face's source id named its recipe
# (random:<recipe>:<seed>:<k>) and dataset.json held no split rule. 2: random:<seed>:<k>, and the
# split rule recorded. 3: a `labels` field (emotion and action units). All read alike (a version
# without a field reads its FIELD_DEFAULTS); a build never adds to a dataset of another version.
SCHEMA_VERSION = 3
READABLE_SCHEMA_VERSIONS = (1, 2, 3)
BLOCK = 16  # samples per Zarr shard block: the write buffer, and the unit of one storage object
N_STATES = len(STATES)


@dataclass(frozen=True)
class Field:
    """One per-sample array: dtype and per-sample shape (H, W are the image size)."""

    name: str
    dtype: str
    shape: tuple  # may hold "H" and "W"
    doc: str

    def sample_shape(self, height: int, width: int) -> tuple[int, ...]:
        return tuple(height if d == "H" else width if d == "W" else d for d in self.shape)


FIELDS: tuple[Field, ...] = (
    Field("onset", "uint8", ("H", "W", 3), "onset image, sRGB"),
    Field("apex", "uint8", ("H", "W", 3), "apex image, sRGB"),
    Field("flow_facial", "float32", ("H", "W", 2), "forward flow onset -> apex, pixels (u right, v down)"),
    Field("flow_head", "float32", ("H", "W", 2), "forward flow onset -> head state, pixels"),
    Field("mask", "bool", ("H", "W"), "foreground (head, eyes, glasses)"),
    Field("landmarks_onset", "float32", (N_POINTS, 2), "iBUG-68 landmarks of the onset, pixels (x, y)"),
    Field("landmarks_apex", "float32", (N_POINTS, 2), "iBUG-68 landmarks of the apex, pixels (x, y)"),
    Field("shape", "float32", (FACE_PARAMS["shape"],), "FLAME identity coefficients (never scaled)"),
    Field("expression", "float32", (N_STATES, FACE_PARAMS["expression"]), "expression coefficients of onset, head, apex"),
    Field("jaw", "float32", (N_STATES, FACE_PARAMS["jaw"]), "jaw axis-angle of onset, head, apex"),
    Field("pose", "float32", (N_STATES, FACE_PARAMS["pose"]), "global head rotation axis-angle of onset, head, apex"),
    Field("eyelids", "float32", (N_STATES, FACE_PARAMS["eyelids"]), "eyelid closure [left, right] of onset, head, apex"),
    Field("scales", "float32", (len(SCALE_NAMES),), ", ".join(SCALE_SYMBOLS)),
    Field("camera", "float64", (4, 4), "world_from_camera (Blender convention: -Z forward, +Y up)"),
    Field("intrinsics", "float64", (3,), "focal length in pixels, principal point x, y (pixel-centre convention)"),
    Field("sample_index", "int64", (), "index k of the sample in its recipe"),
    Field("source_id", "str", (), "identity of the source (photo, parameter file, or random draw)"),
    Field("scene", "str", (), "render choices as JSON: lights, background, glasses, skin, Cycles seed"),
    Field("labels", "str", (), "what moved from onset to apex as JSON: emotion, action_units (see docs/shard_format.md)"),
    Field("sha256", "str", (), "checksum of this sample's other fields"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
FIELD_SINCE = {"labels": 3}  # fields added after version 1: the schema version that added them
FIELD_DEFAULTS = {"labels": "{}"}  # what a shard of an earlier version reads for them


def fields_of(version: int) -> tuple[Field, ...]:
    """The fields a shard of schema `version` stores."""
    return tuple(f for f in FIELDS if FIELD_SINCE.get(f.name, 1) <= version)


def checksummed(version: int = SCHEMA_VERSION) -> tuple[str, ...]:
    """The fields a sample's checksum covers in a shard of schema `version`, in schema order."""
    return tuple(f.name for f in fields_of(version) if f.name != "sha256")


def sample_checksum(sample: dict, version: int = SCHEMA_VERSION) -> str:
    """sha256 over the checksummed fields of `version` in schema order (values as stored)."""
    digest = hashlib.sha256()
    for name in checksummed(version):
        value = sample[name]
        if FIELD_BY_NAME[name].dtype == "str":
            digest.update(str(value).encode())
        else:
            digest.update(np.ascontiguousarray(value, dtype=FIELD_BY_NAME[name].dtype).tobytes())
    return digest.hexdigest()
