"""Flows derived from the stored ones. A shard stores the facial flow (onset -> apex) and the head
flow (onset -> head state: onset expression, apex head pose); the micro-expression flow is their
difference, at every pixel (DESIGN)."""
from __future__ import annotations

from collections.abc import Callable

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
