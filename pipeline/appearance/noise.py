"""Seeded noise for painting, in two kinds:

- `lattice_noise` / `fbm`: smooth noise of a point's position on the neutral template (face
  frame), for features larger than a few texels (blotches, hairline, strands). A function of the
  template position, it is attached to the surface and continuous across UV seams.
- `surface_noise`: Gaussian noise of the template position with features of a given size, for
  detail near the texture's resolution (pores, stubble, freckles). Blurring white noise in the
  texture's own grid made it follow the UV stretch (2.4:1 on the face): pores were streaks.

Both move with the skin in every state, which keeps flow ground truth exact.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

MAX_LATTICE_CELLS = 16_000_000  # guards memory: a lattice this size takes 128 MB
NOISE_PERIOD = 97  # surface_noise's lattice, cells a side (7 MB)


def lattice_noise(coords: np.ndarray, seed: int) -> np.ndarray:
    """coords (N, d) in lattice cells -> (N,) smooth noise in [0, 1]: random values on the integer
    lattice covering the coords, blended by quadratic B-splines."""
    coords = np.asarray(coords, np.float64)
    by_axis = np.ascontiguousarray(coords.T)  # reducing (d, N) rows is ~10x faster than (N, d) columns
    lo = np.floor(by_axis.min(1)) - 2
    shape = (np.ceil(by_axis.max(1)) - lo + 3).astype(np.int64)
    if np.prod(shape) > MAX_LATTICE_CELLS:
        raise ValueError(f"noise lattice of {tuple(shape)} cells is too fine: use surface_noise for detail this small")
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


def surface_noise(points: np.ndarray, feature_size: float, seed: int) -> np.ndarray:
    """points (N, 3) face frame -> (N,) noise with features of about `feature_size` face units,
    round on the surface whatever the UV layout, rescaled to zero mean and unit spread. Gaussian
    values on a lattice of feature_size cells, blended by quadratic B-splines (a kernel of spread
    feature_size / 2, so its values stay Gaussian and thresholds keep their meaning). The lattice
    repeats every NOISE_PERIOD cells, along axes turned at random per seed, to bound its memory:
    for pores, every 5 cm in no direction of the face's."""
    rng = np.random.default_rng(seed)
    grid = rng.standard_normal((NOISE_PERIOD,) * 3)
    rotation, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    cells = np.ascontiguousarray((np.asarray(points, np.float64) @ rotation).T) / feature_size
    values = ndimage.map_coordinates(grid, cells, order=2, prefilter=False, mode="grid-wrap")
    return (values - values.mean()) / max(values.std(), 1e-12)
