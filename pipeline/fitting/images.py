"""Reading photos robustly: any mode PIL decodes becomes 8-bit RGB, with notes of what changed.

A photo that cannot be used raises PhotoError with a one-line reason; the run records it for that
image and goes on. Very large photos are worked on downscaled (landmarks and cameras stay in the
original's pixels through `Photo.scale`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_MEGAPIXELS = 100.0  # above this a photo is refused (decompression bombs, scans of posters)
WORK_SIDE = 2048  # longer side of the copy that detectors and texture sampling see
EXIF_ORIENTATION = 0x0112
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


class PhotoError(ValueError):
    """The photo cannot be used; the message says why and what to do."""


@dataclass
class Photo:
    """rgb (h, w, 3) uint8 working copy; size (W, H) of the original; scale = original / working."""

    rgb: np.ndarray
    size: tuple[int, int]
    scale: float = 1.0
    notes: list[str] = field(default_factory=list)


def _to_rgb8(image: Image.Image, notes: list[str]) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or values.max() > 255 else 255.0
        notes.append(f"{mode} image scaled to 8 bits")
        gray = np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, -1)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        notes.append("alpha composited over mid grey")
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
        alpha = rgba[..., 3:] / 255.0
        return np.round(rgba[..., :3] * alpha + 128.0 * (1 - alpha)).astype(np.uint8)
    if mode != "RGB":
        notes.append({"L": "grayscale", "1": "1-bit", "CMYK": "CMYK", "P": "palette"}.get(mode, mode) + " converted to RGB")
    return np.asarray(image.convert("RGB"))


def load_photo(path: Path, max_megapixels: float = MAX_MEGAPIXELS, work_side: int = WORK_SIDE) -> Photo:
    """Decode a photo to 8-bit RGB. Raises PhotoError for missing, unreadable, truncated or
    over-large files."""
    path = Path(path)
    if not path.is_file():
        raise PhotoError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size
            if width * height > max_megapixels * 1e6:
                raise PhotoError(f"{path.name}: {width}x{height} is {width * height / 1e6:.0f} MP, above the "
                                 f"{max_megapixels:.0f} MP limit: downscale it")
            image.load()  # decodes now, so a truncated file fails here
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise PhotoError(f"{path.name}: not a readable image ({err})") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise PhotoError(f"{path.name}: unreadable or truncated image ({err})") from None
    notes: list[str] = []
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
        notes.append("rotated by its EXIF orientation")
    rgb = _to_rgb8(ImageOps.exif_transpose(image), notes)
    size = (rgb.shape[1], rgb.shape[0])
    scale = max(size) / work_side if max(size) > work_side else 1.0
    if scale > 1.0:
        rgb = cv2.resize(rgb, (round(size[0] / scale), round(size[1] / scale)), interpolation=cv2.INTER_AREA)
        scale = size[0] / rgb.shape[1]
        notes.append(f"worked on at {rgb.shape[1]}x{rgb.shape[0]}")
    return Photo(rgb=rgb, size=size, scale=scale, notes=notes)
