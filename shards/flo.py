"""Middlebury .flo files (readable by cv2.readOpticalFlow): magic 202021.25, width, height,
then row-major float32 (u, v) pairs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

FLO_MAGIC = np.float32(202021.25)


def write_flo(path: Path, flow: np.ndarray) -> None:
    """flow (H, W, 2) float32 -> .flo."""
    flow = np.asarray(flow, np.float32)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be (H, W, 2), got {flow.shape}")
    with open(path, "wb") as fh:
        fh.write(FLO_MAGIC.tobytes())
        fh.write(np.array([flow.shape[1], flow.shape[0]], np.int32).tobytes())
        fh.write(flow.tobytes())


def read_flo(path: Path) -> np.ndarray:
    data = Path(path).read_bytes()
    if len(data) < 12 or np.frombuffer(data[:4], np.float32)[0] != FLO_MAGIC:
        raise ValueError(f"{path} is not a Middlebury .flo file")
    width, height = np.frombuffer(data[4:12], np.int32)
    flow = np.frombuffer(data[12:], np.float32)
    if flow.size != width * height * 2:
        raise ValueError(f"{path} is truncated: {flow.size} values for {width} x {height} x 2")
    return flow.reshape(height, width, 2).copy()
