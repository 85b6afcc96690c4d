"""MEFlowNet on a 2-core CPU: both stages of cpu.toml and the RAFT-small baseline (same budget)
trained on the CPU training recipe, then ONE `meflow eval` run on held-out identities against
zero, Farneback, DIS, TV-L1 and RAFT; training throughput, inference time and peak memory.

    .venv/bin/python bench/train_eval.py [--data build/cpu-train] [--run build/bench-train] [--reuse]
With --reuse, the stages RUN holds from an earlier run are kept (a retrained stage 1 retrains stage 2).
Without the dataset it first builds it (datasets/cpu-train.toml, 32 shards x 36 pairs, 2 workers).
Figures go to stdout and RUN/figures.json; pictures to docs/ with --docs.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
MEFLOW = [sys.executable, "-m", "pipeline.cli"]
INFERENCE_SIDES = (128, 512)
INFERENCE_REPEATS = 5


def run(args: list[str]) -> str:
    began = time.monotonic()
    result = subprocess.run([*MEFLOW, *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"meflow {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    print(f"  meflow {' '.join(args[:3])} ... {time.monotonic() - began:.0f} s", flush=True)
    return result.stdout


def children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def pairs_per_second(stage_dir: Path) -> float:
    """The last logged training throughput of a stage (log.csv)."""
    from training.run_logs import read_log

    rows = [r for r in read_log(stage_dir / "log.csv") if r["name"] == "pairs_per_s"]
    return float(rows[-1]["value"])


def inference_ms(ckpt: Path) -> dict[int, float]:
    from training.inference import load_method

    torch.set_num_threads(2)
    method = load_method(ckpt)
    rng = np.random.default_rng(0)
    out = {}
    for side in INFERENCE_SIDES:
        onset = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        method.predict(onset, onset)  # warm-up
        began = time.perf_counter()
        for _ in range(INFERENCE_REPEATS):
            method.predict(onset, onset)
        out[side] = 1000 * (time.perf_counter() - began) / INFERENCE_REPEATS
    return out


def flow_example(data: Path, ckpt: Path, out: Path) -> None:
    """`meflow flow` on the first held-out pair, written as PNGs first (the user's view)."""
    import cv2

    from training.shard_dataset import ShardDataset

    sample = ShardDataset(data, split="test", fields=("onset", "apex"))[0]
    out.mkdir(parents=True, exist_ok=True)
    for name in ("onset", "apex"):
        cv2.imwrite(str(out / f"{name}.png"), cv2.cvtColor(sample[name].permute(1, 2, 0).numpy(), cv2.COLOR_RGB2BGR))
    run(["flow", str(out / "onset.png"), str(out / "apex.png"), "--ckpt", str(ckpt), "--out", str(out)])


def train(args: argparse.Namespace, stage: int, config: str, out: Path) -> float:
    """Train one stage and return its minutes; with --reuse, a stage this benchmark finished
    before (its checkpoint and its recorded minutes) is kept."""
    record = out / f"stage{stage}" / "bench_minutes.json"
    if args.reuse and record.is_file() and (out / f"stage{stage}" / "last.pt").is_file():
        print(f"  kept {out.name} stage {stage} (--reuse)", flush=True)
        return json.loads(record.read_text())["minutes"]
    for later in range(stage, 3):  # a retrained stage 1 invalidates the stage 2 built on it
        shutil.rmtree(out / f"stage{later}", ignore_errors=True)
    began = time.monotonic()
    run(["train", "--stage", str(stage), "--config", config, "--data", str(args.data), "--out", str(out)])
    taken = (time.monotonic() - began) / 60
    record.write_text(json.dumps({"minutes": taken}))
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "build/cpu-train")
    parser.add_argument("--run", type=Path, default=ROOT / "build/bench-train")
    parser.add_argument("--docs", action="store_true", help="copy the curves and the contact sheet to docs/")
    parser.add_argument("--config", default="cpu", help="MEFlowNet config (a dry run can pass a smaller one)")
    parser.add_argument("--raft-config", default="raft-cpu")
    parser.add_argument("--split", default="test")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the stages RUN already holds from an earlier run of this benchmark (retrain only what changed)")
    args = parser.parse_args()
    if not (args.data / "dataset.json").is_file():
        run(["dataset", "build", "--recipe", "cpu-train", "--shards", "32", "--samples", "36", "--workers", "2", "--out", str(args.data)])
    if not args.reuse:
        shutil.rmtree(args.run, ignore_errors=True)
    model_run, raft_run = args.run / "meflownet", args.run / "raft"
    minutes = {"stage1": train(args, 1, args.config, model_run), "stage2": train(args, 2, args.config, model_run)}
    model_minutes = minutes["stage1"] + minutes["stage2"]
    train_peak = children_peak_mb()
    raft_minutes = train(args, 1, args.raft_config, raft_run)
    metrics = json.loads(run(["eval", "--ckpt", str(model_run / "stage2/last.pt"), "--data", str(args.data), "--split", args.split,
                              "--baselines", "zero,farneback,dis,tvl1,raft", "--raft-ckpt", str(raft_run / "stage1/last.pt"),
                              "--json", "--out", str(args.run / "eval")]))
    images = metrics.pop("n_images")
    baselines = {k: v for k, v in metrics.items() if k != "model"}
    best = min(baselines, key=lambda k: baselines[k]["epe_expr"])
    figures = {
        "test_images": images, "metrics": metrics,
        "best_baseline": best, "ratio_expr_to_best_baseline": metrics["model"]["epe_expr"] / baselines[best]["epe_expr"],
        "minutes": {"meflownet_both_stages": model_minutes, "raft": raft_minutes},
        "pairs_per_s": {"stage1": pairs_per_second(model_run / "stage1"), "stage2": pairs_per_second(model_run / "stage2"),
                        "raft": pairs_per_second(raft_run / "stage1")},
        "inference_ms": inference_ms(model_run / "stage2/last.pt"),
        "peak_rss_mb": {"training": train_peak, "all": children_peak_mb()},
    }
    (args.run / "figures.json").write_text(json.dumps(figures, indent=2))
    print(f"\nheld-out test pairs: {images}; MEFlowNet trained {model_minutes:.1f} min (both stages), RAFT {raft_minutes:.1f} min")
    print(f"{'method':<10}" + "".join(f"{k:>16}" for k in metrics["model"]))
    for name, row in metrics.items():
        print(f"{name:<10}" + "".join(f"{v:>16.4f}" if v is not None else f"{'-':>16}" for v in row.values()))
    print(f"expression EPE: model / best baseline ({best}) = {figures['ratio_expr_to_best_baseline']:.3f}")
    print("training pairs/s: " + ", ".join(f"{k} {v:.2f}" for k, v in figures["pairs_per_s"].items()))
    print("inference ms/pair: " + ", ".join(f"{k}x{k} {v:.0f}" for k, v in figures["inference_ms"].items()))
    print(f"peak memory (RSS, MB): training {train_peak:.0f}, any step {figures['peak_rss_mb']['all']:.0f}")
    if args.docs:
        docs = ROOT / "docs"
        flow_example(args.data, model_run / "stage2/last.pt", args.run / "flow")
        shutil.copy(args.run / "flow/overview.png", docs / "flow-overview.png")
        shutil.copy(model_run / "stage1/curve.png", docs / "training-stage1.png")
        shutil.copy(model_run / "stage2/curve.png", docs / "training-stage2.png")
        shutil.copy(args.run / "eval/contact_sheet.png", docs / "eval-contact-sheet.png")


if __name__ == "__main__":
    main()
