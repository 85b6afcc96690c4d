"""Training-loader speed and disk use: shards against the same samples exported as PNG + .flo.

    .venv/bin/python bench/loader.py [--dataset DIR] [--size 256] [--shards 4 --samples 8]
Without --dataset it first builds one (stand-in head, smoke recipe at --size).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recipe_variant

from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
from pipeline.build.builder import build
from pipeline.export.dataset_files import export
from pipeline.export.sample_files import SAMPLE_FILES
from training.shard_dataset import ShardDataset

PASSES = 3


def folder_bytes(path: Path, suffixes: tuple[str, ...] | None = None) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and (suffixes is None or p.suffix in suffixes))


def read_exported(folder: Path) -> dict:
    path = {name: str(folder / file) for name, file in SAMPLE_FILES.items()}
    return {"onset": cv2.imread(path["onset"]), "apex": cv2.imread(path["apex"]),
            "flow_facial": cv2.readOpticalFlow(path["flow_facial"]), "flow_head": cv2.readOpticalFlow(path["flow_head"]),
            "mask": cv2.imread(path["mask"], cv2.IMREAD_GRAYSCALE)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--samples", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="meflow-loader-bench-"))
    try:
        root = args.dataset
        if root is None:
            root = work / "shards"
            assets_dir = ensure_standin()
            recipe = recipe_variant(base="smoke", width=args.size, height=args.size)
            build(root, recipe, load_assets(assets_dir), assets_dir, args.shards, args.samples, workers=1, echo=lambda *_: None)
        exported = work / "flo"
        n = export(root, exported, "flo")
        ds = ShardDataset(root, "all", fields=("onset", "apex", "flow_facial", "flow_head", "mask"))
        folders = sorted(p for p in exported.iterdir() if p.is_dir())
        order = np.random.default_rng(0).permutation(n)
        timings = {"shards": [], "png+flo": []}
        for _ in range(PASSES):  # alternate, so caches treat both alike
            t = time.perf_counter()
            for i in order:
                ds[int(i)]
            timings["shards"].append(n / (time.perf_counter() - t))
            t = time.perf_counter()
            for i in order:
                read_exported(folders[int(i)])
            timings["png+flo"].append(n / (time.perf_counter() - t))
        shard_bytes = folder_bytes(root / "shards") / n
        flo_bytes = folder_bytes(exported, (".png", ".flo")) / n
        height, width = ds[0]["mask"].shape
        print(f"loader: {n} samples of {width}x{height}, random order, best of {PASSES} passes, 1 process")
        print(f"  shards : {max(timings['shards']):7.1f} samples/s, {shard_bytes / 1024:7.1f} kB/sample")
        print(f"  png+flo: {max(timings['png+flo']):7.1f} samples/s, {flo_bytes / 1024:7.1f} kB/sample")
        print(f"  shards/png+flo: speed {max(timings['shards']) / max(timings['png+flo']):.2f}x, size {shard_bytes / flo_bytes:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
