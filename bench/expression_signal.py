"""Where does the expression flow get lost? A diagnostic for MEFlowNet's expression bar.

Zero flow is hard to beat on expression EPE because the expression moves few pixels by little
(mean 0.03 px over the face on cpu-train). A method can only beat it if its facial flow is
accurate where the expression moves. On samples no dataset holds (indices from --first), rendered
at the recipe's samples per pixel and at more, this prints:

- facial-flow EPE over the face, of a trained checkpoint and of DIS (`meflow eval`'s baseline);
- the same on the pixels whose true expression flow exceeds 0.1 and 0.3 px, next to that motion's
  mean size: an error above the size means the method misses the expression there;
- the expression EPE of the true facial flow minus a robust quadratic fit of it (a smooth head
  motion model with perfect facial flow), next to zero flow's;
- ceilings: each method's facial flow minus the TRUE head flow (a perfect stage 2), shrunk by the
  best factor, everywhere and only where the expression truly exceeds 0.1 px (an oracle of where
  it moves); and the share of the model's facial error that must go before a perfect stage 2 and
  the best shrink beat zero flow.

    .venv/bin/python bench/expression_signal.py --ckpt RUN/stage1/last.pt [--recipe cpu-train]
        [--samples 16] [--first 1100] [--spp 4,32]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recipe_variant

from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
from pipeline.synthesis.recipe import load_recipe
from training.evaluation.baselines import DIS
from training.inference import load_method

THRESHOLDS = (0.1, 0.3)  # px of true expression flow: "where the expression moves"
ORACLE_THRESHOLD = THRESHOLDS[0]
SHRINKS = (1.0, 0.7, 0.5, 0.3, 0.2, 0.1)  # factors on an expression estimate (the best is reported)
ERROR_SCALES = (1.0, 0.7, 0.5, 0.3, 0.2, 0.1, 0.05)  # the model's facial error, scaled down
FIT_ROUNDS = 5  # iteratively reweighted least squares
HUBER_SCALE = 2.0  # residuals beyond this many robust sigmas are down-weighted


def quadratic_fit(flow: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """flow (H, W, 2), mask (H, W) bool -> (H, W, 2) the robust (IRLS, Huber) fit of a quadratic
    polynomial in x, y to the flow inside the mask."""
    height, width = mask.shape
    yy, xx = np.mgrid[0:height, 0:width]
    x, y = (xx - width / 2) / width, (yy - height / 2) / height
    basis = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], -1)  # (H, W, 6)
    a, b = basis[mask], flow[mask]
    weights = np.ones(len(a))
    for _ in range(FIT_ROUNDS):
        coef = np.linalg.lstsq(a * weights[:, None], b * weights[:, None], rcond=None)[0]  # (6, 2)
        residual = np.linalg.norm(b - a @ coef, axis=1)
        sigma = 1.4826 * np.median(residual) + 1e-9
        weights = 1.0 / np.maximum(residual / (HUBER_SCALE * sigma), 1.0)
    return basis @ coef


def epe(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=-1)[where].mean())


def best_shrunk_epe(estimates: list[np.ndarray], truths: list[np.ndarray], masks: list[np.ndarray]) -> float:
    """estimates, truths (H, W, 2) and masks (H, W) per sample -> the lowest mean per-sample EPE of
    factor x estimate over SHRINKS (the factor chosen on these samples: a ceiling, not a method)."""
    return min(float(np.mean([epe(a * e, t, m) for e, t, m in zip(estimates, truths, masks, strict=True)]))
               for a in SHRINKS)


def ceilings(samples: list[dict]) -> dict[str, float]:
    """What a perfect stage 2 could make of each facial flow. samples: dicts of (H, W, 2) arrays
    `facial`, `head`, `model`, `dis` and the (H, W) bool `mask`."""
    truths = [s["facial"] - s["head"] for s in samples]
    masks = [s["mask"] for s in samples]
    oracle = [np.linalg.norm(t, axis=-1)[..., None] > ORACLE_THRESHOLD for t in truths]
    out = {}
    for name in ("model", "dis"):
        estimates = [s[name] - s["head"] for s in samples]
        out[f"ceiling: {name} facial - true head"] = best_shrunk_epe(estimates, truths, masks)
        out[f"ceiling: {name}, oracle |expr| > {ORACLE_THRESHOLD}"] = best_shrunk_epe(
            [e * o for e, o in zip(estimates, oracle, strict=True)], truths, masks)
    zero = float(np.mean([np.linalg.norm(t, axis=-1)[m].mean() for t, m in zip(truths, masks, strict=True)]))
    beating = [k for k in ERROR_SCALES if best_shrunk_epe(
        [t + k * (s["model"] - s["facial"]) for s, t in zip(samples, truths, strict=True)], truths, masks) < zero]
    out["model facial error x k beats zero: max k"] = max(beating, default=0.0)
    return out


def measure(recipe, method, indices: range) -> dict[str, float]:
    from pipeline.synthesis.pair import RenderWorker

    worker = RenderWorker(recipe, load_assets(ensure_standin()))
    dis_method = DIS()  # the baseline `meflow eval` scores
    rows, seconds, kept = [], [], []
    for k in indices:
        start = time.perf_counter()
        pair = worker.render_index(k)
        seconds.append(time.perf_counter() - start)
        mask, facial = pair.mask, pair.flow_facial
        expression = facial - pair.flow_head
        size = np.linalg.norm(expression, axis=-1)
        model, dis = (m.predict(pair.onset, pair.apex).facial for m in (method, dis_method))
        row = {"model facial": epe(model, facial, mask), "dis facial": epe(dis, facial, mask),
               "zero expression": float(size[mask].mean()),
               "true facial - quadratic fit, expression": epe(facial - quadratic_fit(facial, mask), expression, mask)}
        for t in THRESHOLDS:
            moving = mask & (size > t)
            if moving.any():
                row[f"|expr| > {t}: size"] = float(size[moving].mean())
                row[f"|expr| > {t}: model facial"] = epe(model, facial, moving)
                row[f"|expr| > {t}: dis facial"] = epe(dis, facial, moving)
        rows.append(row)
        kept.append({"facial": facial, "head": pair.flow_head, "model": model, "dis": dis, "mask": mask})
    keys = list(dict.fromkeys(k for row in rows for k in row))
    out = {k: float(np.mean([row[k] for row in rows if k in row])) for k in keys}
    out.update(ceilings(kept))
    out["s/pair"] = float(np.mean(seconds))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, required=True, help="A stage-1 (or stage-2) MEFlowNet checkpoint.")
    parser.add_argument("--recipe", default="cpu-train")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--first", type=int, default=1100, help="First sample index: past the benchmark dataset's 1,008.")
    parser.add_argument("--spp", default="", help="Samples per pixel to compare, e.g. 4,32 (default: the recipe's, and 8x it).")
    args = parser.parse_args()
    recipe_samples = load_recipe(args.recipe).render.samples
    spps = [int(s) for s in args.spp.split(",")] if args.spp else [recipe_samples, 8 * recipe_samples]
    method = load_method(args.ckpt)
    indices = range(args.first, args.first + args.samples)
    print(f"expression signal: recipe {args.recipe}, samples {indices.start}-{indices.stop - 1}, checkpoint {args.ckpt}")
    results = {}
    for spp in spps:
        results[spp] = measure(recipe_variant(args.recipe, samples=spp), method, indices)
    keys = list(dict.fromkeys(k for r in results.values() for k in r))
    print(f"{'EPE / size, px':<42}" + "".join(f"{f'{s} spp':>12}" for s in spps))
    for key in keys:
        print(f"{key:<42}" + "".join(f"{results[s].get(key, float('nan')):>12.4f}" for s in spps))


if __name__ == "__main__":
    main()
