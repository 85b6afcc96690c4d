"""Landmark detector plug-ins: an RGB photo -> 68 iBUG points, or a reason why not.

Plug-ins are optional installs. Asking for one that is missing fails with the command that
installs it (PluginMissing); one that is installed but cannot load says why (PluginBroken); a photo
without a face raises NoFaceError, which the run records for that image.
"""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Protocol

import numpy as np

from facial.ibug68 import N_POINTS

# mediapipe face-mesh vertex (or the mean of two) for each iBUG-68 point. Chosen by anatomy:
# the face oval for the jaw line, the lid and lip contours for eyes and mouth.
MEDIAPIPE_TO_IBUG68: tuple[tuple[int, ...], ...] = (
    (127,), (234,), (93,), (132,), (58,), (172,), (136, 150), (149, 176), (152,),  # jaw 0-8
    (400, 378), (379, 365), (397,), (288,), (361,), (323,), (454,), (356,),  # jaw 9-16
    (70,), (63,), (105,), (66,), (107,),  # right brow (image left) 17-21
    (336,), (296,), (334,), (293,), (300,),  # left brow 22-26
    (168,), (197,), (5,), (4,),  # nose bridge 27-30
    (98,), (97,), (2,), (326,), (327,),  # nostrils 31-35
    (33,), (160,), (158,), (133,), (153,), (144,),  # right eye 36-41
    (362,), (385,), (387,), (263,), (373,), (380,),  # left eye 42-47
    (61,), (40,), (37,), (0,), (267,), (270,), (291,),  # outer lip, upper 48-54
    (321,), (314,), (17,), (84,), (91,),  # outer lip, lower 55-59
    (78,), (81,), (13,), (311,), (308,), (402,), (14,), (178,),  # inner lip 60-67
)

INSTALL = {
    "mediapipe": "pip install --no-deps mediapipe==0.10.21 && pip install \"meflow[mediapipe]\"  (or: make setup)",
    "dlib": "pip install \"meflow[dlib]\"  (dlib-bin and face-recognition-models; the 68-point model is non-commercial)",
}
DETECTORS = tuple(INSTALL)


class NoFaceError(ValueError):
    """The detector found no face in the photo."""


class PluginMissing(RuntimeError):
    """A detector plug-in is not installed (or, as PluginBroken, installed but unusable): callers
    that catch this one report both."""


class PluginBroken(PluginMissing):
    """A detector plug-in is installed but cannot load: a module that fails to import for a reason
    other than being absent, a model file missing from its package, a model that will not load."""


class LandmarkDetector(Protocol):
    name: str

    def detect(self, rgb: np.ndarray) -> np.ndarray:
        """rgb (H, W, 3) uint8 -> (68, 2) pixels (x right, y down), or NoFaceError."""


def mediapipe_to_ibug68(points: np.ndarray) -> np.ndarray:
    """points (478, 2) or (468, 2) mediapipe face mesh -> (68, 2) iBUG order."""
    return np.stack([points[list(ids)].mean(0) for ids in MEDIAPIPE_TO_IBUG68])


class MediapipeDetector:
    """mediapipe 0.10.21's face mesh (its models ship inside the wheel: nothing downloads)."""

    name = "mediapipe"

    def __init__(self) -> None:
        try:
            from mediapipe.python.solutions import face_mesh
        except ImportError:
            raise PluginMissing(f"the mediapipe landmark plug-in is not installed: {INSTALL['mediapipe']}") from None
        self._mesh = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                        min_detection_confidence=0.5)

    def detect(self, rgb: np.ndarray) -> np.ndarray:
        result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            raise NoFaceError("mediapipe found no face")
        height, width = rgb.shape[:2]
        # mediapipe's normalised coordinates put 0 and 1 at the image edges; ours are pixel centres.
        points = np.array([[p.x * width - 0.5, p.y * height - 0.5] for p in result.multi_face_landmarks[0].landmark])
        return mediapipe_to_ibug68(points)

    def close(self) -> None:
        self._mesh.close()


