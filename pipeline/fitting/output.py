"""The fit folder `meflow fit` writes and the dataset builder reads, defined once.

    DIR/<item>/result.json     status (ok | rejected | failed), reason, NME, notes, source id
    DIR/<item>/params.npz      accepted fits only: the face (facial.flame_layout.FACE_PARAMS),
                               camera [s, tx, ty] weak perspective in pixels, image_size (W, H),
                               landmarks_fitted / landmarks_given (68, 2) pixels, nme, source_id,
                               model_fingerprint
    DIR/<item>/texture.png     the UV texture the renderer uses (accepted fits with a UV layout)
    DIR/<item>/diagnostic.png  photo with landmarks | fitted mesh overlay | texture
    DIR/summary.json, summary.csv
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facial.flame_layout import FACE_PARAMS

RESULT = "result.json"
PARAMS = "params.npz"
TEXTURE = "texture.png"
DIAGNOSTIC = "diagnostic.png"
SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"
STATUSES = ("ok", "rejected", "failed")
FINISHED = ("ok", "rejected")  # a rerun skips these; failed items are tried again


def params_arrays(face: dict[str, np.ndarray], camera: np.ndarray, image_size: tuple[int, int],
                  landmarks_fitted: np.ndarray, landmarks_given: np.ndarray | None, nme: float | None,
                  source_id: str, model_fingerprint: str) -> dict[str, np.ndarray]:
    """What params.npz holds, with its dtypes: face parameters float32 by name, camera (3,)
    float64, image_size (2,), landmarks (68, 2) float32, nme (NaN when unchecked)."""
    arrays = {name: np.asarray(face[name], np.float32) for name in FACE_PARAMS}
    arrays.update(camera=np.asarray(camera, np.float64), image_size=np.asarray(image_size),
                  landmarks_fitted=np.asarray(landmarks_fitted, np.float32),
                  nme=np.float64(np.nan if nme is None else nme), source_id=np.array(source_id),
                  model_fingerprint=np.array(model_fingerprint))
    if landmarks_given is not None:
        arrays["landmarks_given"] = np.asarray(landmarks_given, np.float32)
    return arrays


@dataclass(frozen=True)
class AcceptedFit:
    """One accepted fit as the dataset builder uses it: face parameters by name (float64), the
    photo's source id, the model it was fitted with, and its texture ("" when it has none)."""

    face: dict[str, np.ndarray]
    source_id: str
    model_fingerprint: str
    texture: str


def accepted_fit_folders(folder: Path) -> list[Path]:
    """The item folders of `folder` that hold an accepted fit, sorted by name."""
    return sorted(p.parent for p in Path(folder).glob(f"*/{PARAMS}"))


def fitted_with(folder: Path) -> str | None:
    """The model fingerprint of the fits in `folder` (its first accepted fit), None if none."""
    entries = accepted_fit_folders(folder) if Path(folder).is_dir() else []
    return read_accepted_fit(entries[0]).model_fingerprint if entries else None


def read_accepted_fit(item: Path) -> AcceptedFit:
    with np.load(Path(item) / PARAMS) as data:
        face = {name: np.asarray(data[name], np.float64) for name in FACE_PARAMS}
        source_id, fingerprint = str(data["source_id"]), str(data["model_fingerprint"])
    texture = Path(item) / TEXTURE
    return AcceptedFit(face, source_id, fingerprint, str(texture.resolve()) if texture.exists() else "")
