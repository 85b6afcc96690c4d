"""Fitted faces as a dataset source: the accepted fits of a `meflow fit` output folder.

Sample k takes fit k mod N (fits sorted by name), so the dataset does not depend on worker count
or order. Every fit must come from the model the dataset renders with: parameters fitted to one
head mean another face on a different one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..fitting.output import PARAMS, accepted_fit_folders, read_accepted_fit
from .distributions import RecipeError
from .face_params import FaceParams


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
        self.entries = accepted_fit_folders(self.folder)
        if not self.entries:
            raise RecipeError(f"[source] fits: no accepted fits (*/{PARAMS}) in {self.folder}: see its summary.json")
        found = read_accepted_fit(self.entries[0]).model_fingerprint
        if found != model_fingerprint:
            raise RecipeError(f"[source] fits: {self.folder} was fitted with model {found[:12]}, this build renders with "
                              f"{model_fingerprint[:12]}: refit with these assets or configure the ones used for fitting")

    def __len__(self) -> int:
        return len(self.entries)

    def face(self, k: int) -> FittedFace:
        fit = read_accepted_fit(self.entries[k % len(self.entries)])
        return FittedFace(FaceParams(**fit.face), fit.source_id, fit.texture)