# face-recognition-models ships dlib's 68-point model as a data file; its own lookup imports
# pkg_resources, which setuptools 81 and later no longer have, so the file is found from the
# package's import spec instead, without importing the package.
DLIB_MODEL_PACKAGE = "face_recognition_models"
DLIB_MODEL_FILE = ("models", "shape_predictor_68_face_landmarks.dat")
DLIB_REINSTALL = "pip install --force-reinstall --no-deps dlib-bin face-recognition-models"


def _dlib_missing(modules: list[str]) -> PluginMissing:
    return PluginMissing(f"the dlib landmark plug-in is not installed ({' and '.join(modules)} missing): {INSTALL['dlib']}")


def _dlib_broken(reason: str) -> PluginBroken:
    return PluginBroken(f"the dlib landmark plug-in is installed but broken: {reason}; reinstall it: {DLIB_REINSTALL}")


def _installed(module: str) -> bool:
    """Whether a top-level module can be found, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # found, but odd (no __spec__): importing it will say more
        return True


def import_dlib():
    """The dlib module; PluginMissing when it is not installed, PluginBroken when it is but fails
    to import (a missing compiled part, a shared library the system lacks, ...)."""
    try:
        return importlib.import_module("dlib")
    except Exception as err:  # noqa: BLE001 - an installed extension fails in many ways
        if isinstance(err, ModuleNotFoundError) and err.name == "dlib":
            raise _dlib_missing(["dlib"]) from None
        raise _dlib_broken(f"import dlib failed: {type(err).__name__}: {err}") from None


def dlib_model_path() -> Path:
    """face-recognition-models' 68-point model file, found without importing that package.
    PluginMissing when the package is not installed, PluginBroken when its file is absent."""
    try:
        spec = importlib.util.find_spec(DLIB_MODEL_PACKAGE)
    except (ImportError, ValueError) as err:
        raise _dlib_broken(f"{DLIB_MODEL_PACKAGE} cannot be located: {err}") from None
    if spec is None:
        raise _dlib_missing([DLIB_MODEL_PACKAGE])
    folders = list(spec.submodule_search_locations or [])
    if not folders:
        raise _dlib_broken(f"{DLIB_MODEL_PACKAGE} at {spec.origin} is a module, not the package that holds the model files")
    for folder in folders:
        path = Path(folder).joinpath(*DLIB_MODEL_FILE)
        if path.is_file():
            return path
    where = " or ".join(str(Path(f).joinpath(*DLIB_MODEL_FILE)) for f in folders)
    raise _dlib_broken(f"the 68-point model file is not in {DLIB_MODEL_PACKAGE} (looked for {where})")


class DlibDetector:
    """dlib's HOG face detector and 68-point shape predictor (face-recognition-models' file)."""

    name = "dlib"

    def __init__(self) -> None:
        missing = [m for m in ("dlib", DLIB_MODEL_PACKAGE) if not _installed(m)]
        if missing:
            raise _dlib_missing(missing)
        model = dlib_model_path()
        dlib = import_dlib()
        try:
            self._faces = dlib.get_frontal_face_detector()
            self._shape = dlib.shape_predictor(str(model))
        except Exception as err:  # noqa: BLE001 - dlib raises RuntimeError for a damaged file
            raise _dlib_broken(f"dlib cannot load {model}: {type(err).__name__}: {err}") from None

    def detect(self, rgb: np.ndarray) -> np.ndarray:
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        boxes = self._faces(rgb, 1)
        if len(boxes) == 0:
            raise NoFaceError("dlib found no face")
        box = max(boxes, key=lambda b: b.width() * b.height())
        shape = self._shape(rgb, box)
        # dlib's integer coordinates index pixels, so they already are pixel centres.
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(N_POINTS)], dtype=np.float64)

    def close(self) -> None:
        pass


def make_detector(name: str) -> LandmarkDetector:
    if name == "mediapipe":
        return MediapipeDetector()
    if name == "dlib":
        return DlibDetector()
    raise ValueError(f"unknown landmark detector {name!r}: choose one of {list(DETECTORS)}")
