"""`meflow fit`: items -> photos and landmarks -> batched fits -> textures, pictures, summary.

Each item's results land in DIR/<name>/ by an atomic rename, with a result.json that says what
happened; a rerun skips finished items, so a killed run resumes where it stopped. Only accepted
fits get a params.npz (the dataset builder reads those).
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from facial.flame_layout import FACE_PARAMS
from facial.ibug68 import N_POINTS, normalised_mean_error

from .config import FitConfig
from .detectors import NoFaceError, make_detector
from .diagnostic import diagnostic_image
from .fitter import fit_landmarks
from .images import Photo, PhotoError, load_photo
from .output import DIAGNOSTIC, FINISHED, PARAMS, RESULT, STATUSES, SUMMARY_CSV, SUMMARY_JSON, TEXTURE, params_arrays
from .projection import camera_from_normalised, project_np
from .sources import FitItem
from .texture import TexelMap, photo_texture, texel_map

ENCODER_CROP = 224  # the square crop TEASER / SMIRK see, when an encoder's photo is not at hand
MAX_OUTSIDE_LANDMARKS = N_POINTS // 2  # more than this outside the image: wrong image or landmarks


@dataclass(frozen=True)
class FitOptions:
    detector: str = "mediapipe"
    batch_size: int = 8
    config: FitConfig = field(default_factory=FitConfig)
    texture_size: int = 512
    textures: Path | None = None  # folder of ready UV textures (FreeUV ...) named <image stem>.png
    diagnostics: bool = True


@dataclass
class Prepared:
    """An item with its photo decoded and its landmarks (original pixels) known."""

    item: FitItem
    photo: Photo | None
    landmarks: np.ndarray | None
    notes: list[str]


def _write_image(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1])):
        raise OSError(f"cannot write {path}")


class FitRun:
    def __init__(self, model, out: Path, options: FitOptions = FitOptions(), log=print) -> None:
        self.model, self.out, self.options, self.log = model, Path(out), options, log
        self.out.mkdir(parents=True, exist_ok=True)
        self._detector = None
        self._texels: TexelMap | None = None

    # --- bookkeeping -------------------------------------------------------------------------
    def status(self, item: FitItem) -> str | None:
        return item_status(self.out, item)

    def _commit(self, item: FitItem, result: dict, files: dict) -> dict:
        """Write an item's files into a temporary folder, then rename it into place."""
        final = self.out / item.name
        tmp = self.out / f".{item.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, write in files.items():
            write(tmp / name)
        result = {"name": item.name, "source_id": item.source_id, "image": str(item.image) if item.image else None,
                  **({"meta": item.meta} if item.meta else {}), **result}
        (tmp / RESULT).write_text(json.dumps(result, indent=1))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        return result

    def _fail(self, item: FitItem, reason: str, notes: list[str] | None = None) -> dict:
        self.log(f"  {item.name}: failed: {reason}")
        return self._commit(item, {"status": "failed", "reason": reason, "notes": notes or []}, {})

    # --- stages --------------------------------------------------------------------------------
    def _detect(self, rgb: np.ndarray) -> np.ndarray:
        if self._detector is None:
            self._detector = make_detector(self.options.detector)
        return self._detector.detect(rgb)

    def prepare(self, item: FitItem, commit: bool = True) -> Prepared | dict | None:
        """Decode the photo and find its landmarks. A failure is committed (or, with commit
        False, for an item already done, dropped: None)."""
        fail = self._fail if commit else (lambda *_: None)
        notes: list[str] = []
        photo = None
        if item.image is not None:
            try:
                photo = load_photo(item.image)
            except PhotoError as err:
                if item.params is None:
                    return fail(item, str(err))
                notes.append(f"photo unusable ({err}): no texture")
        if photo is not None:
            notes += photo.notes
        landmarks = item.landmarks
        if landmarks is None and item.params is None:
            try:
                working = self._detect(photo.rgb)
            except NoFaceError as err:
                return fail(item, f"no face: {err}", notes)
            landmarks = (working + 0.5) * photo.scale - 0.5  # working -> original pixel centres
        if landmarks is not None and photo is not None:
            w, h = photo.size
            outside = ((landmarks < -0.5) | (landmarks > np.array([w, h]) - 0.5)).any(1).sum()
            if outside > MAX_OUTSIDE_LANDMARKS:
                return fail(item, f"{outside} of 68 landmarks lie outside the {w}x{h} image: wrong image or landmarks", notes)
        return Prepared(item, photo, landmarks, notes)

    def texels(self) -> TexelMap | None:
        if self._texels is None and self.model.uv is not None:
            uv, uv_faces = self.model.uv
            self._texels = texel_map(uv, uv_faces, self.model.assets.v_template, self.model.faces, self.options.texture_size)
        return self._texels

    def _texture(self, prep: Prepared, vertices: np.ndarray, camera: np.ndarray) -> tuple[np.ndarray | None, dict]:
        stem = prep.item.image.stem if prep.item.image else prep.item.name
        if self.options.textures is not None:
            given = Path(self.options.textures) / f"{stem}.png"
            if given.exists():
                rgb = load_photo(given).rgb
                return rgb, {"texture_source": f"given: {given}"}
            prep.notes.append(f"no {given.name} in {self.options.textures}: texture projected from the photo")
        texels = self.texels()
        if texels is None:
            prep.notes.append("the model has no UV layout: no texture")
            return None, {}
        if prep.photo is None:
            return None, {}
        photo = prep.photo
        result = photo_texture(photo.rgb, photo.scale, photo.size, vertices, self.model.faces, camera, texels)
        return result.texture, {"texture_source": "photo", "texture_coverage": result.coverage(texels)}

    def finish(self, prep: Prepared, params: dict, camera: np.ndarray, fitted: np.ndarray,
               vertices: np.ndarray, nme: float | None) -> dict:
        item, max_nme = prep.item, self.options.config.max_nme
        status, reason = "ok", None
        if nme is not None and nme > max_nme:
            status, reason = "rejected", f"normalised mean error {nme:.4f} above the {max_nme} limit"
        texture, texture_info = self._texture(prep, vertices, camera) if status == "ok" else (None, {})
        image_size = np.array(prep.photo.size if prep.photo else (ENCODER_CROP, ENCODER_CROP))
        files = {}
        if status == "ok":
            arrays = params_arrays(params, camera, image_size, fitted, prep.landmarks, nme, item.source_id,
                                   self.model.assets.fingerprint)
            files[PARAMS] = lambda p: np.savez(p, **arrays)
            if texture is not None:
                files[TEXTURE] = lambda p: _write_image(p, texture)
        if self.options.diagnostics and prep.photo is not None:
            caption = f"{item.name}  NME {nme:.3f}" if nme is not None else f"{item.name}  (encoder parameters)"
            sheet = diagnostic_image(prep.photo.rgb, prep.photo.scale, prep.landmarks, fitted, vertices,
                                     self.model.faces, camera, texture, caption + ("  REJECTED" if status == "rejected" else ""))
            files[DIAGNOSTIC] = lambda p: _write_image(p, sheet)
        result = {"status": status, "nme": None if nme is None else round(float(nme), 5), "notes": prep.notes,
                  **({"reason": reason} if reason else {}), **texture_info}
        self.log(f"  {item.name}: {status}" + (f" (NME {nme:.4f})" if nme is not None else ""))
        return self._commit(item, result, files)

    def fit_batch(self, batch: list[Prepared], commit: set[str] | None = None) -> list[dict]:
        """Fit the batch together; finish (write) the items named in `commit` (default: all)."""
        targets = np.stack([p.landmarks for p in batch])
        fit = fit_landmarks(self.model, targets, self.options.config)
        out = []
        for i, prep in enumerate(batch):
            if commit is not None and prep.item.name not in commit:
                continue
            params = {"shape": fit.shape[i], "expression": fit.expression[i], "jaw": fit.jaw[i],
                      "pose": fit.pose[i], "eyelids": fit.eyelids[i]}
            out.append(self.finish(prep, params, fit.camera[i], fit.landmarks[i], fit.vertices[i], float(fit.nme[i])))
        return out

    def from_encoder(self, prep: Prepared) -> dict:
        """Encoder parameters: no optimisation; the camera converts from the encoder's crop."""
        p = prep.item.params
        size = prep.photo.size if prep.photo else (ENCODER_CROP, ENCODER_CROP)
        try:
            camera = camera_from_normalised(p["cam"], *size)
        except ValueError as err:
            return self._fail(prep.item, str(err), prep.notes)
        params = {k: p[k] for k in FACE_PARAMS}
        if not self.model.has_eyelids and np.any(params["eyelids"] != 0):
            prep.notes.append("eyelid parameters dropped: the model has no eyelid blendshapes")
            params["eyelids"] = np.zeros(2)
        with torch.no_grad():
            t = {k: torch.tensor(v[None, : (self.model.n_shape if k == "shape" else None)], dtype=torch.float32)
                 for k, v in params.items()}
            out = self.model(**t)  # FLAME's own contour rule, as the encoders were trained with
        vertices = out.vertices[0].double().numpy()
        fitted = project_np(out.landmarks[0].double().numpy(), camera)
        nme = None
        if prep.photo is not None and self.options.detector:
            try:
                prep.landmarks = (self._detect(prep.photo.rgb) + 0.5) * prep.photo.scale - 0.5
                nme = float(normalised_mean_error(fitted, prep.landmarks))
            except NoFaceError:
                prep.notes.append("detector found no face: the encoder's parameters are kept unchecked")
        return self.finish(prep, params, camera, fitted, vertices, nme)

    # --- driver ----------------------------------------------------------------------------------
    def run_batch(self, batch: list[FitItem], finished: tuple[str, ...] = FINISHED) -> list[dict]:
        """Fit one batch of `fixed_batches` and commit the items whose status is not in
        `finished`. The whole batch is fitted even when some of it is done: a batch's numbers
        depend on its members (batched matrix products), so fitting the same members keeps a
        resumed run's results identical to an uninterrupted one."""
        pending = {it.name for it in batch if self.status(it) not in finished}
        results, to_fit = [], []
        for item in batch:
            if item.error:
                if item.name in pending:
                    results.append(self._fail(item, item.error))
                continue
            prep = self.prepare(item, commit=item.name in pending)
            if not isinstance(prep, Prepared):
                results.extend([prep] if prep else [])
                continue
            if item.params is not None:
                if item.name in pending:
                    results.append(self.from_encoder(prep))
                continue
            to_fit.append(prep)
        if to_fit and any(p.item.name in pending for p in to_fit):
            results += self.fit_batch(to_fit, commit={p.item.name for p in to_fit} & pending)
        return results

    def run(self, items: list[FitItem], finished: tuple[str, ...] = FINISHED) -> dict:
        """Fit `items` in this process, batch by batch (the Dask driver, fitting.distributed,
        runs the same batches as tasks)."""
        started = time.perf_counter()
        batches = pending_batches(self.out, items, self.options.batch_size, finished)
        self.log(f"fitting {sum(map(len, batches))} items in {len(batches)} batches of {len(items)} into {self.out}")
        for batch in batches:
            self.run_batch(batch, finished)
        summary = write_summary(self.out, [it.name for it in items])
        summary["seconds"] = round(time.perf_counter() - started, 2)
        return summary


