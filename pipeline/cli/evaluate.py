"""`meflow eval`: end-point errors of the trained model, RAFT and classical baselines on test data."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import fail, require_extra

RAFT = "raft"  # a checkpoint loaded like the model, not a classical baseline
DEFAULT_BASELINES = "zero,farneback,dis,tvl1"
METRICS_FILE = "metrics.json"
SHEET_FILE = "contact_sheet.png"


def evaluate_command(
    ckpt: Path | None = typer.Option(None, "--ckpt", help="MEFlowNet checkpoint, evaluated as `model` (omit for baselines only)."),
    data: Path = typer.Option(..., "--data", help="Shard dataset folder, or a folder in MELLM's layout."),
    split: str = typer.Option("test", "--split", help="train, test or all."),
    baselines: str = typer.Option(DEFAULT_BASELINES, "--baselines",
                                  help="Comma-separated: zero, farneback, dis, tvl1, raft (raft needs --raft-ckpt); '' for none."),
    raft_ckpt: Path | None = typer.Option(None, "--raft-ckpt", help="RAFT checkpoint trained by `meflow train`, evaluated as `raft`."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: method -> figures, and n_images."),
    out: Path | None = typer.Option(None, "--out", help=f"Folder for {METRICS_FILE} and {SHEET_FILE}."),
    device: str = typer.Option("cpu", "--device", help="Torch device of the checkpoints (cpu, cuda, cuda:1)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Evaluate the first N samples of the split only."),
) -> None:
    """EPE of facial, head and expression flow (whole face and facial regions) and 1-px accuracy
    per method, as a table, JSON, or files."""
    require_extra("eval", "train")
    from training.evaluation.baselines import BASELINES, make_baselines
    from training.evaluation.evaluate import MethodError, SampleError, evaluate, format_table, open_eval_samples

    names = [n.strip() for n in baselines.split(",") if n.strip()]
    unknown = [n for n in names if n not in (*BASELINES, RAFT)]
    if unknown:
        fail(f"unknown baseline {', '.join(map(repr, unknown))} in --baselines: choose from {', '.join((*BASELINES, RAFT))}")
    if len(set(names)) != len(names):
        fail(f"--baselines names a method twice: {baselines}")
    if RAFT in names and raft_ckpt is None:
        fail("--baselines raft needs --raft-ckpt CKPT (a RAFT checkpoint trained by `meflow train`)")
    if raft_ckpt is not None and RAFT not in names:
        names.append(RAFT)  # a RAFT checkpoint given is a RAFT checkpoint to evaluate
    if ckpt is None and not names:
        fail("nothing to evaluate: give --ckpt, or name --baselines")
    for option, path in (("--ckpt", ckpt), ("--raft-ckpt", raft_ckpt)):
        if path is not None and not path.is_file():
            fail(f"{option} {path} is not a file: give a checkpoint written by `meflow train`")
    if not data.is_dir():
        fail(f"--data {data} is not a folder: give a shard dataset (`meflow dataset build`) or a MELLM-layout folder")

    try:
        samples = open_eval_samples(data, split, limit)
    except ValueError as err:  # not a dataset, unknown split, empty split
        fail(str(err))
    try:
        methods = make_baselines(n for n in names if n != RAFT)
    except ValueError as err:  # OpenCV without contrib for tvl1
        fail(str(err))
    methods += load_checkpoints(raft_ckpt, ckpt, device)  # table order: baselines, raft, the model
    try:
        result = evaluate(methods, samples)
    except SampleError as err:
        fail(str(err))
    except MethodError as err:
        fail(str(err), code=1)

    if out is not None:
        from training.evaluation.contact_sheet import write_contact_sheet

        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / METRICS_FILE).write_text(json.dumps(result.to_json(), indent=1) + "\n")
            write_contact_sheet(result, out / SHEET_FILE)
        except OSError as err:
            fail(f"cannot write to {out} ({err.strerror}): choose a writable --out")
    typer.echo(json.dumps(result.to_json(), indent=1) if as_json else format_table(result))
    if out is not None:
        typer.echo(f"wrote {out / METRICS_FILE} and {out / SHEET_FILE}", err=as_json)  # with --json stdout holds the JSON alone


def load_checkpoints(raft_ckpt: Path | None, ckpt: Path | None, device: str) -> list:
    """RAFT (named `raft`) and the model (named `model`) from the checkpoints given, through
    training.inference.load_method; one-line errors when the loader is missing or refuses."""
    if raft_ckpt is None and ckpt is None:
        return []
    try:
        from training.inference import load_method
    except ImportError:
        fail("this install has no model loader (training.inference): evaluate baselines only (leave out --ckpt and raft)")
    from training.evaluation.evaluate import Renamed

    methods = []
    for name, path in ((RAFT, raft_ckpt), ("model", ckpt)):
        if path is None:
            continue
        try:
            method = load_method(path, device=device)
        except (ValueError, KeyError, OSError, RuntimeError, AssertionError) as err:  # a damaged or foreign checkpoint; torch without CUDA asserts
            fail(f"cannot load {path} as {name}: {' '.join(str(err).split())}")
        methods.append(method if method.name == name else Renamed(method, name))
    return methods
