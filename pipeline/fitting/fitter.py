"""Batched fitting of camera, head pose, shape, expression, jaw and eyelids to 68 landmarks.

Each image's parameters are independent tensors and the loss is a sum over images, so with Adam
(element-wise steps) a batch of 16 fits exactly as 16 single fits would, only faster. Two stages:
rigid (camera and head pose, from a closed-form 2-D similarity start), then everything, with
priors. The jaw contour follows the head's yaw (FaceModel's dynamic embedding). The iterations
evaluate only the few hundred vertices the landmarks are made of (LandmarkModel); the full mesh is
evaluated once, for the result.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from smplx.lbs import batch_rodrigues

from facial.flame_layout import N_EXPRESSION, N_SHAPE
from facial.ibug68 import INNER, JAW, N_POINTS, normalised_mean_error
from flame_assets.landmark_model import LandmarkModel

from .config import FitConfig
from .objective import box_penalty, gaussian_prior, jaw_penalty, landmark_term, lorentzian
from .projection import project

# The iterations move tensors of a few hundred vertices: a second intra-op thread saves nothing on
# them and spins while it waits between operations; with other work on the cores that made a fit
# take 2-4x as long (bench/fit_throughput.py, 2 cores).
LANDMARK_LOOP_THREADS = 1
# The last, whole-mesh evaluation gives the fit's landmarks and NME: torch's reductions split by
# thread count, so it runs on a fixed count and a fit has the same bytes whatever cores a worker has.
RESULT_THREADS = 1


@dataclass
class FitResult:
    """Per image (leading axis B): shape (B, 300), expression (B, 50), jaw (B, 3), pose (B, 3),
    eyelids (B, 2), camera (B, 3) [s, tx, ty] in pixels, landmarks (B, 68, 2) in pixels,
    nme (B,), vertices (B, V, 3) in model space."""

    shape: np.ndarray
    expression: np.ndarray
    jaw: np.ndarray
    pose: np.ndarray
    eyelids: np.ndarray
    camera: np.ndarray
    landmarks: np.ndarray
    nme: np.ndarray
    vertices: np.ndarray
    history: list = field(default_factory=list)

    def accepted(self, max_nme: float) -> np.ndarray:
        return self.nme <= max_nme


def normalise(targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """targets (B, 68, 2) pixels -> (normalised (B, 68, 2), centre (B, 2), size (B,)): centred on
    the landmark mean and divided by their RMS distance from it."""
    centre = targets.mean(1)
    size = np.sqrt(((targets - centre[:, None]) ** 2).sum(-1).mean(-1))
    return (targets - centre[:, None]) / size[:, None, None], centre, size


def similarity_start(model_xy: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form 2-D similarity (Umeyama) from the neutral face's landmarks to each target.

    model_xy (68, 2) model x, y (y up); targets (B, 68, 2) normalised, y down ->
    scale (B,), roll (B,) radians about the model's +z, translation (B, 2) in target units."""
    src = model_xy - model_xy.mean(0)
    dst = targets * np.array([1.0, -1.0])  # y up, like the model
    dst_c = dst - dst.mean(1, keepdims=True)
    cross = np.einsum("ni,bnj->bij", src, dst_c)  # (B, 2, 2)
    roll = np.arctan2(cross[:, 0, 1] - cross[:, 1, 0], cross[:, 0, 0] + cross[:, 1, 1])
    c, s = np.cos(roll), np.sin(roll)
    scale = (c * (cross[:, 0, 0] + cross[:, 1, 1]) + s * (cross[:, 0, 1] - cross[:, 1, 0])) / (src**2).sum()
    rotated_mean = np.stack([c * model_xy.mean(0)[0] - s * model_xy.mean(0)[1],
                             s * model_xy.mean(0)[0] + c * model_xy.mean(0)[1]], -1)
    shift = dst.mean(1) - scale[:, None] * rotated_mean
    return scale, roll, shift * np.array([1.0, -1.0])


