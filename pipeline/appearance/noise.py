"""Seeded noise for painting, in two kinds:

- `lattice_noise` / `fbm`: smooth noise of a point's position on the neutral template (face
  frame), for features larger than a few texels (blotches, hairline, strands). A function of the
  template position, it is attached to the surface and continuous across UV seams.
- `texel_noise`: per-texel noise blurred to a size in face units, for detail at the texture's
  resolution (pores, stubble, freckles), where a seam cannot be seen.

Both move with the skin in every state, which keeps flow ground truth exact.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

MAX_LATTICE_CELLS = 16_000_000  # guards memory: a lattice this size takes 128 MB


def lattice_noise(coords: np.ndarray, seed: int) -> np.ndarray:
    """coords (N, d) in lattice cells -> (N,) smooth noise in [0, 1]: random values on the integer
    lattice covering the coords, blended by quadratic B-splines."""
    coords = np.asarray(coords, np.float64)
    by_axis = np.ascontiguousarray(coords.T)  # reducing (d, N) rows is ~10x faster than (N, d) columns
    lo = np.floor(by_axis.min(1)) - 2
    shape = (np.ceil(by_axis.max(1)) - lo + 3).astype(np.int64)
    if np.prod(shape) > MAX_LATTICE_CELLS:
        raise ValueError(f"noise lattice of {tuple(shape)} cells is too fine: use texel_noise for detail this small")
    grid = np.random.default_rng(seed).random(tuple(shape))
    values = ndimage.map_coordinates(grid, by_axis - lo[:, None], order=2, prefilter=False, mode="nearest")
    return values


def fbm(points: np.ndarray, frequency: float, octaves: int, seed: int, max_frequency: float = np.inf) -> np.ndarray:
    """points (N, 3) -> (N,) fractal noise in [0, 1] (mean 0.5): `octaves` doublings from `frequency`
    (cycles per unit), dropping those above `max_frequency` (the texture's Nyquist limit)."""
    total, norm, amplitude = np.zeros(len(points)), 0.0, 1.0
    for o in range(octaves):
        freq = frequency * 2.0**o
        if freq > max_frequency and o > 0:
            break
        total += amplitude * lattice_noise(points * freq, seed + 7919 * o)
        norm += amplitude
        amplitude *= 0.5
    return total / norm


def texel_noise(size: int, texels: np.ndarray, texel_size: float, feature_size: float, seed: int) -> np.ndarray:
    """(N,) noise at the texels (flat indices into S x S), blurred to about `feature_size` face
    units and rescaled to zero mean and unit spread."""
    field = np.random.default_rng(seed).standard_normal((size, size))
    sigma = max(0.5 * feature_size / texel_size, 0.0)
    if sigma >= 0.35:
        field = ndimage.gaussian_filter(field, sigma, mode="wrap")
    values = field.reshape(-1)[texels]
    return (values - values.mean()) / max(values.std(), 1e-12)
