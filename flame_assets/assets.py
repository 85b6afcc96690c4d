"""FLAME assets as plain numpy arrays: loaded safely, validated, fingerprinted.

Every release (2020, 2023, 2023 Open, our converted npz, the stand-in) ends up in one
`FlameAssets` value, so everything downstream has a single code path.
"""
from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import numpy as np

from facial.demographics import CORNERS
from facial.flame_layout import N_SHAPE
from facial.ibug68 import INNER, JAW

from . import safe_pickle
from .errors import AssetError
from .files import AssetFiles, find_asset_files

# FLAME's file layout. (The parameters MEFlow uses are facial.flame_layout's.)
N_EXPRESSION_TOTAL = 100  # FLAME stores 100 expression directions after the 300 shape ones
N_STATIC_LANDMARKS = INNER.stop - INNER.start  # 51: iBUG points 17..67 sit at fixed places on the mesh
N_CONTOUR_LANDMARKS = JAW.stop - JAW.start  # 17: iBUG points 0..16, chosen per head yaw
CONTOUR_MAX_YAW_DEG = 39  # the contour look-up table has one row per degree of yaw in [-39, 39]
N_YAW_BINS = 2 * CONTOUR_MAX_YAW_DEG + 1
ROOT_PARENT = 4294967295  # kintree_table's marker for "no parent" (uint32 -1)
FINGERPRINT_CHARS = 16