def rotate_about(points: torch.Tensor, pose: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """points (N, 3), pose (B, 3) axis-angle, centre (3,) -> (B, N, 3) rotated about centre, as
    FLAME's global rotation turns the whole head about its root joint."""
    rotation = batch_rodrigues(pose)
    return torch.einsum("bij,nj->bni", rotation, points - centre) + centre


def rigid_start(inner: np.ndarray, root: np.ndarray, targets: np.ndarray, config: FitConfig) -> tuple[np.ndarray, ...]:
    """Head pose and camera of the neutral face that best explain the 51 inner landmarks.

    inner (51, 3) neutral landmarks 17-67, root (3,) root joint, targets (B, 68, 2) normalised ->
    pose (B, 3), log scale (B,), shift (B, 2). A few yaw hypotheses are fitted side by side and the
    best kept: a head turned 30 degrees is a poor start from a frontal one. Points only, no mesh.
    """
    batch = targets.shape[0]
    hypotheses = np.deg2rad(np.asarray(config.yaw_hypotheses_deg))
    n = len(hypotheses)
    scale, roll, shift = similarity_start(inner[:, :2], targets[:, INNER])
    pose0 = np.zeros((n, batch, 3))
    pose0[:, :, 1] = hypotheses[:, None]
    pose0[:, :, 2] = roll
    f = torch.float32
    pose = torch.tensor(pose0.reshape(n * batch, 3), dtype=f, requires_grad=True)
    log_scale = torch.tensor(np.tile(np.log(scale), n), dtype=f, requires_grad=True)
    shift_t = torch.tensor(np.tile(shift, (n, 1)), dtype=f, requires_grad=True)
    target = torch.tensor(np.tile(targets[:, INNER], (n, 1, 1)), dtype=f)
    points, centre = torch.tensor(inner, dtype=f), torch.tensor(root, dtype=f)
    optimiser = torch.optim.Adam([pose, log_scale, shift_t], lr=config.rigid_lr)
    for _ in range(config.rigid_iterations):
        optimiser.zero_grad(set_to_none=True)
        camera = torch.cat([log_scale.exp()[:, None], shift_t], 1)
        cost = lorentzian(project(rotate_about(points, pose, centre), camera) - target, config.robust_scale_start).sum(-1)
        cost.sum().backward()
        optimiser.step()
    best = cost.detach().reshape(n, batch).argmin(0).numpy()
    pick = lambda t: t.detach().numpy().reshape(n, batch, *t.shape[1:])[best, np.arange(batch)]  # noqa: E731
    return pick(pose), pick(log_scale), pick(shift_t)


class _Parameters(torch.nn.Module):
    def __init__(self, batch: int, n_shape: int, n_expression: int, pose, log_scale, shift) -> None:
        super().__init__()
        f = torch.float32
        zeros = lambda k: torch.nn.Parameter(torch.zeros(batch, k, dtype=f))  # noqa: E731
        self.shape, self.expression, self.jaw, self.eyelids = zeros(n_shape), zeros(n_expression), zeros(3), zeros(2)
        self.pose = torch.nn.Parameter(torch.as_tensor(pose, dtype=f))
        self.log_scale = torch.nn.Parameter(torch.as_tensor(log_scale, dtype=f))
        self.shift = torch.nn.Parameter(torch.as_tensor(shift, dtype=f))

    def camera(self) -> torch.Tensor:
        return torch.cat([self.log_scale.exp()[:, None], self.shift], 1)


def _landmark_weights(visible: np.ndarray | None, batch: int, contour_weight: float) -> torch.Tensor:
    w = np.ones((batch, N_POINTS), np.float32)
    w[:, JAW] = contour_weight
    if visible is not None:
        w = w * np.asarray(visible, np.float32)
    return torch.from_numpy(w)


def _descend(params: _Parameters, evaluate, config: FitConfig, record_history: bool) -> list:
    """The full stage: Adam on every parameter, cosine-annealed step, graduated robustness.
    evaluate(params, robust_scale) -> (loss (B,), ...). Returns the per-step losses if recorded."""
    optimiser = torch.optim.Adam(params.parameters(), lr=config.full_lr)
    iterations = config.full_iterations
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(iterations, 1), eta_min=0.05 * config.full_lr)
    history = []
    for i in range(iterations):
        optimiser.zero_grad(set_to_none=True)
        anneal = min(1.0, 2.0 * i / max(iterations, 1))  # graduated robustness: wide, then tight
        loss, _, _ = evaluate(params, config.robust_scale_start ** (1 - anneal) * config.robust_scale ** anneal)
        loss.sum().backward()  # a sum: every image's gradient is its own
        optimiser.step()
        schedule.step()
        if record_history:
            history.append(loss.detach().numpy().copy())
    return history


