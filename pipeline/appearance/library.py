"""Texture libraries: a folder of UV textures (the ones `meflow fit` writes, FreeUV outputs) that
random identities draw their base skin from, with the procedural detail painted on top."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from render.backgrounds import srgb_to_linear

TEXTURE_SUFFIXES = (".png", ".jpg", ".jpeg")


class TextureError(ValueError):
    """A texture cannot be used; the message names the file and what to do."""


def list_textures(folder: str, key: str = "[render.appearance] texture_folder") -> list[str]:
    """Sorted texture files under `folder` (recursively: `meflow fit` writes DIR/<item>/texture.png)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise TextureError(f"{key} {folder!r} is not a folder: point it at a folder of UV textures (e.g. a `meflow fit` output)")
    files = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in TEXTURE_SUFFIXES and p.is_file())
    if not files:
        raise TextureError(f"{key} {folder!r} holds no PNG or JPEG images: add UV textures or clear the key")
    return files


def load_texture(path: str, size: int) -> np.ndarray:
    """A square UV texture as (size, size, 3) linear RGB in [0, 1]."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.width != image.height:
                raise TextureError(f"texture {path} is {image.width} x {image.height}: UV textures must be square")
            rgb = image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    except (OSError, UnidentifiedImageError) as err:
        raise TextureError(f"texture {path} cannot be read ({type(err).__name__}): replace it with a PNG or JPEG") from None
    return srgb_to_linear(np.asarray(rgb, np.float64) / 255.0)