def item_status(out: Path, item: FitItem) -> str | None:
    """The status an item's result.json records in the fit folder `out`, None if it has none."""
    path = Path(out) / item.name / RESULT
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text()).get("status")
    except (OSError, ValueError):
        return None


def fixed_batches(items: list[FitItem], batch_size: int) -> list[list[FitItem]]:
    """Items cut into batches by their position in the input alone, never by what is done or
    which worker is free: the same input gives the same batches, so the same numbers."""
    return [items[i:i + batch_size] for i in range(0, len(items), batch_size)]


def pending_batches(out: Path, items: list[FitItem], batch_size: int,
                    finished: tuple[str, ...] = FINISHED) -> list[list[FitItem]]:
    """The fixed batches that hold at least one item whose status in `out` is not in `finished`."""
    return [b for b in fixed_batches(items, batch_size) if any(item_status(out, it) not in finished for it in b)]


FAILURE_KINDS = (  # (words in the reason, kind) in order of precedence
    ("normalised mean error", "fit above the error limit"), ("no face", "no face"),
    ("MP limit", "image too large"), ("no such file", "missing image"), ("unreadable", "unreadable image"),
    ("not a readable image", "unreadable image"), ("fields where the header", "malformed CSV row"),
    ("is empty", "malformed CSV row"), ("landmarks", "bad landmarks"), ("encoder", "bad encoder parameters"),
)