@contextmanager
def intra_op_threads(n: int):
    """torch's intra-op thread count for a block, restored after. The count is process-wide, which
    suits a process that fits one batch at a time (`meflow fit` and its Dask workers, one thread each)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def fit_landmarks(model, targets: np.ndarray, config: FitConfig = FitConfig(),
                  visible: np.ndarray | None = None, record_history: bool = False, iterate_with=None) -> FitResult:
    """Fit the face model to landmarks.

    model: a FaceModel with a landmark embedding; targets (B, 68, 2) in image pixels (x right,
    y down, iBUG order); visible (B, 68) optional 0/1 weights (a landmark known to be missing).
    iterate_with: what the iterations evaluate, by default model's LandmarkModel; `model` itself
    gives the same fit from the whole mesh at every step (bench/fit_throughput.py compares them).
    """
    targets = np.asarray(targets, np.float64)
    if targets.ndim != 3 or targets.shape[1:] != (N_POINTS, 2):
        raise ValueError(f"targets must have shape (B, 68, 2), got {targets.shape}")
    if not model.assets.has_landmarks:
        raise ValueError("the face model has no landmark embedding: fitting needs FLAME's landmark files")
    batch = targets.shape[0]
    norm, centre, size = normalise(targets)
    landmark_model = iterate_with if iterate_with is not None else LandmarkModel.of(model)
    n_shape = min(config.n_shape, model.n_shape)
    n_expression = min(config.n_expression, model.n_expression)
    target_t = torch.as_tensor(norm, dtype=torch.float32)
    weights = _landmark_weights(visible, batch, config.contour_weight)

    def evaluate(params: _Parameters, robust_scale: float = config.robust_scale, on=landmark_model):
        out = on(shape=params.shape, expression=params.expression, jaw=params.jaw, pose=params.pose,
                 eyelids=params.eyelids if model.has_eyelids else None, contour="blend")
        predicted = project(out.landmarks, params.camera())
        loss = (landmark_term(predicted, target_t, weights, robust_scale)
                + config.shape_prior * gaussian_prior(params.shape)
                + config.expression_prior * gaussian_prior(params.expression)
                + config.jaw_prior * jaw_penalty(params.jaw, config.jaw_max_open, config.jaw_max_side)
                + config.eyelid_prior * box_penalty(params.eyelids, 0.0, 1.0))
        return loss, out, predicted

    small = isinstance(landmark_model, LandmarkModel)  # the full mesh keeps the threads it was given
    with intra_op_threads(LANDMARK_LOOP_THREADS if small else torch.get_num_threads()):
        with torch.no_grad():
            neutral = landmark_model()
        pose, log_scale, shift = rigid_start(neutral.landmarks[0, INNER].double().numpy(),
                                             neutral.joints[0, 0].double().numpy(), norm, config)
        params = _Parameters(batch, n_shape, n_expression, pose, log_scale, shift)
        history = _descend(params, evaluate, config, record_history)

    with torch.no_grad():
        params.eyelids.clamp_(0.0, 1.0)
        if not model.has_eyelids:
            params.eyelids.zero_()
        with intra_op_threads(RESULT_THREADS):
            _, out, predicted = evaluate(params, on=model)  # the whole mesh, once: the result carries its vertices
    landmarks = predicted.double().numpy() * size[:, None, None] + centre[:, None]
    camera = params.camera().detach().double().numpy()
    camera = np.stack([camera[:, 0] * size, camera[:, 1] * size + centre[:, 0], camera[:, 2] * size + centre[:, 1]], 1)
    pad = lambda t, k: np.pad(t.detach().double().numpy(), ((0, 0), (0, k - t.shape[1])))  # noqa: E731
    return FitResult(
        shape=pad(params.shape, N_SHAPE), expression=pad(params.expression, N_EXPRESSION), jaw=params.jaw.detach().double().numpy(),
        pose=params.pose.detach().double().numpy(), eyelids=params.eyelids.detach().double().numpy(),
        camera=camera, landmarks=landmarks, nme=normalised_mean_error(landmarks, targets),
        vertices=out.vertices.double().numpy(), history=history)
