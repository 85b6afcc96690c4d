"""Classical flow baselines for `meflow eval`: zero flow and OpenCV's Farneback, DIS and TV-L1.

Each is a FlowMethod that estimates facial flow only (head None) on grayscale images, so the
evaluator compensates it at the nose tip as the paper's ablation does. Parameters are pinned here
rather than left to OpenCV's defaults, so a figure does not drift with the OpenCV version; they
suit sub-pixel to few-pixel motion on faces of 96 to 512 pixels (see the module constants).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import cv2
import numpy as np

from shards.flows import FlowMethod, FlowPrediction

# Farneback: a 3-level pyramid halving each time reaches 1/4 resolution, plenty for a few pixels;
# the 15-px averaging window and 5-px polynomial neighbourhood (sigma 1.1, OpenCV's pairing for
# poly_n 5) did best over 96-512 px warped face photos among the sizes tried (9-31 px windows).
FARNEBACK_PYRAMID_SCALE = 0.5
FARNEBACK_LEVELS = 3
FARNEBACK_WINDOW_PX = 15
FARNEBACK_ITERATIONS = 5
FARNEBACK_POLY_N = 5
FARNEBACK_POLY_SIGMA = 1.1

# DIS: the MEDIUM preset, but ending at full resolution (finest scale 0) instead of 1/2: motion of
# a fraction of a pixel is lost when the last patch search runs on a half-size image (on warped
# face photos this halved the error at every size tried).
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
DIS_FINEST_SCALE = 0

# TV-L1 (Zach et al. 2007, OpenCV contrib): OpenCV's documented values, pinned. Five scales at a
# 0.8 step reach 0.4 of the size; enough for few-pixel motion and still fine on 96-px faces.
TVL1_TAU = 0.25  # time step of the numerical scheme
TVL1_LAMBDA = 0.15  # weight of the data term against smoothness
TVL1_THETA = 0.3  # coupling of the two sub-problems
TVL1_SCALES = 5
TVL1_WARPS = 5
TVL1_EPSILON = 0.01  # stopping threshold per scale
TVL1_INNER_ITERATIONS = 30
TVL1_OUTER_ITERATIONS = 10
TVL1_SCALE_STEP = 0.8
TVL1_MEDIAN_FILTER = 5  # median filter of the flow between warps (removes outliers)


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) uint8 luminance."""
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def check_pair(onset: np.ndarray, apex: np.ndarray) -> None:
    """ValueError in one line unless onset and apex are (H, W, 3) uint8 images of one size."""
    for name, image in (("onset", onset), ("apex", apex)):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"{name} must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
    if onset.shape != apex.shape:
        raise ValueError(f"onset is {onset.shape[1]}x{onset.shape[0]} but apex is {apex.shape[1]}x{apex.shape[0]}: the pair must share one size")


class ZeroFlow:
    """No motion at all, facial and head: the floor every method must beat (its EPE is the mean
    ground-truth magnitude)."""

    name = "zero"

    def predict(self, onset: np.ndarray, apex: np.ndarray) -> FlowPrediction:
        """onset, apex (H, W, 3) uint8 -> zero facial and head flow (H, W, 2) float32."""
        check_pair(onset, apex)
        zeros = np.zeros((*onset.shape[:2], 2), np.float32)
        return FlowPrediction(facial=zeros, head=zeros.copy())


class Farneback:
    """Farneback's polynomial-expansion flow (cv2.calcOpticalFlowFarneback), facial only."""

    name = "farneback"

    def predict(self, onset: np.ndarray, apex: np.ndarray) -> FlowPrediction:
        """onset, apex (H, W, 3) uint8 -> facial flow (H, W, 2) float32, onset -> apex."""
        check_pair(onset, apex)
        flow = cv2.calcOpticalFlowFarneback(to_gray(onset), to_gray(apex), None, FARNEBACK_PYRAMID_SCALE, FARNEBACK_LEVELS,
                                            FARNEBACK_WINDOW_PX, FARNEBACK_ITERATIONS, FARNEBACK_POLY_N, FARNEBACK_POLY_SIGMA, 0)
        return FlowPrediction(facial=flow.astype(np.float32))


class DIS:
    """Dense Inverse Search (Kroeger et al. 2016, cv2.DISOpticalFlow), facial only. Needs images
    at least 12 px on one side (OpenCV's limit)."""

    name = "dis"

    def __init__(self) -> None:
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESET)
        self._dis.setFinestScale(DIS_FINEST_SCALE)

    def predict(self, onset: np.ndarray, apex: np.ndarray) -> FlowPrediction:
        """onset, apex (H, W, 3) uint8 -> facial flow (H, W, 2) float32, onset -> apex."""
        check_pair(onset, apex)
        return FlowPrediction(facial=self._dis.calc(to_gray(onset), to_gray(apex), None).astype(np.float32))


class TVL1:
    """Dual TV-L1 flow (cv2.optflow.DualTVL1OpticalFlow, OpenCV contrib), facial only. The
    slowest baseline: about 2 s for a 512 x 512 pair on one core."""

    name = "tvl1"

    def __init__(self) -> None:
        if not hasattr(cv2, "optflow"):
            raise ValueError("the tvl1 baseline needs OpenCV contrib (cv2.optflow): pip install opencv-contrib-python-headless "
                             "in place of opencv-python-headless")
        tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
        tvl1.setTau(TVL1_TAU)
        tvl1.setLambda(TVL1_LAMBDA)
        tvl1.setTheta(TVL1_THETA)
        tvl1.setScalesNumber(TVL1_SCALES)
        tvl1.setWarpingsNumber(TVL1_WARPS)
        tvl1.setEpsilon(TVL1_EPSILON)
        tvl1.setInnerIterations(TVL1_INNER_ITERATIONS)
        tvl1.setOuterIterations(TVL1_OUTER_ITERATIONS)
        tvl1.setScaleStep(TVL1_SCALE_STEP)
        tvl1.setMedianFiltering(TVL1_MEDIAN_FILTER)
        self._tvl1 = tvl1

    def predict(self, onset: np.ndarray, apex: np.ndarray) -> FlowPrediction:
        """onset, apex (H, W, 3) uint8 -> facial flow (H, W, 2) float32, onset -> apex."""
        check_pair(onset, apex)
        return FlowPrediction(facial=self._tvl1.calc(to_gray(onset), to_gray(apex), None).astype(np.float32))


BASELINES: dict[str, Callable[[], FlowMethod]] = {"zero": ZeroFlow, "farneback": Farneback, "dis": DIS, "tvl1": TVL1}


def make_baselines(names: Iterable[str]) -> list[FlowMethod]:
    """Baseline names -> fresh methods in that order; ValueError in one line naming the valid
    names for an unknown one."""
    names = list(names)
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baseline {', '.join(map(repr, unknown))}: choose from {', '.join(BASELINES)}")
    return [BASELINES[n]() for n in names]
