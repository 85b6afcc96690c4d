"""Images fitted per second on this machine, side by side on the same landmarks (synthetic faces of
the stand-in head, so detection is not timed):

- landmark-only against full mesh: the default fitter evaluates only the vertices the 68 landmarks
  are made of at each step (flame_assets.landmark_model); the other evaluates the whole mesh, as
  the fitter did before. Same faces, iterations and batches; the two are timed batch by batch in
  alternating order, so other work on the machine slows both alike.
- batches of B against one image at a time, both landmark-only.

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
from flame_assets.landmark_model import LandmarkModel
from flame_assets.model import FaceModel
from flame_assets.standin.build import ensure_standin
from pipeline.fitting.config import FitConfig
from pipeline.fitting.fitter import fit_landmarks

THREADS = 2  # the machine's cores, shared with whatever else runs


def timed(fit):
    start = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=FitConfig.full_iterations)
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    model = FaceModel(load_assets(ensure_standin()))
    _, build_s = timed(lambda: LandmarkModel.of(model))  # once per face model, kept by the fitter
    truth = synthetic_faces(model, args.images, seed=1)
    config = FitConfig(full_iterations=args.iterations)
    warm_up = FitConfig(full_iterations=5, rigid_iterations=5)
    fit_landmarks(model, truth.landmarks[:2], warm_up)
    fit_landmarks(model, truth.landmarks[:2], warm_up, iterate_with=model)

    fits = {"landmark-only": [], "full mesh": []}
    seconds = dict.fromkeys(fits, 0.0)
    for k, first in enumerate(range(0, args.images, args.batch)):
        targets = truth.landmarks[first:first + args.batch]
        runs = {"landmark-only": lambda t=targets: fit_landmarks(model, t, config),
                "full mesh": lambda t=targets: fit_landmarks(model, t, config, iterate_with=model)}
        for name in (list(runs) if k % 2 == 0 else list(runs)[::-1]):
            result, s = timed(runs[name])
            fits[name].append(result)
            seconds[name] += s
    single, single_s = timed(lambda: [fit_landmarks(model, truth.landmarks[i:i + 1], config) for i in range(args.images)])

    nme = {name: np.concatenate([r.nme for r in results]) for name, results in fits.items()}
    nme["one at a time"] = np.concatenate([r.nme for r in single])
    seconds["one at a time"] = single_s
    landmark_model = LandmarkModel.of(model)
    print(f"stand-in head: {model.assets.n_vertices} vertices, landmark-only evaluates {landmark_model.vertex_ids.numel()} "
          f"(built once in {build_s:.2f} s); {args.images} images, {args.iterations} iterations, {torch.get_num_threads()} threads")
    print(f"{'fitter':<34}{'images/s':>10}{'s/image':>10}{'median NME':>12}{'mean NME':>11}")
    rows = {f"landmark-only, batch of {args.batch}": "landmark-only", f"full mesh, batch of {args.batch}": "full mesh",
            "landmark-only, one at a time": "one at a time"}
    for label, name in rows.items():
        s = seconds[name]
        print(f"{label:<34}{args.images / s:>10.2f}{s / args.images:>10.3f}{np.median(nme[name]):>12.5f}{nme[name].mean():>11.5f}")
    print(f"landmark-only / full mesh: {seconds['full mesh'] / seconds['landmark-only']:.2f}x faster; "
          f"largest NME difference {np.abs(nme['landmark-only'] - nme['full mesh']).max():.1e}")
    print(f"batch of {args.batch} / one at a time: {single_s / seconds['landmark-only']:.2f}x faster; "
          f"largest NME difference {np.abs(nme['landmark-only'] - nme['one at a time']).max():.1e}")


if __name__ == "__main__":
    main()
