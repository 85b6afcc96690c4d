"""What hanging hair (render/hair.py, the `bob` style) costs a pair, side by side in one run: the
first meflow-v1 samples drawn with a bob, each rendered as drawn and again with the cap alone
(style `medium`, the same cap thickness), alternating which goes first, in one Blender scene.

    .venv/bin/python bench/hair_cost.py [--pairs 4] [--out /tmp/hair_cost.png]

Prints seconds per pair (Cycles' two beauty renders and the data layer, and the whole pair) for
both and their ratios; --out writes the onsets side by side (bob above, cap below).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
from pipeline.appearance.identity import HANGING_STYLES
from pipeline.synthesis.pair import RenderWorker
from pipeline.synthesis.recipe import load_recipe

CAP_ONLY = "medium"
SEARCH = 64  # look for bobs among this many first samples


def with_style(inputs, style: str):
    appearance = {**inputs.scene.appearance, "hair_style": style}
    return dataclasses.replace(inputs, scene=dataclasses.replace(inputs.scene, appearance=appearance))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    worker = RenderWorker(load_recipe("meflow-v1"), load_assets(ensure_standin()))
    bobs = [k for k in range(SEARCH) if worker.plan(k).scene.appearance["hair_style"] in HANGING_STYLES][: args.pairs]
    worker.render(worker.plan(bobs[0]))  # warm-up: first-render set-up
    seconds = {"bob": [], "cap": []}
    beauty = {"bob": [], "cap": []}
    images = {"bob": [], "cap": []}
    for i, k in enumerate(bobs):
        inputs = worker.plan(k)
        order = [("bob", inputs), ("cap", with_style(inputs, CAP_ONLY))]
        for name, variant in (order if i % 2 == 0 else order[::-1]):
            result = worker.render(variant)
            seconds[name].append(result.timings["total"])
            beauty[name].append(result.timings["render_onset_and_data"] + result.timings["render_apex"])
            images[name].append(result.onset)
    print(f"samples {bobs} (meflow-v1, 512 x 512)")
    print(f"{'':6} {'Cycles s':>9} {'pair s':>8}")
    for name in ("bob", "cap"):
        print(f"{name:6} {np.mean(beauty[name]):9.2f} {np.mean(seconds[name]):8.2f}")
    print(f"bob / cap: Cycles {np.mean(beauty['bob']) / np.mean(beauty['cap']):.3f}, "
          f"pair {np.mean(seconds['bob']) / np.mean(seconds['cap']):.3f}")
    if args.out:
        import cv2

        grid = np.concatenate([np.concatenate(images[name], 1) for name in ("bob", "cap")], 0)
        cv2.imwrite(str(args.out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
