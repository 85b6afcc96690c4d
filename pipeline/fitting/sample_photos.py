"""Two real face photos that ship inside installed packages (scikit-image, matplotlib), written
to a folder for `meflow fit` demos and the pictures in docs/. Nothing is downloaded."""
from __future__ import annotations

import sys
from pathlib import Path


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


if __name__ == "__main__":
    print("\n".join(str(p) for p in write_sample_photos(sys.argv[1] if len(sys.argv) > 1 else "build/sample-photos")))