def failure_kind(reason: str) -> str:
    return next((kind for words, kind in FAILURE_KINDS if words in reason), "other")


def write_summary(out: Path, names: list[str]) -> dict:
    """summary.json and summary.csv from every item's result.json (so a resumed run is whole)."""
    rows = []
    for name in names:
        path = out / name / RESULT
        rows.append(json.loads(path.read_text()) if path.exists() else {"name": name, "status": "missing"})
    counts = {s: sum(r["status"] == s for r in rows) for s in (*STATUSES, "missing")}
    reasons: dict[str, int] = {}
    for r in rows:
        if r["status"] in ("failed", "rejected"):
            key = failure_kind(r.get("reason", ""))
            reasons[key] = reasons.get(key, 0) + 1
    nmes = np.array([r["nme"] for r in rows if r.get("nme") is not None and r["status"] == "ok"])
    summary = {"items": len(rows), **counts, "failure_reasons": reasons,
               "nme_ok": ({"median": round(float(np.median(nmes)), 5), "mean": round(float(nmes.mean()), 5),
                           "max": round(float(nmes.max()), 5)} if len(nmes) else None),
               "results": rows}
    (out / SUMMARY_JSON).write_text(json.dumps(summary, indent=1))
    with open(out / SUMMARY_CSV, "w") as handle:
        handle.write("name,status,nme,reason,source_id\n")
        for r in rows:
            reason = str(r.get("reason", "")).replace('"', "'")
            handle.write(f'{r["name"]},{r["status"]},{r.get("nme") if r.get("nme") is not None else ""},"{reason}",{r.get("source_id", "")}\n')
    return summary
