"""`meflow train` (one stage of MEFlowNet or the RAFT baseline) and `meflow flow` (inference on
image pairs). Both need only the train group: a GPU node installs nothing else."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import fail, require_extra


def train_command(
    stage: int = typer.Option(..., "--stage", help="1: encoder + facial decoder; 2: head decoder (the rest frozen)."),
    data: Path = typer.Option(..., "--data", help="Shard dataset folder (`meflow dataset build`)."),
    out: Path = typer.Option(..., "--out", help="Run folder: stage1/ and stage2/ hold checkpoints, logs and curves."),
    config: str = typer.Option("cpu", "--config", help="A .toml file or a name in training/configs (cpu, paper, raft-cpu)."),
    init: Path | None = typer.Option(None, "--init", help="Start from these weights (stage 2 default: RUN/stage1/last.pt)."),
    max_steps: int | None = typer.Option(None, "--max-steps", min=1, help="Stop at this step (the schedule keeps the config's length)."),
    resume: bool = typer.Option(False, "--resume", help="Continue RUN/stageN/last.pt exactly where it stopped."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu, or cuda."),
) -> None:
    """Train one stage on a shard dataset. Under `torchrun --nproc_per_node N` it runs DDP."""
    require_extra("train", "train", ("torch", "cv2", "matplotlib"))
    from training.checkpoint import CheckpointError
    from training.config import ConfigError, load_config
    from training.trainer import TrainingError, TrainRequest, train

    try:
        request = TrainRequest(stage, data, out, load_config(config), init, max_steps, resume, device)
        summary = train(request)
    except (ConfigError, TrainingError, CheckpointError) as err:
        fail(str(err))
    figures = ", ".join(f"{k} {v:.4f}" for k, v in summary.validation.items())
    typer.echo(f"stage {summary.stage}: steps {summary.first_step}-{summary.last_step} in {summary.seconds:.0f} s "
               f"({summary.pairs_per_second:.2f} pairs/s); checkpoint {summary.checkpoint}" + (f"; validation {figures}" if figures else ""))


def _pairs(onset: Path, apex: Path | None) -> list[tuple[str, Path, Path, Path | None]]:
    """(name, onset, apex, landmarks) for one pair of files, or every sub-folder holding onset.png and apex.png."""
    if onset.is_dir():
        found = sorted(p for p in onset.iterdir() if (p / "onset.png").is_file() and (p / "apex.png").is_file())
        if not found:
            fail(f"{onset} holds no sub-folder with onset.png and apex.png: give two images or such a folder")
        return [(p.name, p / "onset.png", p / "apex.png", p / "landmarks.npy" if (p / "landmarks.npy").is_file() else None) for p in found]
    if apex is None:
        fail("give ONSET and APEX images, or one folder of pairs")
    for path in (onset, apex):
        if not path.is_file():
            fail(f"no image at {path}")
    return [("", onset, apex, None)]


def flow_command(
    onset: Path = typer.Argument(..., help="Onset image, or a folder of pair folders (each with onset.png, apex.png)."),
    apex: Path | None = typer.Argument(None, help="Apex image (omit for a folder)."),
    ckpt: Path = typer.Option(..., "--ckpt", help="Checkpoint written by `meflow train`."),
    out: Path = typer.Option(..., "--out", help="Folder for the .flo files and colour wheels."),
    landmarks: Path | None = typer.Option(None, "--landmarks", help="(68, 2) iBUG landmarks of the onset (.npy): the head flow of a "
                                                                     "checkpoint without a head decoder is the nose-tip compensation."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Estimate facial, head and expression flow for an image pair (or a folder of pairs)."""
    require_extra("flow", "train", ("torch", "cv2"))
    import numpy as np

    from facial.ibug68 import check_landmarks
    from facial.nose_tip import nose_tip_flow
    from shards.flows import FlowPrediction
    from training.checkpoint import CheckpointError
    from training.config import ConfigError
    from training.flow_files import read_rgb, write_flow_outputs
    from training.inference import load_method

    try:
        method = load_method(ckpt, device)
    except (CheckpointError, ConfigError, RuntimeError) as err:  # RuntimeError: an optional group or weights folder missing
        fail(str(err))
    for name, onset_path, apex_path, own_landmarks in _pairs(onset, apex):
        try:
            onset_rgb, apex_rgb = read_rgb(onset_path), read_rgb(apex_path)
            if onset_rgb.shape != apex_rgb.shape:
                raise ValueError(f"{onset_path} is {onset_rgb.shape[1]}x{onset_rgb.shape[0]} but {apex_path} is "
                                 f"{apex_rgb.shape[1]}x{apex_rgb.shape[0]}: a pair must share one size")
            prediction = method.predict(onset_rgb, apex_rgb)
            if prediction.head is None:
                points_file = own_landmarks or landmarks
                if points_file is None:
                    raise ValueError(f"{ckpt} estimates facial flow only: pass --landmarks L.npy (68 iBUG points of the onset) "
                                     "to take the nose-tip flow as the head flow")
                points = check_landmarks(np.load(points_file), str(points_file))
                head = np.broadcast_to(nose_tip_flow(prediction.facial, points), prediction.facial.shape).astype(np.float32)
                prediction = FlowPrediction(prediction.facial, head)
            written = write_flow_outputs(out / name, onset_rgb, prediction)
        except ValueError as err:
            fail(str(err))
        typer.echo(f"{onset_path.parent if name else onset_path.name}: {len(written)} files in {out / name}")
