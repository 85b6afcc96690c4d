"""Write FlameAssets in the folder layout smplx's FLAME reads, once per model fingerprint.

smplx reads `FLAME_NEUTRAL.npz` plus `flame_static_embedding.pkl` / `flame_dynamic_embedding.npy`
from one folder. We write those from already-validated arrays into our cache, so smplx never
unpickles a user's file and the user's folder is never touched.
"""
from __future__ import annotations

import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .assets import FlameAssets, save_npz
from .standin.build import default_cache_dir

MARKER = "COMPLETE"


def smplx_folder(assets: FlameAssets, cache_dir: Path | None = None) -> Path:
    root = (cache_dir or default_cache_dir()) / "smplx" / assets.fingerprint
    if (root / MARKER).exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".smplx-", dir=root.parent))
    try:
        save_npz(assets, staging / "FLAME_NEUTRAL.npz")
        static = {"lmk_face_idx": np.zeros(0, np.int64), "lmk_b_coords": np.zeros((0, 3))}
        if assets.static_lmk_faces is not None:
            static = {"lmk_face_idx": assets.static_lmk_faces, "lmk_b_coords": assets.static_lmk_bary}
        with open(staging / "flame_static_embedding.pkl", "wb") as fh:
            pickle.dump(static, fh, protocol=4)
        if assets.dynamic_lmk_faces is not None:
            dynamic = {"lmk_face_idx": assets.dynamic_lmk_faces, "lmk_b_coords": assets.dynamic_lmk_bary}
            np.save(staging / "flame_dynamic_embedding.npy", np.array(dynamic, dtype=object), allow_pickle=True)
        (staging / MARKER).write_text("ok\n")
        try:
            staging.rename(root)
        except OSError:
            if not (root / MARKER).exists():
                shutil.rmtree(root, ignore_errors=True)
                staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root
