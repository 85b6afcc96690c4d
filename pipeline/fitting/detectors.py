"""Landmark detector plug-ins: an RGB photo -> 68 iBUG points, or a reason why not.

Plug-ins are optional installs. Asking for one that is missing fails with the command that
installs it; a photo without a face raises NoFaceError, which the run records for that image.
"""
from __future__ import annotations

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
    """A detector plug-in is not installed."""


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


class DlibDetector:
    """dlib's HOG face detector and 68-point shape predictor (face-recognition-models' file)."""

    name = "dlib"

    def __init__(self) -> None:
        try:
            import dlib
            import face_recognition_models
        except ImportError:
            raise PluginMissing(f"the dlib landmark plug-in is not installed: {INSTALL['dlib']}") from None
        self._faces = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())

    def detect(self, rgb: np.ndarray) -> np.ndarray:
        boxes = self._faces(np.ascontiguousarray(rgb), 1)
        if len(boxes) == 0:
            raise NoFaceError("dlib found no face")
        box = max(boxes, key=lambda b: b.width() * b.height())
        shape = self._shape(rgb, box)
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(N_POINTS)], dtype=np.float64)

    def close(self) -> None:
        pass


def make_detector(name: str) -> LandmarkDetector:
    if name == "mediapipe":
        return MediapipeDetector()
    if name == "dlib":
        return DlibDetector()
    raise ValueError(f"unknown landmark detector {name!r}: choose one of {list(DETECTORS)}")
