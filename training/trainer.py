"""The two-stage trainer behind `meflow train` (and `torchrun ... meflow train` for DDP).

Stage 1 trains the encoder and the facial decoder, stage 2 only the head decoder (everything else
frozen, bit for bit). Checkpoints are atomic and complete; `resume` continues exactly where the last
one left off; a non-finite batch or loss stops the run naming the step and the last good checkpoint.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from . import distributed
from .checkpoint import (
    LAST,
    CheckpointError,
    config_differences,
    config_of,
    load_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
    stage_dir,
)
from .config import MIN_IMAGE_SIDE, SIZE_MULTIPLE, TrainConfig
from .flow_metrics import masked_epe
from .inference import predict_batch
from .losses import STAGE_LOSSES, Targets
from .lr_schedule import lr_factor
from .models.factory import build_model
from .progress import ProgressBar
from .run_logs import CURVE_FILE, RunLog, plot_curve
from .training_data import StepBatches, TrainingPairs, collate

# Settings a resumed run may change (a lower rate after a NaN, more workers, another time limit);
# anything else would make the continuation a different run.
RESUMABLE_CHANGES = ("run.", "optim.lr:", "optim.time_limit_min:", "optim.clip_grad:", "optim.weight_decay:")


class TrainingError(RuntimeError):
    """Training cannot go on; the message (one line) says why and what to do."""


@dataclass(frozen=True)
class TrainRequest:
    stage: int
    data: Path
    out: Path
    config: TrainConfig
    init: Path | None = None  # stage 2 default: out/stage1/last.pt
    max_steps: int | None = None  # stop at this step (the schedule still spans config.optim.steps)
    resume: bool = False
    device: str = "auto"
    progress: bool = True


@dataclass(frozen=True)
class TrainSummary:
    stage: int
    first_step: int
    last_step: int
    seconds: float
    pairs_per_second: float
    checkpoint: Path
    validation: dict[str, float]
    model: torch.nn.Module  # as this process holds it at the end (unwrapped from DDP)


def notice(message: str, processes: distributed.Processes) -> None:
    if processes.is_main:
        print(f"notice: {message}", flush=True)


def image_size(pairs: TrainingPairs) -> tuple[int, int]:
    """(H, W) shared by every shard; TrainingError when shards differ or images are too small."""
    sizes = {}
    for s in sorted(pairs.shards.shard_groups()):
        sizes.setdefault(pairs.shards.image_size(s), []).append(s)
    if len(sizes) > 1:
        listing = "; ".join(f"{h}x{w} in shards {v[:3]}" for (h, w), v in sizes.items())
        raise TrainingError(f"images of different sizes in one dataset ({listing}): train on shards of one recipe")
    (height, width), = sizes
    if min(height, width) < MIN_IMAGE_SIDE:
        raise TrainingError(f"images are {height}x{width}; training needs at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE}: render larger")
    return height, width


def fitted_crop(config: TrainConfig, size: tuple[int, int], processes: distributed.Processes) -> tuple[int, int]:
    """The config's crop, shrunk (with a notice) to the largest multiple of 8 the images hold."""
    crop = tuple(min(c, s - s % SIZE_MULTIPLE) for c, s in zip(config.augment.crop, size, strict=True))
    if crop != tuple(config.augment.crop):
        notice(f"crop {list(config.augment.crop)} is larger than the {size[0]}x{size[1]} images: using {list(crop)}", processes)
    return crop


def open_pairs(request: TrainRequest, processes: distributed.Processes) -> tuple[TrainingPairs, TrainingPairs | None, tuple[int, int]]:
    config = request.config
    try:
        train = TrainingPairs(request.data, "train", config.augment, config.augment.crop, config.run.seed)
        val = TrainingPairs(request.data, "test", None, config.augment.crop, config.run.seed)
    except (FileNotFoundError, ValueError) as err:
        raise TrainingError(f"cannot read the dataset {request.data}: {err}") from None
    if len(train) == 0:
        raise TrainingError(f"{request.data} has no training samples (all identities fall in the test split): build more shards")
    size = image_size(train)
    crop = fitted_crop(config, size, processes)
    train.crop = crop
    try:
        train[(0, 0)]
    except KeyError as err:
        raise TrainingError(f"{request.data} lacks an array training needs ({err.args[0]}): rebuild it with `meflow dataset build`") from None
    if len(val) == 0:
        notice(f"{request.data} has no held-out identities: validation is skipped", processes)
        val = None
    return train, val, crop


