"""Two real face photos that ship inside installed packages (scikit-image, matplotlib), written
to a folder for `meflow fit` demos and the pictures in docs/, and an AffectNet-shaped folder made
of them (for the photo-source recipes and their tests). Nothing is downloaded."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

from facial.ibug68 import mirror_landmarks

from ..resources import sample_landmarks_file
from .sources import AFFECTNET_COLUMNS

AFFECTNET_IMAGES = "Manually_Annotated_Images"  # AffectNet's image folder; the CSV's paths are relative to it
AFFECTNET_CSV = "training.csv"
SCRAMBLE_SEED = 0  # the landmark order of the sample's deliberately wrong row


def write_sample_photos(folder: str | Path) -> list[Path]:
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    astronaut = folder / "astronaut.png"
    Image.fromarray(data.astronaut()).save(astronaut)
    grace = folder / "grace_hopper.jpg"
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as image:
        image.convert("RGB").save(grace, quality=95)
    return [astronaut, grace]


def sample_photo_landmarks() -> dict[str, np.ndarray]:
    """{photo file name: (68, 2) landmarks in pixels} of the sample photos (mediapipe's, kept)."""
    return {name: np.asarray(points) for name, points in json.loads(sample_landmarks_file().read_text()).items()}


def _row(path: str, landmarks: np.ndarray | str, size: tuple[int, int], expression: int, valence: float,
         arousal: float) -> list:
    text = landmarks if isinstance(landmarks, str) else ";".join(f"{v:.2f}" for v in np.asarray(landmarks).reshape(-1))
    return [path, 0, 0, size[0], size[1], text, expression, valence, arousal]


def write_affectnet_sample(folder: str | Path) -> Path:
    """An AffectNet-shaped folder: FOLDER/training.csv in AffectNet's column layout, its images
    under FOLDER/Manually_Annotated_Images/. Rows: the two sample photos and their mirror images
    with their landmarks (4 faces that fit), one row whose landmarks are scrambled (a fit that
    is rejected), one whose image is missing and one with a malformed landmark field (2 that
    fail). Returns the CSV's path."""
    from PIL import Image

    folder = Path(folder)
    images = folder / AFFECTNET_IMAGES
    photos = write_sample_photos(folder / "originals")
    landmarks = sample_photo_landmarks()
    rows = []
    for number, (photo, expression) in enumerate(zip(photos, (1, 0)), start=1):
        rgb = np.asarray(Image.open(photo).convert("RGB"))
        height, width = rgb.shape[:2]
        sub = images / str(number)
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(sub / f"{photo.stem}.png")
        Image.fromarray(np.ascontiguousarray(rgb[:, ::-1])).save(sub / f"{photo.stem}_mirrored.png")
        points = landmarks[photo.name]
        rows.append(_row(f"{number}/{photo.stem}.png", points, (width, height), expression, 0.5, 0.2))
        rows.append(_row(f"{number}/{photo.stem}_mirrored.png", mirror_landmarks(points, width), (width, height),
                         expression, 0.5, 0.2))
    astronaut = landmarks[photos[0].name]
    scrambled = astronaut[np.random.default_rng(SCRAMBLE_SEED).permutation(len(astronaut))]
    rows.append(_row(f"1/{photos[0].stem}.png", scrambled, (512, 512), 8, 0.0, 0.0))
    rows.append(_row("3/not_there.jpg", astronaut, (512, 512), 0, 0.0, 0.0))
    rows.append(_row(f"2/{photos[1].stem}.png", "12.0;13.0;oops", (512, 600), 0, 0.0, 0.0))
    csv_path = folder / AFFECTNET_CSV
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(AFFECTNET_COLUMNS)
        writer.writerows(rows)
    return csv_path


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--affectnet":
        print(write_affectnet_sample(sys.argv[2] if len(sys.argv) > 2 else "build/affectnet-sample"))
    else:
        print("\n".join(str(p) for p in write_sample_photos(sys.argv[1] if len(sys.argv) > 1 else "build/sample-photos")))
