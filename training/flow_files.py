"""What `meflow flow` writes for a pair: the three flows as Middlebury .flo files and colour-wheel
PNGs (facial and head on one scale, expression on its own, as it is tens of times smaller)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from shards.flo import write_flo
from shards.flow_pictures import flow_to_rgb, wheel_legend
from shards.flows import FlowPrediction

FLOW_NAMES = ("flow_facial", "flow_head", "flow_expression")
OVERVIEW = "overview.png"


def read_rgb(path: Path, hint: str = "is it a PNG or JPEG?") -> np.ndarray:
    """An image file -> (H, W, 3) uint8 RGB; ValueError naming the file (and `hint`) when it cannot be read."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read the image {path}: {hint}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    return Path(path)


def write_flow_outputs(folder: Path, onset: np.ndarray, prediction: FlowPrediction) -> list[Path]:
    """flow_facial.flo, flow_head.flo, flow_expression.flo, a PNG of each, and overview.png (onset,
    the three wheels, the legend) in `folder`. The prediction must carry a head flow."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    flows = dict(zip(FLOW_NAMES, (prediction.facial, prediction.head, prediction.expression), strict=True))
    shared = float(max(np.hypot(*prediction.facial.transpose(2, 0, 1)).max(), 1e-6))
    written, pictures = [], []
    for name, flow in flows.items():
        write_flo(folder / f"{name}.flo", flow.astype(np.float32))
        picture = flow_to_rgb(flow, None if name == "flow_expression" else shared)
        written += [folder / f"{name}.flo", write_rgb(folder / f"{name}.png", picture)]
        pictures.append(picture)
    height = onset.shape[0]
    legend = cv2.resize(wheel_legend(), (height, height), interpolation=cv2.INTER_AREA)
    written.append(write_rgb(folder / OVERVIEW, np.concatenate([onset, *pictures, legend], axis=1)))
    return written
