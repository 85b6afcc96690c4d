"""Dataset build throughput with 1 and with 2 worker processes (LocalCluster), the scaling
efficiency, and the time per sample that is not rendering.

    .venv/bin/python bench/dataset_throughput.py [--shards 4 --samples 4 --size 128]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recipe_variant

from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
from pipeline.build.builder import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    assets_dir = ensure_standin()
    assets = load_assets(assets_dir)
    recipe = recipe_variant(base="smoke", width=args.size, height=args.size, samples=16)
    rows = {}
    for workers in (1, 2):
        out = Path(tempfile.mkdtemp(prefix="meflow-throughput-"))
        try:
            r = build(out / "ds", recipe, assets, assets_dir, args.shards, args.samples, workers=workers, echo=lambda *_: None)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        rows[workers] = r
    print(f"dataset_throughput: {args.shards} shards x {args.samples} pairs at {args.size}x{args.size}, 16 samples/pixel")
    for workers, r in rows.items():
        in_tasks = (r.task_seconds - r.render_seconds) / r.samples
        outside = (r.seconds * workers - r.task_seconds) / r.samples
        print(f"  {workers} worker(s): {r.seconds:6.1f} s wall, {r.samples / r.seconds:.2f} samples/s; per sample, not "
              f"rendering: {in_tasks:.3f} s in tasks (meshes, flow, shard writes) + {outside:.2f} worker-s start-up "
              f"and orchestration")
    ratio = (rows[2].samples / rows[2].seconds) / (rows[1].samples / rows[1].seconds)
    print(f"  throughput 2 workers / 1 worker: {ratio:.2f}x on {os.cpu_count()} cores (one worker already renders "
          f"with every core, so 1.0x is ideal here; extra machines add workers, not threads)")


if __name__ == "__main__":
    main()
