"""Resident memory of one render worker over many consecutive pairs (meshes updated in place).

    .venv/bin/python bench/render_memory.py [--pairs 300]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recipe_variant, rss_mb

from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
from pipeline.synthesis.pair import RenderWorker

WARM_UP = 10  # first renders allocate caches (kernels, BVH); growth is measured after them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    worker = RenderWorker(recipe_variant(base="smoke", width=args.size, height=args.size, samples=1, denoise=False),
                          load_assets(ensure_standin()))
    t0 = time.perf_counter()
    start = None
    for k in range(args.pairs):
        worker.render_index(k)
        if k + 1 == WARM_UP:
            start = rss_mb()
        if (k + 1) % 50 == 0:
            print(f"  after {k + 1:4d} pairs: RSS {rss_mb():7.1f} MB")
    growth = rss_mb() - start
    print(f"render_memory: {args.pairs} pairs at {args.size}x{args.size} in {time.perf_counter() - t0:.0f} s; "
          f"RSS growth after warm-up {growth:+.1f} MB ({growth / (args.pairs - WARM_UP) * 1000:+.1f} kB/pair)")


if __name__ == "__main__":
    main()
