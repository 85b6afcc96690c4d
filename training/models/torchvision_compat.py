"""Importing torchvision beside a CPU-only torch.

torchvision's PyPI wheel links the CUDA builds of torch's libraries, so with a CPU-only torch its
C operators do not load. Nothing here needs them (RAFT and transformers' image utilities are pure
Python), but two of torchvision's registrations assume `nms` and `qnms` exist. `ensure_torchvision`
declares their schemas when, and only when, that import fails for this reason; a torchvision whose
operators load is imported untouched.
"""
from __future__ import annotations

import sys

import torch

_SCHEMAS = ("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
            "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
_LIBRARIES: list = []  # a schema lives as long as its Library object


def ensure_torchvision() -> None:
    """Import torchvision (see the module docstring); ImportError when it is not installed."""
    try:
        import torchvision
    except RuntimeError as err:
        if "torchvision::" not in str(err):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        library = torch.library.Library("torchvision", "DEF")
        for schema in _SCHEMAS:
            library.define(schema)
        _LIBRARIES.append(library)
        import torchvision  # noqa: F401
