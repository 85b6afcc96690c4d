"""Augmentation of a training pair that keeps images, flows, masks and landmarks consistent:
pure functions on a sample dict of numpy arrays (images (H, W, 3) uint8, flows (H, W, 2) float32,
masks (H, W) bool, landmarks (68, 2) float pixel (x, y)).

A flip negates u and mirrors the landmark order (iBUG-68 mirror permutation), so the left and
right facial regions placed on the flipped landmarks swap places as the face does.
"""
from __future__ import annotations

import cv2
import numpy as np

from facial.ibug68 import mirror_landmarks

from .config import AugmentConfig

IMAGES = ("onset", "apex")
FLOWS = ("flow_facial", "flow_head")
MASKS = ("mask",)
LANDMARKS = ("landmarks_onset", "landmarks_apex")


def scale_sample(sample: dict, factor: float) -> dict:
    """Zoom by `factor`: sizes round(H f) x round(W f); flows are resampled and multiplied by the
    actual zoom of each axis; landmarks follow the pixel-centre convention."""
    height, width = sample["onset"].shape[:2]
    new_h, new_w = max(1, round(height * factor)), max(1, round(width * factor))
    fx, fy = new_w / width, new_h / height
    out = dict(sample)
    for name in IMAGES:
        out[name] = cv2.resize(sample[name], (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    for name in FLOWS:
        out[name] = cv2.resize(sample[name], (new_w, new_h), interpolation=cv2.INTER_LINEAR) * np.float32([fx, fy])
    for name in MASKS:
        out[name] = cv2.resize(sample[name].astype(np.uint8), (new_w, new_h), interpolation=cv2.INTER_NEAREST_EXACT).astype(bool)
    for name in LANDMARKS:
        out[name] = ((sample[name] + 0.5) * np.float32([fx, fy]) - 0.5).astype(np.float32)
    return out


def crop_sample(sample: dict, top: int, left: int, height: int, width: int) -> dict:
    """The window [top, top + height) x [left, left + width); landmarks move with it."""
    out = dict(sample)
    for name in (*IMAGES, *FLOWS, *MASKS):
        out[name] = np.ascontiguousarray(sample[name][top:top + height, left:left + width])
    for name in LANDMARKS:
        out[name] = (sample[name] - np.float32([left, top])).astype(np.float32)
    return out


def flip_sample(sample: dict) -> dict:
    """Mirror left-right: images, masks and flows flipped, u negated, landmarks mirrored and reordered."""
    width = sample["onset"].shape[1]
    out = dict(sample)
    for name in (*IMAGES, *MASKS):
        out[name] = np.ascontiguousarray(sample[name][:, ::-1])
    for name in FLOWS:
        flow = np.ascontiguousarray(sample[name][:, ::-1])
        flow[..., 0] *= -1
        out[name] = flow
    for name in LANDMARKS:
        out[name] = mirror_landmarks(sample[name], width).astype(np.float32)
    return out


def photometric(sample: dict, config: AugmentConfig, rng: np.random.Generator) -> dict:
    """Brightness, contrast and saturation jitter shared by both frames (the motion, not the look,
    must differ between them), then independent sensor noise on each."""
    brightness = 1.0 + rng.uniform(-config.brightness, config.brightness)
    contrast = 1.0 + rng.uniform(-config.contrast, config.contrast)
    saturation = 1.0 + rng.uniform(-config.saturation, config.saturation)
    out = dict(sample)
    for name in IMAGES:
        image = sample[name].astype(np.float32) * brightness
        grey = image.mean(axis=2, keepdims=True)
        image = grey + (image - grey) * saturation
        image = image.mean() + (image - image.mean()) * contrast
        image += rng.normal(0.0, config.noise_std, image.shape).astype(np.float32)
        out[name] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return out


def augment(sample: dict, config: AugmentConfig, crop: tuple[int, int], rng: np.random.Generator) -> dict:
    """Zoom, random crop of `crop` (H, W) (never smaller than the image allows), flip, photometric."""
    height, width = sample["onset"].shape[:2]
    low = max(config.scale[0], crop[0] / height, crop[1] / width)  # the zoomed image must hold the crop
    factor = float(rng.uniform(low, max(low, config.scale[1])))
    out = scale_sample(sample, factor) if abs(factor - 1.0) > 1e-6 else dict(sample)
    height, width = out["onset"].shape[:2]
    top = int(rng.integers(0, height - crop[0] + 1))
    left = int(rng.integers(0, width - crop[1] + 1))
    out = crop_sample(out, top, left, *crop)
    if rng.random() < config.flip:
        out = flip_sample(out)
    return photometric(out, config, rng)
