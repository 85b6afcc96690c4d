"""What every flow method shares: the network, RAFT and the OpenCV baselines all answer
`predict(onset, apex) -> FlowPrediction`, so evaluation and inference treat them alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class FlowPrediction:
    """Flow from onset to apex, in pixels, x then y.

    facial: (H, W, 2) float32, the whole motion (expression + head).
    head: (H, W, 2) float32, the head-only motion, or None for a method that estimates facial
        flow only (the evaluator then takes the nose-tip compensation as its head flow).
    """

    facial: np.ndarray
    head: np.ndarray | None = None

    @property
    def expression(self) -> np.ndarray:
        """(H, W, 2): facial - head (needs a head flow)."""
        if self.head is None:
            raise ValueError("this prediction has no head flow: compensate it first (facial.nose_tip)")
        return self.facial - self.head


class FlowMethod(Protocol):
    """A flow estimator. onset, apex: (H, W, 3) uint8 RGB of one size."""

    name: str

    def predict(self, onset: np.ndarray, apex: np.ndarray) -> FlowPrediction: ...
