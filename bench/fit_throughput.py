"""Images fitted per second on this machine: batches of B against one image at a time, side by
side on the same landmarks (synthetic faces of the stand-in head, so detection is not timed).

    python bench/fit_throughput.py [--images 16] [--batch 8] [--iterations 400]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fit_helpers import synthetic_faces

from flame_assets.assets import load_assets
from flame_assets.model import FaceModel
from flame_assets.standin.build import ensure_standin
from pipeline.fitting.config import FitConfig
from pipeline.fitting.fitter import fit_landmarks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=FitConfig.full_iterations)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = FaceModel(load_assets(ensure_standin()))
    truth = synthetic_faces(model, args.images, seed=1)
    config = FitConfig(full_iterations=args.iterations)
    fit_landmarks(model, truth.landmarks[:2], FitConfig(full_iterations=5, rigid_iterations=5))  # warm-up

    t = time.perf_counter()
    batched = [fit_landmarks(model, truth.landmarks[i:i + args.batch], config) for i in range(0, args.images, args.batch)]
    batched_s = time.perf_counter() - t
    t = time.perf_counter()
    single = [fit_landmarks(model, truth.landmarks[i:i + 1], config) for i in range(args.images)]
    single_s = time.perf_counter() - t

    nme_b = np.concatenate([r.nme for r in batched])
    nme_s = np.concatenate([r.nme for r in single])
    print(f"stand-in head ({model.assets.n_vertices} vertices), {args.images} images, {args.iterations} iterations, "
          f"{torch.get_num_threads()} threads")
    print(f"batch of {args.batch}: {args.images / batched_s:.2f} images/s ({batched_s / args.images:.2f} s/image)")
    print(f"one at a time: {args.images / single_s:.2f} images/s ({single_s / args.images:.2f} s/image)")
    print(f"speed-up: {single_s / batched_s:.2f}x; median NME batched {np.median(nme_b):.5f}, single {np.median(nme_s):.5f}")


if __name__ == "__main__":
    main()
