"""End-point errors of flow methods on test samples: the figures of `meflow eval`.

Every figure is a per-image mean over that image's pixels, then a mean over images (the paper's
EPE, DESIGN.md), computed with training.flow_metrics so there is one definition of EPE in the
project. Ground-truth expression flow is facial - head. A method that predicts facial flow only
gets the nose-tip flow of its own prediction as head flow at every pixel (the paper's ablation).
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from facial.nose_tip import nose_tip_flow
from facial.regions import roi_union
from shards.flows import FlowMethod, FlowPrediction
from training.flow_metrics import accuracy_within, masked_epe
from training.mellm_folder import MellmFolder, is_mellm_folder
from training.shard_dataset import ShardDataset, to_arrays

FIGURES = ("epe_facial", "epe_head", "epe_expr", "roi_epe_facial", "roi_epe_expr", "px1_facial")
SAMPLE_KEYS = ("onset", "apex", "flow_facial", "flow_head", "mask", "landmarks_onset")
EVAL_FIELDS = (*SAMPLE_KEYS, "source_id")
IMAGE_COUNT_KEY = "n_images"  # the one key of EvaluationResult.to_json() that is not a method
SHEET_SAMPLES = 4  # samples whose predictions are kept for the contact sheet
N_LANDMARKS = 68


class SampleError(ValueError):
    """A sample that cannot be evaluated (missing field, sizes that disagree): bad input."""


class MethodError(RuntimeError):
    """A method that raised, or answered with a flow of the wrong shape, on one sample."""


@dataclass(frozen=True)
class SheetRow:
    """One sample's pictures for the contact sheet. onset (H, W, 3) uint8; mask (H, W) bool;
    gt_expression (H, W, 2); expressions: method name -> predicted expression flow (H, W, 2)."""

    label: str
    onset: np.ndarray
    mask: np.ndarray
    gt_expression: np.ndarray
    expressions: dict[str, np.ndarray]


@dataclass
class EvaluationResult:
    """figures: method -> figure (FIGURES) -> mean over images, NaN where no image had pixels to
    count (an ROI figure when no face region met the mask); n_images: images evaluated; n_skipped:
    images left out because their mask is empty; seconds: method -> mean prediction time per image;
    rows: the first few samples' pictures."""

    figures: dict[str, dict[str, float]]
    n_images: int
    n_skipped: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    rows: list[SheetRow] = field(default_factory=list)

    def to_json(self) -> dict:
        """{method: {figure: float or None (undefined)}, "n_images": int}: valid JSON, no NaN."""
        out: dict = {m: {f: (None if math.isnan(v) else v) for f, v in figs.items()} for m, figs in self.figures.items()}
        out[IMAGE_COUNT_KEY] = self.n_images
        return out

    def best(self, figure: str = "epe_expr") -> str | None:
        """The method with the lowest defined `figure`, or None when none has it."""
        defined = {m: figs[figure] for m, figs in self.figures.items() if not math.isnan(figs[figure])}
        return min(defined, key=defined.get) if defined else None


class Renamed:
    """A FlowMethod under another name (two checkpoints loaded by one loader: model and raft)."""

    def __init__(self, method: FlowMethod, name: str) -> None:
        self.method, self.name = method, name

    def predict(self, onset: np.ndarray, apex: np.ndarray) -> FlowPrediction:
        return self.method.predict(onset, apex)


def sample_label(index: int, sample: dict) -> str:
    """'sample 3 (photo-0001)': how messages name a sample."""
    source = sample.get("source_id")
    return f"sample {index}" + (f" ({source})" if source is not None else "")


def check_sample(sample: dict, label: str) -> tuple[int, int]:
    """The sample's (H, W), or SampleError in one line naming the sample and what disagrees."""
    missing = [k for k in SAMPLE_KEYS if k not in sample]
    if missing:
        raise SampleError(f"{label} lacks {', '.join(missing)}")
    height, width = np.shape(sample["onset"])[:2]
    expected = {"onset": (height, width, 3), "apex": (height, width, 3), "flow_facial": (height, width, 2),
                "flow_head": (height, width, 2), "mask": (height, width), "landmarks_onset": (N_LANDMARKS, 2)}
    for key, shape in expected.items():
        if np.shape(sample[key]) != shape:
            raise SampleError(f"{label}: {key} is {np.shape(sample[key])}, expected {shape} (onset is {width}x{height}): "
                              "images and flows of a sample must share one size")
    for key in ("flow_facial", "flow_head", "landmarks_onset"):
        if not np.isfinite(sample[key]).all():
            raise SampleError(f"{label}: {key} holds NaN or infinite values")
    return height, width