def initial_state(request: TrainRequest, model: torch.nn.Module) -> dict | None:
    """The checkpoint to resume from (and its training state), after loading --init weights; None = fresh."""
    config, here = request.config, stage_dir(request.out, request.stage) / LAST
    if here.exists() and not request.resume:
        raise TrainingError(f"{here} already exists: pass --resume to continue it, or choose another --out")
    if request.resume and here.exists():
        state = load_checkpoint(here)
        differences = config_differences(config_of(state), config)
        tunable = [d for d in differences if d.startswith(RESUMABLE_CHANGES)]
        if tunable:
            print(f"notice: resuming with changed {'; '.join(tunable)}", flush=True)
        differences = [d for d in differences if d not in tunable]
        if differences or int(state["stage"]) != request.stage:
            what = "; ".join(differences[:3]) or f"stage {state['stage']}"
            raise TrainingError(f"cannot resume {here}: it was trained with another config or stage ({what}): "
                                "pass the same --config, or train into a new --out")
        model.load_state_dict(state["model"])
        return state
    init = request.init or (stage_dir(request.out, 1) / LAST if request.stage == 2 else None)
    if init is not None:
        source = load_checkpoint(init)
        differences = config_differences(config_of(source), config, "model")
        if differences:
            raise TrainingError(f"{init} holds another model ({'; '.join(differences[:3])}): use the config it was trained with")
        if request.stage == 2 and int(source["stage"]) != 1:
            raise TrainingError(f"{init} is a stage-{source['stage']} checkpoint; stage 2 starts from a stage-1 one")
        model.load_state_dict(source["model"])
        if request.stage == 2:
            start_head_from_facial(model)
    return None


def start_head_from_facial(model: torch.nn.Module) -> None:
    """Stage 2 begins with the head decoder a copy of the trained facial decoder (it reads flow
    evidence already) whose update layer is zeroed: it starts from the facial flow and stays there,
    so the expression flow starts at exactly zero, the strongest prior for micro-movements."""
    model.head_decoder.load_state_dict(model.facial_decoder.state_dict())
    torch.nn.init.zeros_(model.head_decoder.to_update.weight)
    torch.nn.init.zeros_(model.head_decoder.to_update.bias)


def freeze_for_stage(model: torch.nn.Module, stage: int) -> list[torch.nn.Parameter]:
    """Freeze everything but the stage's parts; their parameters, in a fixed order."""
    try:
        parts = model.trainable_parts(stage)
    except ValueError as err:
        raise TrainingError(str(err)) from None
    model.requires_grad_(False)
    for part in parts:
        part.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds what third-party code draws; ours uses seeded Generators
    torch.manual_seed(seed)


def targets_of(batch: dict) -> Targets:
    return Targets(batch["flow_facial"], batch["flow_head"], batch["mask"], batch["regions"])


@torch.no_grad()
def validate(model: torch.nn.Module, pairs: TrainingPairs, count: int, with_head: bool, device: torch.device) -> dict[str, float]:
    """EPE of facial (and expression) flow over the foreground of the first `count` held-out pairs, and
    the zero-flow EPE of the expression on the same pairs: the bar a micro-expression model must clear."""
    model.eval()
    names = ("epe_facial", "roi_epe_facial") + (("epe_expr", "roi_epe_expr", "zero_flow_epe_expr") if with_head else ())
    figures: dict[str, list[float]] = {name: [] for name in names}
    for n in range(min(count, len(pairs))):
        sample = collate([pairs[n]])
        onset, apex = sample["onset"].to(device), sample["apex"].to(device)
        flows = predict_batch(model, onset, apex, with_head)
        gt_facial, gt_head = sample["flow_facial"].to(device), sample["flow_head"].to(device)
        mask, regions = sample["mask"].to(device), sample["regions"].to(device)
        figures["epe_facial"].append(float(masked_epe(flows.facial.float(), gt_facial, mask)[0]))
        figures["roi_epe_facial"].append(float(masked_epe(flows.facial.float(), gt_facial, regions)[0]))
        if with_head:
            expression = (flows.facial - flows.head).float()
            figures["epe_expr"].append(float(masked_epe(expression, gt_facial - gt_head, mask)[0]))
            figures["roi_epe_expr"].append(float(masked_epe(expression, gt_facial - gt_head, regions)[0]))
            figures["zero_flow_epe_expr"].append(float(masked_epe(torch.zeros_like(expression), gt_facial - gt_head, mask)[0]))
    model.train()
    return {k: float(np.nanmean(v)) for k, v in figures.items() if v and not all(math.isnan(x) for x in v)}


def train(request: TrainRequest) -> TrainSummary:
    """Run one stage (see the module docstring); TrainingError / CheckpointError on bad input."""
    config = request.config
    if request.stage not in (1, 2):
        raise TrainingError(f"--stage must be 1 or 2, got {request.stage}")
    processes = distributed.start(request.device)
    try:
        return _train(request, config, processes)
    finally:
        distributed.stop(processes)


