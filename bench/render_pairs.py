"""Seconds per rendered pair at 256 and 512 px on this machine with meflow-v1's render settings,
split into the beauty renders, the painted appearance, and everything around the beauty render
(the 1-sample data layer, scene updates, EXR write and read, compositing, flow and landmark math,
and the shard write); and the same samples with one Blender process per sample (the BlenderProc /
Kubric pattern), side by side.

    .venv/bin/python bench/render_pairs.py [--pairs 3] [--samples N (default: the recipe's)]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
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
    from pipeline.build.records import sample_record
    from pipeline.synthesis.pair import RenderWorker
    from shards.writer import ShardWriter

    worker = RenderWorker(recipe_variant(width=res, height=res, samples=samples), load_assets(ensure_standin()))
    worker.render_index(pairs)  # warm-up (first-render set-up, imports)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        writer = ShardWriter(Path(tmp) / "shard-00000.zarr", pairs, res, res, {"bench": True})
        for k in range(pairs):
            t0 = time.perf_counter()
            r = worker.render_index(k)
            t = time.perf_counter()
            writer.append(sample_record(r), k)
            shard_write = time.perf_counter() - t
            total = time.perf_counter() - t0
            data_layer = worker.scene.render_data_only()  # timed apart, on the same scene
            beauty = r.timings["render_onset_and_data"] + r.timings["render_apex"] - data_layer
            rows.append(dict(total=total, beauty=beauty, paint=r.timings["appearance"], data_layer=data_layer,
                             shard_write=shard_write, around=total - beauty - r.timings["appearance"]))
        t = time.perf_counter()
        writer.finish()  # the buffered blocks' flush: shared out over the pairs
        flush = (time.perf_counter() - t) / pairs
    for row in rows:
        row.update(total=row["total"] + flush, shard_write=row["shard_write"] + flush, around=row["around"] + flush)
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
    parser.add_argument("--samples", type=int, default=0, help="Cycles samples per pixel (0: the recipe's)")
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--no-spawn", action="store_true", help="skip the one-process-per-sample comparison")
    args = parser.parse_args()
    recipe = recipe_variant()
    samples = args.samples or recipe.render.samples
    cycles = recipe.render.cycles
    print(f"render_pairs: {os.cpu_count()} cores, meflow-v1's settings: {samples} samples/pixel"
          f"{', denoised (' + cycles.denoise_prefilter.lower() + ' prefilter)' if recipe.render.denoise else ''}, "
          f"{recipe.render.appearance.texture_size}^2 maps, {args.pairs} pairs per size")
    print(f"{'size':>5} {'s/pair':>7} {'core-s':>7} {'beauty':>7} {'paint':>6} {'data':>6} {'shard':>6} {'around':>7} "
          f"{'around %':>8} {'1 proc/sample':>14} {'ratio':>6}")
    for res in (int(s) for s in args.sizes.split(",")):
        row = in_process(res, samples, args.pairs)
        spawn = one_process_per_sample(res, samples, args.pairs) if not args.no_spawn else float("nan")
        print(f"{res:>5} {row['total']:7.2f} {row['total'] * (os.cpu_count() or 1):7.1f} {row['beauty']:7.2f} "
              f"{row['paint']:6.3f} {row['data_layer']:6.3f} {row['shard_write']:6.3f} {row['around']:7.3f} "
              f"{100 * row['around'] / row['total']:7.1f}% {spawn:13.2f}s {spawn / row['total']:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
