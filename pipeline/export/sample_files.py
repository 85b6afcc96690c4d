"""One sample as files, the layout `meflow render preview` and the dataset's flo export share:
<dir>/<sample_id>/{onset.png, apex.png, flow_facial.flo, flow_head.flo, mask.png, params.json}
(Middlebury .flo, readable by cv2.readOpticalFlow)."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from shards.flo import write_flo

# The file of each field in a sample's folder.
SAMPLE_FILES = {"onset": "onset.png", "apex": "apex.png", "flow_facial": "flow_facial.flo", "flow_head": "flow_head.flo",
                "mask": "mask.png", "params": "params.json"}


def write_png(path: Path, rgb: np.ndarray) -> None:
    """(H, W, 3) RGB or (H, W) grey uint8 -> PNG; OSError when it cannot be written."""
    if not cv2.imwrite(str(path), rgb[..., ::-1] if rgb.ndim == 3 else rgb):
        raise OSError(f"cannot write {path}")


def write_core_files(folder: Path, onset, apex, flow_facial, flow_head, mask, params: dict) -> Path:
    """<folder>/{onset.png, apex.png, flow_facial.flo, flow_head.flo, mask.png, params.json}."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / file for name, file in SAMPLE_FILES.items()}
    write_png(files["onset"], onset)
    write_png(files["apex"], apex)
    write_flo(files["flow_facial"], flow_facial)
    write_flo(files["flow_head"], flow_head)
    write_png(files["mask"], np.asarray(mask).astype(np.uint8) * 255)
    files["params"].write_text(json.dumps(params, indent=1))
    return folder
