"""Assemble the stand-in head and write it as the files FLAME ships (cached, atomic)."""
from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import scipy.sparse

from facial.demographics import CORNERS

from ..assets import ROOT_PARENT
from ..cache import atomic_folder, default_cache_dir
from . import expressions, human, proportions, shape_space
from .geometry import Template, build_template, skin, slit_shifts
from .landmarks import contour_embedding, static_landmark_vertices, vertex_embedding
from .mesh import vertex_normals
from .regions import build_regions
from .rig import PARENTS, joint_regressor, pose_correctives, skinning_weights
from .spec import JOINT_NAMES, SPEC, VERSION, HeadSpec

MODEL_FILE = "meflow_standin.pkl"


def _to_vertices(template: Template, field: np.ndarray) -> np.ndarray:
    """Map a field over (skin vertices + eye centres) onto all vertices: eyeballs move rigidly
    with their centres, ears with the skin vertex they hang on."""
    n_skin = template.grid.n_vertices
    out = np.zeros((len(template.vertices),) + field.shape[1:])
    out[:n_skin] = field[:n_skin]
    for k, members in enumerate(template.eyeball_vertices):
        out[members] = field[n_skin + k]
    for members, anchor in zip(template.ear_vertices, template.ear_anchors):
        out[members] = field[anchor]
    return out


def eyelid_blendshapes(template: Template, spec: HeadSpec) -> np.ndarray:
    """(2, V, 3) [left, right]: at 1.0 the upper lid meets the lower lid."""
    grid = template.grid
    open_skin = template.vertices[: grid.n_vertices]
    out = np.zeros((2, len(template.vertices), 3))
    for k, closed in enumerate(((True, False), (False, True))):
        out[k, : grid.n_vertices] = skin(grid, spec, closed) - open_skin
    return out


