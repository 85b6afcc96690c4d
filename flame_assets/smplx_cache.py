"""Write FlameAssets in the folder layout smplx's FLAME reads, once per model fingerprint.

smplx reads `FLAME_NEUTRAL.npz` plus `flame_static_embedding.pkl` / `flame_dynamic_embedding.npy`
from one folder. We write those from already-validated arrays into our cache, so smplx never
unpickles a user's file and the user's folder is never touched.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .assets import FlameAssets, save_npz
from .cache import atomic_folder, default_cache_dir


def _fill(assets: FlameAssets, folder: Path) -> None:
    save_npz(assets, folder / "FLAME_NEUTRAL.npz")
    static = {"lmk_face_idx": np.zeros(0, np.int64), "lmk_b_coords": np.zeros((0, 3))}
    if assets.static_lmk_faces is not None:
        static = {"lmk_face_idx": assets.static_lmk_faces, "lmk_b_coords": assets.static_lmk_bary}
    with open(folder / "flame_static_embedding.pkl", "wb") as fh:
        pickle.dump(static, fh, protocol=4)
    if assets.dynamic_lmk_faces is not None:
        dynamic = {"lmk_face_idx": assets.dynamic_lmk_faces, "lmk_b_coords": assets.dynamic_lmk_bary}
        np.save(folder / "flame_dynamic_embedding.npy", np.array(dynamic, dtype=object), allow_pickle=True)


def smplx_folder(assets: FlameAssets, cache_dir: Path | None = None) -> Path:
    """The cache folder smplx reads for these assets (written once per fingerprint)."""
    root = (cache_dir or default_cache_dir()) / "smplx" / assets.fingerprint
    return atomic_folder(root, lambda folder: _fill(assets, folder))
