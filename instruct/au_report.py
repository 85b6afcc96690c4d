"""Where the motion prompt sees motion, per action unit: the check that AU12 moves the mouth
corners and AU4 the inner brows (pure numpy; `pictures.au_report_png` draws it).

Per sample, region magnitudes are divided by the sample's largest, so strong and weak samples
weigh alike. An AU's lift in a region is the mean over samples WITH the AU minus the mean over
samples WITHOUT it: positive where the AU adds motion, whatever other AUs its samples share.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facial.action_units import ActionUnit, au_regions, parse_au_code
from facial.regions import ROI_NAMES


@dataclass(frozen=True)
class AuReport:
    codes: tuple[str, ...]  # AU codes, rows ("1", "12", "R12", ...)
    lift: np.ndarray  # (A, 29) see the module docstring
    expected: np.ndarray  # (A, 29) bool: the regions au_regions names
    counts: tuple[int, ...]  # samples with each AU
    top_in_expected: float  # share of samples whose most-moving region is one their AUs act on
    n_samples: int


def expected_regions(units: tuple[ActionUnit, ...]) -> np.ndarray:
    """(29,) bool: the union of the regions the units act on."""
    names = {r for u in units for r in au_regions(u)}
    return np.array([name in names for name in ROI_NAMES])


def top_region_in_au_regions(units: tuple[ActionUnit, ...], magnitudes: np.ndarray) -> bool:
    """magnitudes (29,) mean magnitude per ROI (NaN: empty) -> whether the most-moving region is one
    the units act on."""
    return bool(expected_regions(units)[int(np.nanargmax(magnitudes))])


def au_report(samples: list[tuple[tuple[ActionUnit, ...], np.ndarray]], min_samples: int = 3) -> AuReport:
    """samples: (action units, (29,) region magnitudes) per sample -> AuReport over the AUs seen in
    at least `min_samples` samples and missing from at least one."""
    if not samples:
        raise ValueError("no samples to report on")
    magnitudes = np.stack([np.nan_to_num(m, nan=0.0) for _, m in samples])
    normalised = magnitudes / np.maximum(magnitudes.max(1, keepdims=True), 1e-12)
    present = [{u.code for u in units} for units, _ in samples]
    codes = sorted({c for p in present for c in p}, key=lambda c: (parse_au_code(c).number, c))
    rows, expected, counts, kept = [], [], [], []
    for code in codes:
        has = np.array([code in p for p in present])
        if has.sum() < min_samples or has.all():
            continue
        rows.append(normalised[has].mean(0) - normalised[~has].mean(0))
        expected.append(expected_regions((parse_au_code(code),)))
        counts.append(int(has.sum()))
        kept.append(code)
    top = np.mean([top_region_in_au_regions(units, m) for units, m in samples])
    return AuReport(tuple(kept), np.array(rows).reshape(-1, len(ROI_NAMES)), np.array(expected, bool).reshape(-1, len(ROI_NAMES)),
                    tuple(counts), float(top), len(samples))