def _train(request: TrainRequest, config: TrainConfig, processes: distributed.Processes) -> TrainSummary:
    seed_everything(config.run.seed)
    optim = config.optim.for_stage(request.stage)
    train_pairs, val_pairs, crop = open_pairs(request, processes)
    try:
        model = build_model(config.model)
    except RuntimeError as err:  # an optional group missing, or unreadable backbone weights
        raise TrainingError(str(err)) from None
    if config.model.backbone == "dav2" and not config.model.backbone_weights:
        notice("no Depth-Anything-V2 weights given (model.backbone_weights): its frozen features are random; "
               "fine for throughput checks, not for accuracy", processes)
    try:
        resumed = initial_state(request, model)
    except CheckpointError as err:
        raise TrainingError(str(err)) from None
    trainable = freeze_for_stage(model, request.stage)
    model.to(processes.device).train()
    device = processes.device
    stage, with_head = request.stage, request.stage == 2
    wrapped = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if processes.distributed else model

    optimizer = torch.optim.AdamW(trainable, lr=optim.lr, weight_decay=optim.weight_decay)
    total = optim.steps
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total, optim.warmup_steps, optim.schedule))
    start = 0
    if resumed is not None:
        optimizer.load_state_dict(resumed["optimizer"])
        schedule.load_state_dict(resumed["schedule"])
        restore_rng_states(resumed["rng"])
        start = int(resumed["step"])
        notice(f"resuming stage {stage} at step {start}", processes)
    stop = min(total, request.max_steps if request.max_steps is not None else total)
    folder = stage_dir(request.out, stage)
    checkpoint_path = folder / LAST

    def checkpoint(step: int) -> None:
        if processes.is_main:
            save_checkpoint(checkpoint_path, {"config": config.to_dict(), "stage": stage, "step": step, "model": model.state_dict(),
                                              "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "rng": rng_states(),
                                              "data": str(request.data), "crop": list(crop)})

    if resumed is None:
        checkpoint(0)  # a run killed before its first checkpoint still resumes (from step 0)
    if start >= stop:
        notice(f"stage {stage} is at step {start} (stop {stop}): nothing to train", processes)
        return TrainSummary(stage, start, start, 0.0, 0.0, checkpoint_path, {}, model)
    try:
        batches = StepBatches(train_pairs.shards.shard_groups(), optim.batch_size, processes.rank, processes.world_size,
                              config.run.seed, start, stop)
    except ValueError as err:
        raise TrainingError(str(err)) from None
    loader = DataLoader(train_pairs, batch_sampler=batches, num_workers=config.run.workers, collate_fn=collate)
    log = RunLog(folder, resume_from=start) if processes.is_main else None
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if optim.amp and device.type == "cuda" else torch.autocast("cpu", enabled=False)
    bar = ProgressBar(f"stage {stage}", start, stop, enabled=request.progress and processes.is_main)
    began, pairs_seen, step, last_good, validation = time.monotonic(), 0, start, start, {}
    loss_function = STAGE_LOSSES[stage]
    for batch in loader:
        where = batch.pop("where")
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        finite = all(bool(torch.isfinite(batch[k]).all()) for k in ("onset", "apex", "flow_facial", "flow_head"))
        if not distributed.all_agree(finite, processes):
            raise TrainingError(f"NaN or Inf in the batch of step {step + 1} (on some process; here one of {where[:4]}): "
                                f"run `meflow dataset verify`; last good checkpoint {checkpoint_path} (step {last_good})")
        with autocast:
            output = wrapped(batch["onset"], batch["apex"], with_head=with_head)
        terms = loss_function(output, targets_of(batch), config.loss)
        loss = terms["total"]
        if not distributed.all_agree(bool(torch.isfinite(loss)), processes):
            raise TrainingError(f"the loss became non-finite at step {step + 1} (on some process): stopped; last good checkpoint {checkpoint_path} "
                                f"(step {last_good}); lower optim.lr (a resume may change it) or check the data, then --resume")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(trainable, optim.clip_grad)
        if not distributed.all_agree(bool(torch.isfinite(norm)), processes):  # never step into NaN weights
            raise TrainingError(f"the gradients became non-finite at step {step + 1} (on some process): stopped; last good checkpoint "
                                f"{checkpoint_path} (step {last_good}); lower optim.lr, then --resume")
        rate_used = schedule.get_last_lr()[0]
        optimizer.step()
        schedule.step()
        step += 1
        pairs_seen += len(where) * processes.world_size
        rate = pairs_seen / max(time.monotonic() - began, 1e-9)
        if log is not None and (step % config.run.log_every == 0 or step == stop):
            log.log(step, "train", {"loss": loss.item(), "lr": rate_used, "pairs_per_s": rate}
                    | {k: float(v.detach()) for k, v in terms.items() if k != "total"})
        bar.update(step, f"loss {loss.item():.4f} {rate:.1f} pairs/s", force=step % config.run.log_every == 0)
        out_of_time = optim.time_limit_min > 0 and time.monotonic() - began > 60 * optim.time_limit_min
        out_of_time = distributed.any_true(out_of_time, processes)
        if val_pairs is not None and processes.is_main and (step % config.run.validate_every == 0 or step == stop or out_of_time):
            validation = validate(model, val_pairs, config.run.validation_samples, with_head, device)
            log.log(step, "val", validation)
        if step % config.run.checkpoint_every == 0 or step == stop or out_of_time:
            checkpoint(step)
            last_good = step
        if out_of_time:
            notice(f"time limit of {optim.time_limit_min} min reached at step {step}: checkpoint saved, stage {stage} ends", processes)
            break
    bar.close()
    seconds = time.monotonic() - began
    if log is not None:
        log.close()
        plot_curve(log.path, folder / CURVE_FILE, f"stage {stage}")
    return TrainSummary(stage, start, step, seconds, pairs_seen / max(seconds, 1e-9), checkpoint_path, validation, model)