@dataclass(frozen=True, eq=False)
class FlameAssets:
    """A FLAME-format head model. V vertices, F faces, J joints, K = shape + expression directions.

    v_template (V, 3), faces (F, 3), shapedirs (V, 3, K), posedirs (V, 3, 9 (J-1)),
    j_regressor (J, V), weights (V, J), parents (J,) with -1 at the root; optional eyelids
    (2, V, 3) [left, right]; static landmark embedding (51,) faces + (51, 3) barycentrics;
    dynamic contour embedding (79, 17) + (79, 17, 3); UVs (T, 2) + (F, 3) per-face UV indices;
    demographic corners (12,) direction indices + (12,) whole-corner coefficients.
    """

    release: str
    model_file: str
    v_template: np.ndarray
    faces: np.ndarray
    shapedirs: np.ndarray
    n_shape: int
    posedirs: np.ndarray
    j_regressor: np.ndarray
    weights: np.ndarray
    parents: np.ndarray
    eyelids: np.ndarray | None = None
    static_lmk_faces: np.ndarray | None = None
    static_lmk_bary: np.ndarray | None = None
    dynamic_lmk_faces: np.ndarray | None = None
    dynamic_lmk_bary: np.ndarray | None = None
    uv_coords: np.ndarray | None = None
    uv_faces: np.ndarray | None = None
    expression_names: tuple[str, ...] | None = None
    demographic_index: np.ndarray | None = None  # (12,) shape directions of facial.demographics.CORNERS
    demographic_full: np.ndarray | None = None  # (12,) the coefficient of each that applies its whole corner

    @property
    def has_demographics(self) -> bool:
        """Whether the model carries MakeHuman's sex / ancestry / age corners (the stand-in does)."""
        return self.demographic_index is not None

    @property
    def n_vertices(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def n_expression(self) -> int:
        return int(self.shapedirs.shape[2] - self.n_shape)

    @property
    def has_landmarks(self) -> bool:
        return self.static_lmk_faces is not None and self.dynamic_lmk_faces is not None

    @cached_property
    def fingerprint(self) -> str:
        """sha256 over every array that changes the model's output, first 16 hex digits."""
        digest = hashlib.sha256()
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                digest.update(f"{f.name}{value.shape}".encode())
                dtype = np.float64 if value.dtype.kind == "f" else np.int64
                digest.update(np.ascontiguousarray(value, dtype=dtype).tobytes())
        return digest.hexdigest()[:FINGERPRINT_CHARS]

    def summary(self) -> dict:
        return {
            "release": self.release,
            "model_file": self.model_file,
            "vertices": self.n_vertices,
            "faces": int(self.faces.shape[0]),
            "joints": int(self.parents.shape[0]),
            "shape_directions": self.n_shape,
            "expression_directions": self.n_expression,
            "eyelids": self.eyelids is not None,
            "landmarks": self.has_landmarks,
            "uv": self.uv_coords is not None,
            "fingerprint": self.fingerprint,
        }


def _shape_error(name: str, path: Path, found: tuple, expected: str) -> AssetError:
    return AssetError(
        f"{path.name}: '{name}' has shape {found}, expected {expected}; the file is not a FLAME "
        "model or was modified: download it again"
    )


def _require(data: dict, key: str, path: Path) -> np.ndarray:
    if key not in data:
        raise AssetError(
            f"{path.name} has no '{key}' array: not a FLAME model file (keys: "
            f"{', '.join(sorted(map(str, data))[:8])})"
        )
    try:
        return np.asarray(data[key])
    except Exception as err:  # noqa: BLE001 - any conversion failure means a malformed file
        raise AssetError(f"{path.name}: '{key}' is not an array ({err})") from None


def _read_model_dict(path: Path) -> dict:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        data = safe_pickle.load_pickle(path)
    except safe_pickle.UnsafePickleError as err:
        raise AssetError(f"refusing to load {path.name}: {err}") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise AssetError(
            f"cannot read {path.name}: {err}; the file is damaged, download it again"
        ) from None
    if not isinstance(data, dict):
        raise AssetError(f"{path.name} holds a {type(data).__name__}, not a FLAME model dictionary")
    return data


def parse_model_dict(data: dict, path: Path) -> dict:
    """Validate a FLAME model dictionary and return canonical arrays (see FlameAssets)."""
    v_template = _require(data, "v_template", path).astype(np.float64)
    if v_template.ndim != 2 or v_template.shape[1] != 3 or v_template.shape[0] < 4:
        raise _shape_error("v_template", path, v_template.shape, "(V, 3)")
    n_vertices = v_template.shape[0]
    faces = _require(data, "f", path).astype(np.int64)
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise _shape_error("f", path, faces.shape, "(F, 3)")
    if faces.min() < 0 or faces.max() >= n_vertices:
        raise AssetError(f"{path.name}: face indices outside 0..{n_vertices - 1}; the file is damaged")
    kintree = _require(data, "kintree_table", path).astype(np.int64)
    if kintree.ndim != 2 or kintree.shape[0] != 2:
        raise _shape_error("kintree_table", path, kintree.shape, "(2, J)")
    n_joints = kintree.shape[1]
    parents = kintree[0].copy()
    parents[0] = -1
    if np.any(parents[1:] < 0) or np.any(parents[1:] >= np.arange(1, n_joints)):
        raise AssetError(f"{path.name}: kintree_table parents must precede their children")
    shapedirs = _require(data, "shapedirs", path).astype(np.float64)
    if shapedirs.ndim != 3 or shapedirs.shape[:2] != (n_vertices, 3):
        raise _shape_error("shapedirs", path, shapedirs.shape, f"({n_vertices}, 3, K)")
    n_shape = min(N_SHAPE, shapedirs.shape[2])
    posedirs = _require(data, "posedirs", path).astype(np.float64)
    n_pose = 9 * (n_joints - 1)
    if posedirs.shape != (n_vertices, 3, n_pose):
        raise _shape_error("posedirs", path, posedirs.shape, f"({n_vertices}, 3, {n_pose})")
    j_regressor = _require(data, "J_regressor", path).astype(np.float64)
    if j_regressor.shape != (n_joints, n_vertices):
        raise _shape_error("J_regressor", path, j_regressor.shape, f"({n_joints}, {n_vertices})")
    weights = _require(data, "weights", path).astype(np.float64)
    if weights.shape != (n_vertices, n_joints):
        raise _shape_error("weights", path, weights.shape, f"({n_vertices}, {n_joints})")
    for name, arr in (("v_template", v_template), ("shapedirs", shapedirs), ("posedirs", posedirs),
                      ("J_regressor", j_regressor), ("weights", weights)):
        if not np.all(np.isfinite(arr)):
            raise AssetError(f"{path.name}: '{name}' holds NaN or infinite values; the file is damaged")
    names = data.get("expression_names")
    return dict(**_demographics(data, path, n_shape),
        v_template=v_template, faces=faces, shapedirs=shapedirs, n_shape=n_shape,
        posedirs=posedirs, j_regressor=j_regressor, weights=weights, parents=parents,
        expression_names=tuple(str(n) for n in names) if names is not None else None,
    )


def _demographics(data: dict, path: Path, n_shape: int) -> dict:
    """The optional demographic corners (facial.demographics): both keys or neither."""
    if "demographic_index" not in data and "demographic_full" not in data:
        return {}
    index = np.asarray(data.get("demographic_index", ()), dtype=np.int64)
    full = np.asarray(data.get("demographic_full", ()), dtype=np.float64)
    if index.shape != (len(CORNERS),) or full.shape != (len(CORNERS),):
        raise AssetError(f"{path.name}: 'demographic_index' and 'demographic_full' must both hold {len(CORNERS)} values "
                         f"(one per corner of facial.demographics.CORNERS); the file is damaged, rebuild it")
    if index.min() < 0 or index.max() >= n_shape or not np.all(np.isfinite(full)) or full.min() <= 0:
        raise AssetError(f"{path.name}: 'demographic_index' must name shape directions below {n_shape} and "
                         f"'demographic_full' hold positive coefficients; the file is damaged, rebuild it")
    return {"demographic_index": index, "demographic_full": full}


def _load_optional(path: Path, what: str):
    try:
        if path.suffix == ".pkl":
            return safe_pickle.load_pickle(path)
        if path.suffix == ".npy":
            return safe_pickle.load_npy(path)
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except safe_pickle.UnsafePickleError as err:
        raise AssetError(f"refusing to load {path.name}: {err}") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise AssetError(f"cannot read {path.name} ({what}): {err}; download it again") from None


def _as(arr, dtype, shape: tuple, path: Path, key: str, n_faces: int | None = None) -> np.ndarray:
    arr = np.asarray(arr, dtype=dtype)
    if arr.size != int(np.prod(shape)):
        raise _shape_error(key, path, arr.shape, str(shape))
    arr = arr.reshape(shape)
    if n_faces is not None and (arr.min() < 0 or arr.max() >= n_faces):
        raise AssetError(f"{path.name}: '{key}' indexes faces outside 0..{n_faces - 1}: "
                         "it belongs to another mesh topology")
    return arr


# role -> [(field, key in the file, dtype, shape, indexes faces)]. FLAME ships the 51 static and
# the 79 x 17 contour embeddings in two files; DECA packs both into landmark_embedding.npy.
_STATIC = (N_STATIC_LANDMARKS,)
_CONTOUR = (N_YAW_BINS, N_CONTOUR_LANDMARKS)
EMBEDDING_FORMATS: dict[str, list[tuple[str, str, type, tuple, bool]]] = {
    "deca_embedding": [
        ("static_lmk_faces", "static_lmk_faces_idx", np.int64, _STATIC, True),
        ("static_lmk_bary", "static_lmk_bary_coords", np.float64, _STATIC + (3,), False),
        ("dynamic_lmk_faces", "dynamic_lmk_faces_idx", np.int64, _CONTOUR, True),
        ("dynamic_lmk_bary", "dynamic_lmk_bary_coords", np.float64, _CONTOUR + (3,), False),
    ],
    "static_embedding": [
        ("static_lmk_faces", "lmk_face_idx", np.int64, _STATIC, True),
        ("static_lmk_bary", "lmk_b_coords", np.float64, _STATIC + (3,), False),
    ],
    "dynamic_embedding": [
        ("dynamic_lmk_faces", "lmk_face_idx", np.int64, _CONTOUR, True),
        ("dynamic_lmk_bary", "lmk_b_coords", np.float64, _CONTOUR + (3,), False),
    ],
}


def _landmark_embedding(files: AssetFiles, n_faces: int) -> dict:
    """Static (51) and contour (79 x 17) embeddings from DECA's file, else FLAME's two files."""
    roles = ["deca_embedding"] if "deca_embedding" in files.optional else ["static_embedding", "dynamic_embedding"]
    out: dict = {}
    for role in roles:
        if role not in files.optional:
            continue
        path = files.optional[role]
        data = _load_optional(path, "landmark embedding")
        for field, key, dtype, shape, indexes_faces in EMBEDDING_FORMATS[role]:
            try:
                out[field] = _as(data[key], dtype, shape, path, key, n_faces if indexes_faces else None)
            except (KeyError, TypeError, IndexError) as err:
                raise AssetError(f"{path.name} lacks {err}: not a landmark embedding of this kind") from None
    return out


def read_obj_uv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """UV coordinates (T, 2) and per-face UV indices (F, 3) from a triangle OBJ with `f v/vt` faces."""
    coords, faces = [], []
    for line in Path(path).read_text(errors="replace").splitlines():
        if line.startswith("vt "):
            coords.append([float(x) for x in line.split()[1:3]])
        elif line.startswith("f "):
            corners = line.split()[1:]
            if len(corners) != 3 or any("/" not in c for c in corners):
                raise AssetError(f"{path.name}: faces must be triangles written as v/vt")
            faces.append([int(c.split("/")[1]) - 1 for c in corners])
    if not coords or not faces:
        raise AssetError(f"{path.name} has no UV coordinates (vt lines) or faces")
    return np.asarray(coords, np.float64), np.asarray(faces, np.int64)


def _uv(files: AssetFiles, n_faces: int) -> dict:
    if "uv_obj" in files.optional:
        path = files.optional["uv_obj"]
        coords, uv_faces = read_obj_uv(path)
    elif "uv_npz" in files.optional:
        path = files.optional["uv_npz"]
        data = _load_optional(path, "texture space")
        if "vt" not in data or "ft" not in data:
            raise AssetError(f"{path.name} lacks 'vt' / 'ft': not FLAME_texture.npz")
        coords, uv_faces = np.asarray(data["vt"], np.float64), np.asarray(data["ft"], np.int64)
    else:
        return {}
    if uv_faces.shape != (n_faces, 3):
        raise AssetError(f"{path.name}: {uv_faces.shape[0]} UV faces for a model with {n_faces} faces: "
                         "it belongs to another mesh")
    if uv_faces.min() < 0 or uv_faces.max() >= coords.shape[0]:
        raise AssetError(f"{path.name}: UV face indices out of range; the file is damaged")
    return {"uv_coords": coords, "uv_faces": uv_faces}


def _eyelids(files: AssetFiles, n_vertices: int) -> dict:
    present = [role for role in ("l_eyelid", "r_eyelid") if role in files.optional]
    if not present:
        return {}
    if len(present) == 1:
        missing = {"l_eyelid": "r_eyelid.npy", "r_eyelid": "l_eyelid.npy"}[present[0]]
        raise AssetError(f"found {files.optional[present[0]].name} but not {missing}: put both eyelid files together")
    arrays = []
    for role in ("l_eyelid", "r_eyelid"):
        path = files.optional[role]
        arr = _load_optional(path, "eyelid blendshape")
        if not isinstance(arr, np.ndarray) or arr.shape != (n_vertices, 3):
            raise _shape_error(role, path, getattr(arr, "shape", ()), f"({n_vertices}, 3)")
        arrays.append(arr.astype(np.float64))
    return {"eyelids": np.stack(arrays)}


def load_assets(root: Path, model: Path | None = None) -> FlameAssets:
    """Load and validate the FLAME files in `root` as downloaded. Raises AssetError (one line)."""
    files = find_asset_files(root, model)
    core = parse_model_dict(_read_model_dict(files.model), files.model)
    n_vertices, n_faces = core["v_template"].shape[0], core["faces"].shape[0]
    extras = {**_eyelids(files, n_vertices), **_landmark_embedding(files, n_faces), **_uv(files, n_faces)}
    return FlameAssets(release=files.release, model_file=str(files.model), **core, **extras)


def save_npz(assets: FlameAssets, path: Path) -> Path:
    """Write the model part in FLAME's key layout as a plain (pickle-free) npz."""
    kintree = np.stack([np.where(assets.parents < 0, ROOT_PARENT, assets.parents), np.arange(len(assets.parents))])
    arrays = dict(
        v_template=assets.v_template, f=assets.faces, shapedirs=assets.shapedirs,
        posedirs=assets.posedirs, J_regressor=assets.j_regressor, weights=assets.weights,
        kintree_table=kintree.astype(np.int64),
    )
    if assets.expression_names is not None:
        arrays["expression_names"] = np.asarray(assets.expression_names)
    if assets.has_demographics:
        arrays["demographic_index"], arrays["demographic_full"] = assets.demographic_index, assets.demographic_full
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return path
