"""Scalar distributions written in recipes, and their samplers (pure functions of a numpy RNG).

A recipe writes `{ uniform = [lo, hi] }` or
`{ piecewise_uniform = { edges = [e0, e1, ..., en], probabilities = [p1, ..., pn] } }`: with
probability p_i a value is uniform on [e_{i-1}, e_i]. The paper's "85 % of increments below 0.1"
is `edges = [0.03, 0.1, 0.25], probabilities = [0.85, 0.15]`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROBABILITY_TOLERANCE = 1e-6


class RecipeError(ValueError):
    """A recipe value is missing or out of range; the message names the key."""


@dataclass(frozen=True)
class PiecewiseUniform:
    edges: tuple[float, ...]
    probabilities: tuple[float, ...]

    def sample(self, rng: np.random.Generator, size: int | None = None):
        """Draws (scalar, or (size,) array)."""
        n = 1 if size is None else size
        piece = rng.choice(len(self.probabilities), size=n, p=np.asarray(self.probabilities))
        lo, hi = np.asarray(self.edges[:-1])[piece], np.asarray(self.edges[1:])[piece]
        values = lo + (hi - lo) * rng.random(n)
        return float(values[0]) if size is None else values

    def cdf(self, x: float) -> float:
        """P(X <= x), for tests and plots."""
        total = 0.0
        for lo, hi, p in zip(self.edges[:-1], self.edges[1:], self.probabilities):
            total += p * float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))
        return total

    @property
    def support(self) -> tuple[float, float]:
        return self.edges[0], self.edges[-1]


def parse_distribution(value, key: str) -> PiecewiseUniform:
    """A distribution from its recipe form; RecipeError naming `key` when malformed."""
    if not isinstance(value, dict) or len(value) != 1:
        raise RecipeError(f"{key} must be {{ uniform = [lo, hi] }} or {{ piecewise_uniform = {{ edges = [...], probabilities = [...] }} }}")
    (kind, spec), = value.items()
    if kind == "uniform":
        if not (isinstance(spec, list) and len(spec) == 2 and all(isinstance(v, (int, float)) for v in spec)):
            raise RecipeError(f"{key}.uniform must be [lo, hi], got {spec!r}")
        edges, probabilities = (float(spec[0]), float(spec[1])), (1.0,)
    elif kind == "piecewise_uniform":
        if not isinstance(spec, dict) or set(spec) != {"edges", "probabilities"}:
            raise RecipeError(f"{key}.piecewise_uniform needs exactly 'edges' and 'probabilities'")
        edges = tuple(float(v) for v in spec["edges"])
        probabilities = tuple(float(v) for v in spec["probabilities"])
        if len(edges) != len(probabilities) + 1:
            raise RecipeError(f"{key}: {len(edges)} edges need {len(edges) - 1} probabilities, got {len(probabilities)}")
        if any(p < 0 for p in probabilities) or abs(sum(probabilities) - 1.0) > PROBABILITY_TOLERANCE:
            raise RecipeError(f"{key}.probabilities must be >= 0 and sum to 1, got {list(probabilities)}")
    else:
        raise RecipeError(f"{key}: unknown distribution '{kind}' (use uniform or piecewise_uniform)")
    if any(b <= a for a, b in zip(edges[:-1], edges[1:])):
        raise RecipeError(f"{key}: edges must increase, got {list(edges)}")
    return PiecewiseUniform(edges, probabilities)