def with_head(prediction: FlowPrediction, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """prediction, landmarks (68, 2) -> (facial, head), each (H, W, 2) float32. A prediction
    without head flow gets its nose-tip flow at every pixel (the nose moves with the head only)."""
    facial = np.asarray(prediction.facial, np.float32)
    if prediction.head is not None:
        return facial, np.asarray(prediction.head, np.float32)
    return facial, np.broadcast_to(nose_tip_flow(facial, landmarks).astype(np.float32), facial.shape)


def _batch(flow: np.ndarray) -> torch.Tensor:
    """(H, W, 2) numpy -> (1, 2, H, W) float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(np.asarray(flow, np.float32), -1, 0)))[None]


def image_figures(facial: np.ndarray, head: np.ndarray, gt_facial: np.ndarray, gt_head: np.ndarray,
                  mask: np.ndarray, roi: np.ndarray) -> dict[str, float]:
    """Predicted and true facial / head flow (H, W, 2), foreground mask and face regions (H, W)
    bool -> the FIGURES of one image; NaN for a figure whose pixels are none (ROI outside mask)."""
    pf, ph, gf, gh = (_batch(f) for f in (facial, head, gt_facial, gt_head))
    fg = torch.from_numpy(np.asarray(mask, bool))[None]
    in_roi = torch.from_numpy(np.asarray(roi, bool) & np.asarray(mask, bool))[None]
    figures = {
        "epe_facial": masked_epe(pf, gf, fg), "epe_head": masked_epe(ph, gh, fg), "epe_expr": masked_epe(pf - ph, gf - gh, fg),
        "roi_epe_facial": masked_epe(pf, gf, in_roi), "roi_epe_expr": masked_epe(pf - ph, gf - gh, in_roi),
        "px1_facial": accuracy_within(pf, gf, fg),
    }
    return {name: float(value.item()) for name, value in figures.items()}


def _predict(method: FlowMethod, sample: dict, label: str, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One method on one sample -> (facial, head) (H, W, 2); MethodError in one line otherwise."""
    try:
        prediction = method.predict(np.asarray(sample["onset"]), np.asarray(sample["apex"]))
    except Exception as err:  # whatever a method raises, the user needs which method and which sample
        reason = " ".join(str(err).split()) or type(err).__name__
        raise MethodError(f"method {method.name} failed on {label}: {reason}") from err
    for part, flow in (("facial", prediction.facial), ("head", prediction.head)):
        if flow is not None and np.shape(flow) != (*size, 2):
            raise MethodError(f"method {method.name} answered {label} with {part} flow {np.shape(flow)}, expected {(*size, 2)}")
        if flow is not None and not np.isfinite(flow).all():  # a NaN would drop the image from the mean and flatter the method
            raise MethodError(f"method {method.name} answered {label} with a non-finite {part} flow")
    try:
        return with_head(prediction, np.asarray(sample["landmarks_onset"]))
    except ValueError as err:  # the nose tip outside the image: the sample's landmarks are wrong
        raise SampleError(f"{label}: {err}") from None


def _mean(values: list[float]) -> float:
    """Mean of the defined values; NaN when there are none."""
    defined = [v for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else math.nan


def evaluate(methods: Sequence[FlowMethod], samples: Sequence[dict], sheet_samples: int = SHEET_SAMPLES) -> EvaluationResult:
    """Run every method on every sample (numpy dicts with SAMPLE_KEYS: onset / apex (H, W, 3)
    uint8, flow_facial / flow_head (H, W, 2), mask (H, W) bool, landmarks_onset (68, 2); optional
    source_id) -> per-method means of the per-image FIGURES. Samples with an empty mask are
    skipped and counted. SampleError for a bad sample, MethodError for a method that fails."""
    names = [m.name for m in methods]
    if not names or len(set(names)) != len(names) or IMAGE_COUNT_KEY in names:
        raise ValueError(f"methods need distinct names other than {IMAGE_COUNT_KEY!r}, got {names}")
    per_image: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    seconds = dict.fromkeys(names, 0.0)
    rows: list[SheetRow] = []
    skipped = 0
    for index in range(len(samples)):
        try:
            sample = samples[index]
        except (ValueError, OSError) as err:  # a reader refusing a damaged sample (frames of two sizes, a bad file)
            raise SampleError(f"sample {index}: {' '.join(str(err).split())}") from None
        label = sample_label(index, sample)
        size = check_sample(sample, label)
        mask = np.asarray(sample["mask"], bool)
        if not mask.any():
            skipped += 1
            continue
        landmarks = np.asarray(sample["landmarks_onset"], np.float64)
        gt_facial, gt_head = np.asarray(sample["flow_facial"], np.float32), np.asarray(sample["flow_head"], np.float32)
        roi = roi_union(landmarks, *size)
        expressions = {}
        for method in methods:
            start = time.perf_counter()
            facial, head = _predict(method, sample, label, size)
            seconds[method.name] += time.perf_counter() - start
            per_image[method.name].append(image_figures(facial, head, gt_facial, gt_head, mask, roi))
            expressions[method.name] = facial - head
        if len(rows) < sheet_samples:
            rows.append(SheetRow(label, np.asarray(sample["onset"]), mask, gt_facial - gt_head, expressions))
    n_images = len(samples) - skipped
    if n_images == 0:
        raise SampleError(f"none of the {len(samples)} samples has foreground (mask) pixels: nothing to evaluate")
    figures = {n: {f: _mean([image[f] for image in per_image[n]]) for f in FIGURES} for n in names}
    return EvaluationResult(figures, n_images, skipped, {n: s / n_images for n, s in seconds.items()}, rows)


def format_table(result: EvaluationResult) -> str:
    """Methods as rows, FIGURES (and seconds per image) as columns; '*' marks the best epe_expr."""
    best = result.best("epe_expr")
    width = max(len("method"), *(len(m) + 2 for m in result.figures))
    header = f"{'method':<{width}}" + "".join(f"{f:>16}" for f in FIGURES) + f"{'s/image':>10}"
    lines = [header]
    for method, figs in result.figures.items():
        name = f"{method} *" if method == best else method
        cells = "".join(f"{'-' if math.isnan(figs[f]) else f'{figs[f]:.4f}':>16}" for f in FIGURES)
        lines.append(f"{name:<{width}}{cells}{result.seconds.get(method, math.nan):>10.3f}")
    skipped = f", {result.n_skipped} skipped (empty mask)" if result.n_skipped else ""
    lines.append(f"{result.n_images} images{skipped}; EPE in pixels, px1 = share of pixels with facial EPE < 1 px; * best epe_expr")
    return "\n".join(lines)


class _ShardSamples(Sequence):
    """A ShardDataset's samples back as numpy dicts: images (H, W, 3) uint8, flows (H, W, 2)."""

    def __init__(self, dataset: ShardDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, n: int) -> dict:
        if not 0 <= n < len(self):
            raise IndexError(f"sample {n} of {len(self)}")
        return to_arrays(self.dataset[n])


class _Prefix(Sequence):
    """The first `limit` items of a sequence, read lazily."""

    def __init__(self, base: Sequence, limit: int) -> None:
        self.base, self.limit = base, min(limit, len(base))

    def __len__(self) -> int:
        return self.limit

    def __getitem__(self, n: int) -> dict:
        if not 0 <= n < self.limit:
            raise IndexError(f"sample {n} of {self.limit}")
        return self.base[n]


def open_eval_samples(path: Path, split: str = "test", limit: int | None = None) -> Sequence[dict]:
    """A shard dataset (read through ShardDataset) or a MELLM-layout folder -> its `split`
    samples as numpy dicts (SAMPLE_KEYS and source_id), at most `limit` of them, read lazily.
    ValueError in one line when the split is empty (or the folder is not a dataset)."""
    path = Path(path)
    if is_mellm_folder(path):
        samples: Sequence[dict] = MellmFolder(path, split)
    else:
        samples = _ShardSamples(ShardDataset(path, split=split, fields=EVAL_FIELDS))
    if len(samples) == 0:
        hint = "build more shards" + (" or use --split all" if split != "all" else "")
        raise ValueError(f"{path} has no {split} samples: {hint}")
    return samples if limit is None else _Prefix(samples, limit)
