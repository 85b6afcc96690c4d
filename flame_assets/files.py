"""Find FLAME files in a folder exactly as they are downloaded (no renaming)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AssetError

FLAME_WEBSITE = "https://flame.is.tue.mpg.de"

STANDIN_RELEASE = "MEFlow stand-in"
# Model files by release, in order of preference when a folder holds several.
MODEL_FILES: tuple[tuple[str, str], ...] = (
    ("flame2023.pkl", "FLAME 2023"),
    ("flame2023_Open.pkl", "FLAME 2023 Open"),
    ("flame2023_no_jaw.pkl", "FLAME 2023 (no jaw)"),
    ("generic_model.pkl", "FLAME 2020"),
    ("female_model.pkl", "FLAME 2020 (female)"),
    ("male_model.pkl", "FLAME 2020 (male)"),
    ("FLAME_NEUTRAL.npz", "converted npz"),
    ("FLAME_NEUTRAL.pkl", "FLAME (smplx layout)"),
    ("meflow_standin.pkl", STANDIN_RELEASE),
)
OPTIONAL_FILES: dict[str, str] = {
    "l_eyelid": "l_eyelid.npy",
    "r_eyelid": "r_eyelid.npy",
    "static_embedding": "flame_static_embedding.pkl",
    "dynamic_embedding": "flame_dynamic_embedding.npy",
    "deca_embedding": "landmark_embedding.npy",
    "uv_obj": "head_template.obj",
    "uv_npz": "FLAME_texture.npz",
}
# What each optional file enables, for `meflow assets check`.
OPTIONAL_PURPOSE: dict[str, str] = {
    "eyelids": "eyelid blendshapes (l_eyelid.npy, r_eyelid.npy from SMIRK/TEASER): eyelid parameters",
    "landmarks": "68 landmarks (flame_static_embedding.pkl + flame_dynamic_embedding.npy, or DECA's "
    "landmark_embedding.npy): fitting and landmark export",
    "uv": "UV coordinates (head_template.obj or FLAME_texture.npz): textures",
}
SEARCH_DEPTH = 2  # the folder itself and one level of sub-folders (zip archives unpack into one)


@dataclass
class AssetFiles:
    root: Path
    model: Path
    release: str
    optional: dict[str, Path] = field(default_factory=dict)

    def all_paths(self) -> list[Path]:
        return [self.model, *[self.optional[k] for k in sorted(self.optional)]]


def _candidates(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        if depth >= SEARCH_DEPTH - 1:
            dirnames[:] = []
        dirnames.sort()
        found.extend(Path(dirpath) / name for name in sorted(filenames))
    return found


def find_asset_files(root: Path, model: Path | None = None) -> AssetFiles:
    """Locate the model file and the optional companions in `root` (and its sub-folders).

    Raises AssetError with a one-line reason when the folder is missing or holds no FLAME model.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise AssetError(f"{root} does not exist: pass the folder that holds the FLAME files")
    if not root.is_dir():
        raise AssetError(f"{root} is a file, not a folder: pass the folder that holds the FLAME files")
    files = _candidates(root)
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(path.name, []).append(path)
    release = None
    if model is not None:
        model = Path(model)
        release = dict(MODEL_FILES).get(model.name, "FLAME (unrecognised file name)")
    else:
        for name, rel in MODEL_FILES:
            if name in by_name:
                model, release = by_name[name][0], rel
                break
    if model is None:
        expected = ", ".join(name for name, _ in MODEL_FILES[:4])
        raise AssetError(
            f"no FLAME model file in {root} (looked for {expected}, ...): download FLAME from "
            f"{FLAME_WEBSITE} and unpack it there without renaming files"
        )
    optional = {role: by_name[name][0] for role, name in OPTIONAL_FILES.items() if name in by_name}
    return AssetFiles(root=root, model=model, release=release, optional=optional)
