"""Seconds per rendered pair at 256 and 512 px on this machine, split into beauty renders, data
layer, mesh and flow math, and the rest; and the same samples with one Blender process per sample
(the BlenderProc / Kubric pattern), side by side.

    .venv/bin/python bench/render_pairs.py [--pairs 3] [--samples 32]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recipe_variant

from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin

ONE_SHOT = """
import sys, time
t = time.perf_counter()
sys.path.insert(0, {bench!r})
from common import recipe_variant
from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
from pipeline.synthesis.pair import RenderWorker
worker = RenderWorker(recipe_variant(width={res}, height={res}, samples={samples}), load_assets(ensure_standin()))
worker.render_index(int(sys.argv[1]))
print(time.perf_counter() - t)
"""


def in_process(res: int, samples: int, pairs: int) -> dict:
    from pipeline.synthesis.pair import RenderWorker

    worker = RenderWorker(recipe_variant(width=res, height=res, samples=samples), load_assets(ensure_standin()))
    worker.render_index(pairs)  # warm-up (first-render set-up, imports)
    rows = []
    for k in range(pairs):
        t0 = time.perf_counter()
        r = worker.render_index(k)
        total = time.perf_counter() - t0
        beauty_onset = worker.scene.render_beauty_only(r.inputs.scene, r.inputs.geometry["onset"].vertices)
        beauty = beauty_onset + r.timings["render_apex"]
        data_layer = max(r.timings["render_onset_and_data"] - beauty_onset, 0.0)
        math = r.timings["meshes_and_planning"] + r.timings["flow_and_compositing"]
        rows.append(dict(total=total, beauty=beauty, data_layer=data_layer, mesh_and_flow_math=math,
                         other=total - beauty - data_layer - math))
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def one_process_per_sample(res: int, samples: int, pairs: int) -> float:
    script = ONE_SHOT.format(bench=str(Path(__file__).resolve().parent), res=res, samples=samples)
    times = []
    for k in range(pairs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", script, str(k)], check=True, capture_output=True, env=os.environ.copy())
        times.append(time.perf_counter() - t0)
    return float(np.mean(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=32, help="Cycles samples per pixel of the beauty renders")
    parser.add_argument("--sizes", default="256,512")
    args = parser.parse_args()
    print(f"render_pairs: {os.cpu_count()} cores, {args.samples} samples/pixel + denoising, {args.pairs} pairs per size")
    print(f"{'size':>5} {'s/pair':>7} {'beauty':>7} {'data':>6} {'math':>6} {'other':>6} {'overhead':>9} {'1 proc/sample':>14} {'ratio':>6}")
    for res in (int(s) for s in args.sizes.split(",")):
        row = in_process(res, args.samples, args.pairs)
        spawn = one_process_per_sample(res, args.samples, args.pairs)
        overhead = 1.0 - row["beauty"] / row["total"]
        print(f"{res:>5} {row['total']:7.2f} {row['beauty']:7.2f} {row['data_layer']:6.3f} {row['mesh_and_flow_math']:6.3f} "
              f"{row['other']:6.3f} {100 * overhead:8.1f}% {spawn:13.2f}s {spawn / row['total']:5.2f}x")


if __name__ == "__main__":
    main()
