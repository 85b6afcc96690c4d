"""Flows derived from the stored ones, and what every flow method answers. A shard stores the
facial flow (onset -> apex) and the head flow (onset -> head state: onset expression, apex head
pose); the micro-expression flow is their difference, at every pixel (DESIGN). The network, RAFT
and the OpenCV baselines all answer `predict(onset, apex) -> FlowPrediction`, so evaluation,
inference and the instruction builder treat them alike."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


def expression_flow(flow_facial: np.ndarray, flow_head: np.ndarray) -> np.ndarray:
    """flow_facial, flow_head (..., 2) pixels -> (..., 2) micro-expression flow, facial - head.
    Works on numpy arrays and torch tensors alike."""
    return flow_facial - flow_head


# A field a reader can ask for although no shard stores it: name -> (stored inputs, function).
DERIVED_FIELDS: dict[str, tuple[tuple[str, ...], Callable]] = {
    "flow_expression": (("flow_facial", "flow_head"), expression_flow),
}


def derive(name: str, stored: dict) -> np.ndarray:
    """The derived field `name` computed from a sample's stored fields."""
    inputs, function = DERIVED_FIELDS[name]
    return function(*(stored[field] for field in inputs))


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
        return expression_flow(self.facial, self.head)


class FlowMethod(Protocol):
    """A flow estimator. onset, apex: (H, W, 3) uint8 RGB of one size."""

    name: str

    def predict(self, onset: np.ndarray, apex: np.ndarray) -> FlowPrediction: ...
