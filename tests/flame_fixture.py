"""A small FLAME-shaped model and writers for the file flavours users download.

The FLAME 2020 flavour is written the way Python 2 wrote it: protocol 2, `shapedirs` as a chumpy
`Ch` object and `J_regressor` as a scipy.sparse.csc matrix under its old module name. Chumpy is
not installed: for the few milliseconds of writing, stand-in classes are registered under those
module names so pickle records the same references the real file holds.
"""
from __future__ import annotations

import contextlib
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import scipy.sparse
import trimesh

N_SHAPE, N_EXPR, N_JOINTS = 300, 100, 5
KINTREE = np.array([[4294967295, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64)


def tiny_flame_model(seed: int = 7) -> dict:
    """FLAME keys on an icosphere (162 vertices, 320 faces), plus eyelids and both embeddings."""
    rng = np.random.default_rng(seed)
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=0.1)
    v, f = np.asarray(mesh.vertices), np.asarray(mesh.faces, np.int64)
    nv, nf = len(v), len(f)
    reg = np.zeros((N_JOINTS, nv))
    for j in range(N_JOINTS):
        members = rng.choice(nv, 8, replace=False)
        reg[j, members] = rng.dirichlet(np.ones(8))
    logits = 2.0 * rng.normal(size=(nv, N_JOINTS))
    weights = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return dict(
        v_template=v, f=f, shapedirs=rng.normal(0, 2e-3, (nv, 3, N_SHAPE + N_EXPR)),
        posedirs=rng.normal(0, 2e-3, (nv, 3, 9 * (N_JOINTS - 1))), J_regressor=reg, weights=weights,
        kintree_table=KINTREE.copy(), eyelids=rng.normal(0, 2e-3, (2, nv, 3)),
        static_faces=rng.integers(0, nf, 51), static_bary=rng.dirichlet(np.ones(3), 51),
        dynamic_faces=rng.integers(0, nf, (79, 17)), dynamic_bary=rng.dirichlet(np.ones(3), (79, 17)),
    )


class _Ch:
    """Pickles like chumpy.ch.Ch: NEWOBJ of the class, then its __dict__ as state."""

    def __init__(self, x):
        self.__dict__.update({"x": np.asarray(x), "_dirty_vars": set(), "_itr": None, "_depends_on_deps": {}})


class _OldCsc:
    """Pickles like a scipy < 1.8 csc_matrix (module scipy.sparse.csc)."""

    def __init__(self, dense):
        m = scipy.sparse.csc_matrix(dense)
        self.__dict__.update({"_shape": m.shape, "maxprint": 50, "format": "csc", "data": m.data,
                              "indices": m.indices, "indptr": m.indptr})


@contextlib.contextmanager
def _as_module(cls, module: str, name: str):
    parts = module.split(".")
    prefixes = [".".join(parts[: i + 1]) for i in range(len(parts))]
    saved = {k: sys.modules.get(k) for k in prefixes}
    for k in prefixes:  # missing parents (chumpy itself) are needed for the import check
        if k == module or k not in sys.modules:
            sys.modules[k] = types.ModuleType(k)
    setattr(sys.modules[module], name, cls)
    cls.__module__, cls.__qualname__, cls.__name__ = module, name, name
    try:
        yield
    finally:
        for k, old in saved.items():
            if old is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = old


def _core(model: dict) -> dict:
    return {k: model[k] for k in ("v_template", "f", "posedirs", "weights", "kintree_table")}


def write_flame2020(model: dict, folder: Path, name: str = "generic_model.pkl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = _core(model)
    data["f"] = data["f"].astype(np.uint32)
    data["shapedirs"] = _Ch(model["shapedirs"])
    data["J_regressor"] = _OldCsc(model["J_regressor"])
    data["J"] = model["J_regressor"] @ model["v_template"]
    data["bs_style"], data["bs_type"] = "lbs", "lrotmin"
    with _as_module(_Ch, "chumpy.ch", "Ch"), _as_module(_OldCsc, "scipy.sparse.csc", "csc_matrix"):
        blob = pickle.dumps(data, protocol=2)
    path = folder / name
    path.write_bytes(blob)
    return path


def write_flame2023(model: dict, folder: Path, name: str = "flame2023_Open.pkl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = _core(model)
    data["shapedirs"] = model["shapedirs"]
    data["J_regressor"] = scipy.sparse.csc_matrix(model["J_regressor"])
    path = folder / name
    path.write_bytes(pickle.dumps(data, protocol=2))
    return path


def write_companions(model: dict, folder: Path, deca: bool = False) -> None:
    """Eyelids (SMIRK's .npy files) and the landmark embedding, FLAME's or DECA's flavour."""
    v, f = model["v_template"], model["f"]
    uv = 0.5 + 0.5 * v[:, :2] / np.abs(v[:, :2]).max()  # FLAME ships its UVs in head_template.obj
    obj = [f"v {a} {b} {c}" for a, b, c in v] + [f"vt {a} {b}" for a, b in uv]
    obj += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in f]
    (folder / "head_template.obj").write_text("\n".join(obj) + "\n")
    np.save(folder / "l_eyelid.npy", model["eyelids"][0])
    np.save(folder / "r_eyelid.npy", model["eyelids"][1])
    if deca:
        emb = {"static_lmk_faces_idx": model["static_faces"], "static_lmk_bary_coords": model["static_bary"],
               "dynamic_lmk_faces_idx": model["dynamic_faces"], "dynamic_lmk_bary_coords": model["dynamic_bary"],
               "full_lmk_faces_idx": np.zeros((1, 68), np.int64), "full_lmk_bary_coords": np.zeros((1, 68, 3))}
        np.save(folder / "landmark_embedding.npy", np.array(emb, dtype=object), allow_pickle=True)
        return
    static = {"lmk_face_idx": model["static_faces"].astype(np.uint32), "lmk_b_coords": model["static_bary"]}
    (folder / "flame_static_embedding.pkl").write_bytes(pickle.dumps(static, protocol=2))
    dynamic = {"lmk_face_idx": model["dynamic_faces"], "lmk_b_coords": model["dynamic_bary"]}
    np.save(folder / "flame_dynamic_embedding.npy", np.array(dynamic, dtype=object), allow_pickle=True)
