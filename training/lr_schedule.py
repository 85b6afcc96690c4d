"""Learning-rate factors by step: a linear warm-up, then a cosine anneal (`cosine`) or the
one-cycle shape (`onecycle`: warm-up to the peak, cosine down to a small floor)."""
from __future__ import annotations

import math

ONECYCLE_FLOOR = 1e-3  # one-cycle ends at this share of the peak rate
COSINE_FLOOR = 0.0


def lr_factor(step: int, total: int, warmup: int, kind: str) -> float:
    """Multiplier of the peak learning rate at `step` of `total` (0-based)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    floor = ONECYCLE_FLOOR if kind == "onecycle" else COSINE_FLOOR
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