def frontal_embedding(template: Template, static: np.ndarray, contour_faces: np.ndarray, contour_bary: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The 68 iBUG points of a frontal face as ((68, 3) vertex indices, (68, 3) barycentrics): the
    contour's yaw-0 row, then the static points (each on its vertex)."""
    on_vertex = np.zeros((len(static), 3))
    on_vertex[:, 0] = 1.0
    return (np.concatenate([template.faces[contour_faces[0]], np.repeat(static[:, None], 3, axis=1)]),
            np.concatenate([contour_bary[0], on_vertex]))


def adult_corners(template: Template, regions, identity: np.ndarray, corners: list[int], full: np.ndarray,
                  shape_names: list[str], frontal: tuple[np.ndarray, np.ndarray], spec: HeadSpec) -> np.ndarray:
    """identity (V, 3, K) directions (named by shape_names) with each demographic corner's column
    (corners, applied in full by coefficient full) corrected to adult proportions (see
    proportions.py); frontal: see frontal_embedding."""
    nose_base_y = template.vertices[frontal[0][33, 0], 1]
    midface = _to_vertices(template, proportions.midface_length(regions.points, nose_base_y, spec))
    correctors = np.stack([midface if name is None else identity[:, :, shape_names.index(name)] for name in proportions.SLIDERS])
    whole = np.stack([identity[:, :, c] * f for c, f in zip(corners, full)])
    sexes = [name.split("-")[1] for name in CORNERS]
    units = proportions.corner_corrections(template.vertices, whole, sexes, correctors, frontal)
    out = identity.copy()
    for c, f, u in zip(corners, full, units):
        out[:, :, c] += np.tensordot(u, correctors, axes=1) / f
    return out


def build_model(spec: HeadSpec = SPEC) -> dict:
    """Everything FLAME's files hold, as numpy arrays (see flame_assets.assets.FlameAssets)."""
    template = build_template(spec)
    regions = build_regions(template, spec)
    j_regressor = joint_regressor(template, spec)
    joints = j_regressor @ template.vertices
    normals = vertex_normals(template.vertices, template.faces)
    n_skin = template.grid.n_vertices
    region_normals = np.concatenate([normals[:n_skin], np.zeros((2, 3))])
    human_names, human_dirs, human_full = shape_space.human_directions(template, slit_shifts(template.grid, spec), spec)
    shape_names = list(shape_space.NAMED_SHAPES) + human_names
    corners = [len(shape_space.NAMED_SHAPES) + human_names.index(f"macro {c}") for c in CORNERS]
    corner_full = human_full[np.array(corners) - len(shape_space.NAMED_SHAPES)]
    static = static_landmark_vertices(template)
    contour_faces, contour_bary = contour_embedding(template, spec)
    identity = _to_vertices(template, shape_space.shape_directions(regions, region_normals, human_dirs))
    identity = adult_corners(template, regions, identity, corners, corner_full, shape_names,
                             frontal_embedding(template, static, contour_faces, contour_bary), spec)
    shapedirs = np.concatenate([identity, _to_vertices(template, expressions.expression_directions(regions, joints[2]))], axis=2)
    static_faces, static_bary = vertex_embedding(static, template.faces)
    return dict(
        v_template=template.vertices, f=template.faces, shapedirs=shapedirs,
        posedirs=pose_correctives(template, regions), J_regressor=j_regressor,
        weights=skinning_weights(template, regions), J=joints,
        kintree_table=np.stack([np.where(PARENTS < 0, ROOT_PARENT, PARENTS), np.arange(len(PARENTS))]),
        eyelids=eyelid_blendshapes(template, spec),
        static_lmk_faces=static_faces, static_lmk_bary=static_bary,
        dynamic_lmk_faces=contour_faces, dynamic_lmk_bary=contour_bary,
        uv=template.uv, uv_faces=template.uv_faces,
        shape_names=shape_names,
        demographic_index=np.array(corners, np.int64),
        demographic_full=corner_full,
    )


def _write_obj(path: Path, vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, uv_faces: np.ndarray) -> None:
    lines = ["# MEFlow stand-in head template (open, generated)"]
    lines += [f"v {x:.7f} {y:.7f} {z:.7f}" for x, y, z in vertices]
    lines += [f"vt {u:.7f} {v:.7f}" for u, v in uv]
    lines += [f"f {a + 1}/{ta + 1} {b + 1}/{tb + 1} {c + 1}/{tc + 1}" for (a, b, c), (ta, tb, tc) in zip(faces, uv_faces)]
    path.write_text("\n".join(lines) + "\n")


def write_files(model: dict, out_dir: Path) -> None:
    """Write FLAME's file set: the model pickle (FLAME keys, sparse J_regressor as FLAME 2020 has
    it), eyelid .npy files, both landmark embeddings, a UV template OBJ, and a card naming the
    expression directions."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = expressions.expression_names()
    flame = {k: model[k] for k in ("v_template", "f", "posedirs", "weights", "J", "kintree_table")}
    flame["f"] = flame["f"].astype(np.uint32)
    flame["shapedirs"] = model["shapedirs"].astype(np.float32)  # halves the file; FLAME stores float64
    flame["posedirs"] = model["posedirs"].astype(np.float32)
    flame["J_regressor"] = scipy.sparse.csc_matrix(model["J_regressor"])
    flame["bs_style"], flame["bs_type"] = "lbs", "lrotmin"
    flame["expression_names"] = names
    flame["demographic_index"], flame["demographic_full"] = model["demographic_index"], model["demographic_full"]
    with open(out_dir / MODEL_FILE, "wb") as fh:
        pickle.dump(flame, fh, protocol=4)
    np.save(out_dir / "l_eyelid.npy", model["eyelids"][0].astype(np.float32))
    np.save(out_dir / "r_eyelid.npy", model["eyelids"][1].astype(np.float32))
    with open(out_dir / "flame_static_embedding.pkl", "wb") as fh:
        pickle.dump({"lmk_face_idx": model["static_lmk_faces"].astype(np.uint32), "lmk_b_coords": model["static_lmk_bary"]}, fh, protocol=2)
    np.save(out_dir / "flame_dynamic_embedding.npy",
            np.array({"lmk_face_idx": model["dynamic_lmk_faces"], "lmk_b_coords": model["dynamic_lmk_bary"]}, dtype=object),
            allow_pickle=True)
    _write_obj(out_dir / "head_template.obj", model["v_template"], model["f"], model["uv"], model["uv_faces"])
    card = {
        "model": "MEFlow stand-in head", "version": VERSION, "licence": "CC0 (generated in this repository from MakeHuman's CC0 head)",
        "joints": list(JOINT_NAMES), "expression_directions": expressions.action_table(),
        "shape_directions_named": model["shape_names"],
        "demographic_corners": {c: {"direction": int(i), "full_coefficient": round(float(f), 4)}
                                for c, i, f in zip(CORNERS, model["demographic_index"], model["demographic_full"])},
        "shape_directions_source": "0-9 named proportions; then MakeHuman's modifiers and macro corners (MPFB2 data, CC0), "
                                   "in this order; the rest smooth local variations",
    }
    (out_dir / "standin_card.json").write_text(json.dumps(card, indent=1))


def generator_digest() -> str:
    """Hash of the generator's source and data (its own files, the human head's package version):
    a changed generator never reuses a stale cache."""
    digest = hashlib.sha256(human.data_version().encode())
    for path in sorted([*Path(__file__).parent.glob("*.py"), *Path(__file__).parent.glob("*.json")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def ensure_standin(cache_dir: Path | None = None) -> Path:
    """The folder holding the stand-in's files, generating them on first use. Safe when several
    processes race (see atomic_folder)."""
    root = (cache_dir or default_cache_dir()) / f"standin-v{VERSION}-{generator_digest()}"
    return atomic_folder(root, lambda folder: write_files(build_model(), folder))
