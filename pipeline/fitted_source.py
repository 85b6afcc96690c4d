"""Fitted faces as a dataset source: the accepted fits of a `meflow fit` output folder.

Sample k takes fit k mod N (fits sorted by name), so the dataset does not depend on worker count
or order. Every fit must come from the model the dataset renders with: parameters fitted to one
head mean another face on a different one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .distributions import RecipeError
from .face_params import FaceParams

PARAMS = "params.npz"
TEXTURE = "texture.png"


@dataclass(frozen=True)
class FittedFace:
    face: FaceParams
    source_id: str
    texture: str  # path of the UV texture, "" when the fit has none


class FitLibrary:
    def __init__(self, folder: str | Path, model_fingerprint: str) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise RecipeError(f"[source] fits: {self.folder} is not a folder: run `meflow fit PHOTOS --out {self.folder}` first")
        self.entries = sorted(p.parent for p in self.folder.glob(f"*/{PARAMS}"))
        if not self.entries:
            raise RecipeError(f"[source] fits: no accepted fits (*/{PARAMS}) in {self.folder}: see its summary.json")
        with np.load(self.entries[0] / PARAMS) as first:
            found = str(first["model_fingerprint"])
        if found != model_fingerprint:
            raise RecipeError(f"[source] fits: {self.folder} was fitted with model {found[:12]}, this build renders with "
                              f"{model_fingerprint[:12]}: refit with these assets or configure the ones used for fitting")

    def __len__(self) -> int:
        return len(self.entries)

    def face(self, k: int) -> FittedFace:
        entry = self.entries[k % len(self.entries)]
        with np.load(entry / PARAMS) as data:
            face = FaceParams(**{key: np.asarray(data[key], np.float64)
                                 for key in ("shape", "expression", "jaw", "pose", "eyelids")})
            source_id = str(data["source_id"])
        texture = entry / TEXTURE
        return FittedFace(face, source_id, str(texture.resolve()) if texture.exists() else "")
