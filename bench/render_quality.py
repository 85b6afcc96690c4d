"""Render quality at cost: Cycles settings against a 1024-sample reference on meflow-v1 scenes.

For a fixed set of meflow-v1 samples (picked to vary light types, sky, glasses, hair and skin),
a reference is rendered at 1024 samples/pixel without denoising or adaptive stopping, with twice
the bounce limits, from 1024^2 painted maps; then every candidate in the grid renders the same pairs as
the dataset build does. Per candidate: seconds (and core-seconds) per pair, split into painting,
beauty renders and the 1-sample data layer; PSNR and SSIM of onset and apex against the
reference over the face (the data layer's mask), on the uint8 images the dataset stores; and the
false motion the noise adds: DIS flow between two renders of one sample's onset that differ only
in their sampling seed (mean and 95th percentile over the face), next to the same on the
reference. The build renders both images of a pair with one seed, so identical geometry renders
identically there; independent seeds bound what the noise can fake when the head moves.

The reference is cached under --cache (keyed by the scene, the geometry and Blender's version),
so a rerun renders only the candidates. Writes a time-vs-quality plot (--plot).

    .venv/bin/python bench/render_quality.py [--pairs 8] [--only NAME,...] [--reference-only]
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recipe_variant

from facial.flame_layout import STATES
from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
from pipeline.synthesis.pair import RenderWorker, SampleInputs, neutral_layout
from pipeline.synthesis.recipe import Recipe
from render.backgrounds import composite, make_background, to_uint8_srgb
from render.cycles_settings import CyclesSettings

REFERENCE_SAMPLES = 1024
REFERENCE_TEXTURE = 1024
# Converged, not different: no adaptive stopping, twice the bounce limits; Cycles' default clamping.
REFERENCE = CyclesSettings(adaptive_threshold=0.0, max_bounces=16, diffuse_bounces=4, glossy_bounces=4,
                           transmission_bounces=12, transparent_bounces=12)
CANDIDATE_POOL = 64  # the fixed set is picked from the recipe's first samples
# The tolerance a candidate must meet to become a default (issue 14): mean PSNR and SSIM over the
# face against the reference, and false motion at most FALSE_MOTION_SLACK x the former default's
# (GRID[0]) in the same run. No finite-sample setting reaches the reference's own false motion
# (64 spp + OpenImageDenoise, the former default, shows 2.8x it); the 10 % slack covers a one-sample
# measurement (set after the first runs, where the best candidate came out 4 % above).
MIN_PSNR_DB, MIN_SSIM = 40.0, 0.98
FALSE_MOTION_SLACK = 1.1


@dataclass(frozen=True)
class Candidate:
    name: str
    samples: int
    denoise: bool = True
    texture_size: int = 1024
    cycles: dict = dataclasses.field(default_factory=dict)  # CyclesSettings fields changed from Blender's defaults

    def settings(self) -> CyclesSettings:
        return dataclasses.replace(CyclesSettings(), **self.cycles)


FAST = {"denoise_prefilter": "FAST"}
BORDER = {"subject_border": True}
NO_TREE = {"light_tree": False}
LOW_BOUNCES = {"max_bounces": 4, "diffuse_bounces": 1, "glossy_bounces": 1, "transmission_bounces": 4, "transparent_bounces": 4}
GRID = (
    Candidate("64 spp, OIDN (meflow-v1 before)", 64),
    Candidate("16 spp, OIDN", 16),
    Candidate("16 spp, no denoise", 16, denoise=False),
    Candidate("32 spp, OIDN fast prefilter", 32, cycles=FAST),
    Candidate("16 spp, OIDN fast prefilter", 16, cycles=FAST),
    Candidate("8 spp, OIDN fast prefilter", 8, cycles=FAST),
    Candidate("4 spp, OIDN fast prefilter", 4, cycles=FAST),
    Candidate("16 spp, OIDN no guides", 16, cycles={"denoise_guides": "RGB"}),
    Candidate("32 spp max, adaptive 0.05, fast prefilter", 32, cycles={**FAST, "adaptive_threshold": 0.05}),
    Candidate("16 spp, no light tree, fast prefilter", 16, cycles={**FAST, "light_tree": False}),
    Candidate("16 spp, low bounces, fast prefilter", 16, cycles={**FAST, **LOW_BOUNCES}),
    Candidate("16 spp, Burley SSS, fast prefilter", 16, cycles={**FAST, "subsurface": "BURLEY"}),
    # Map size repaints the identity (texel noise is drawn per size): a change of look, not of noise.
    Candidate("16 spp, 768^2 maps, fast prefilter", 16, texture_size=768, cycles=FAST),
    Candidate("16 spp, 512^2 maps, fast prefilter", 16, texture_size=512, cycles=FAST),
    Candidate("12 spp, 512^2 maps, fast prefilter", 12, texture_size=512, cycles=FAST),
    Candidate("8 spp, 512^2 maps, fast prefilter", 8, texture_size=512, cycles=FAST),
    Candidate("64 spp, OIDN, subject border, no light tree", 64, cycles={**BORDER, **NO_TREE}),
    Candidate("16 spp, OIDN, subject border, no light tree", 16, cycles={**BORDER, **NO_TREE}),
    Candidate("8 spp, OIDN, subject border, no light tree", 8, cycles={**BORDER, **NO_TREE}),
)


def features(inputs: SampleInputs) -> set[str]:
    """What a sample shows that changes render cost or quality."""
    scene = inputs.scene
    out = {f"light:{light.kind}" for light in scene.lights} | {f"lights:{len(scene.lights)}"}
    out |= {"glasses"} if scene.glasses else {"no glasses"}
    out |= {"sky"} if scene.sky else set()
    out |= {f"hair:{scene.appearance['hair_style']}"} if scene.appearance else set()
    out |= {f"tone:{scene.skin_tone[0] > 0.35}"}
    return out


def pick_samples(worker: RenderWorker, n: int) -> list[int]:
    """n sample indices from the first CANDIDATE_POOL, greedily covering the most new features
    (ties: the lowest index), so the set is fixed by the recipe alone."""
    pool = {k: features(worker.plan(k)) for k in range(CANDIDATE_POOL)}
    chosen: list[int] = []
    seen: set[str] = set()
    while len(chosen) < n:
        best = max((k for k in pool if k not in chosen), key=lambda k: (len(pool[k] - seen), -k))
        chosen.append(best)
        seen |= pool[best]
    return sorted(chosen)


def final_image(inputs: SampleInputs, rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) linear render -> the (H, W, 3) uint8 sRGB image the dataset stores."""
    spec = inputs.scene
    return to_uint8_srgb(composite(rgba, make_background(spec.background, spec.height, spec.width)))


class Renderer:
    """One RenderWorker whose Cycles settings and painted map size change per candidate."""

    def __init__(self, recipe: Recipe) -> None:
        self.worker = RenderWorker(recipe, load_assets(ensure_standin()))
        self.layouts = {self.worker.layout.size: self.worker.layout}

    def use(self, settings: CyclesSettings, texture_size: int) -> None:
        self.worker.scene.apply_settings(settings)
        if texture_size not in self.layouts:
            from pipeline.synthesis.meshes import eye_regions

            assets = self.worker.model.assets
            eye_faces, _, _ = eye_regions(assets.weights, assets.faces, assets.v_template)
            self.layouts[texture_size] = neutral_layout(self.worker.model, ~eye_faces, texture_size)
        self.worker.layout = self.layouts[texture_size]

    def pair(self, inputs: SampleInputs, samples: int, denoise: bool) -> dict:
        """The pair as the build renders it, plus the data layer alone (timed apart)."""
        inputs = dataclasses.replace(inputs, scene=dataclasses.replace(inputs.scene, samples=samples, denoise=denoise))
        result = self.worker.render(inputs)
        data_layer = self.worker.scene.render_data_only()
        return {"onset": result.onset, "apex": result.apex, "mask": result.mask, "timings": result.timings,
                "data_layer": data_layer}

    def onset_with_seed(self, inputs: SampleInputs, samples: int, denoise: bool, seed: int) -> np.ndarray:
        """The onset beauty alone with another sampling seed (uint8 sRGB)."""
        spec = dataclasses.replace(inputs.scene, samples=samples, denoise=denoise, seed=seed)
        maps, hair = self.worker.appearance(spec)
        verts = self.worker.rendered_vertices(inputs.geometry, hair)
        attached = {name: states[0] for name, states in self.worker.attached_states(inputs.geometry, spec).items()}
        rgba, _ = self.worker.scene.render_beauty(spec, verts["onset"], attached, maps)
        return final_image(inputs, rgba)


def cache_key(inputs: SampleInputs, samples: int) -> str:
    from render.blender.scene import blender_version  # bpy stays inside render/

    h = hashlib.sha256(json.dumps(inputs.scene.to_json(), sort_keys=True, default=str).encode())
    for s in STATES:
        h.update(np.ascontiguousarray(inputs.geometry[s].vertices, np.float64).tobytes())
    h.update(json.dumps([samples, REFERENCE_TEXTURE, REFERENCE.to_json(), blender_version()]).encode())
    return h.hexdigest()[:20]


def reference(renderer: Renderer, inputs: SampleInputs, cache: Path, with_second_seed: bool,
              samples: int = REFERENCE_SAMPLES) -> dict:
    path = cache / f"reference-{inputs.index:05d}-{cache_key(inputs, samples)}.npz"
    if path.is_file():
        stored = dict(np.load(path))
        if not with_second_seed or "onset_seed2" in stored:
            return stored
    renderer.use(REFERENCE, REFERENCE_TEXTURE)
    t = time.perf_counter()
    ref = renderer.pair(inputs, samples, denoise=False)
    out = {"onset": ref["onset"], "apex": ref["apex"], "mask": ref["mask"]}
    if with_second_seed:
        out["onset_seed2"] = renderer.onset_with_seed(inputs, samples, False, inputs.scene.seed + 1)
    print(f"  reference sample {inputs.index}: {time.perf_counter() - t:.0f} s", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.npz")
    np.savez_compressed(tmp, **out)
    os.replace(tmp, path)
    return out


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """a, b (H, W, 3) uint8; mask (H, W) bool -> PSNR in dB over the masked pixels."""
    mse = np.mean((a[mask].astype(np.float64) - b[mask].astype(np.float64)) ** 2)
    return float(10.0 * np.log10(255.0**2 / max(mse, 1e-12)))


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """a, b (H, W, 3) uint8; mask (H, W) bool -> mean SSIM (Wang et al. 2004, Gaussian window
    sigma 1.5, as scikit-image's gaussian_weights option) over the masked pixels."""
    from skimage.metrics import structural_similarity

    _, full = structural_similarity(a, b, channel_axis=2, data_range=255, gaussian_weights=True,
                                    use_sample_covariance=False, full=True)
    return float(full.mean(axis=2)[mask].mean())


def false_motion(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """DIS flow between two renders of the same geometry: (mean, p95) end-point error (px) over mask."""
    from training.evaluation.baselines import DIS

    epe = np.linalg.norm(DIS().predict(a, b).facial[mask], axis=-1)
    return float(epe.mean()), float(np.percentile(epe, 95))


def measure(renderer: Renderer, candidate: Candidate, plans: list[SampleInputs], refs: list[dict]) -> dict:
    renderer.use(candidate.settings(), candidate.texture_size)
    rows, example = [], None
    for inputs, ref in zip(plans, refs):
        r = renderer.pair(inputs, candidate.samples, candidate.denoise)
        example = r["onset"] if example is None else example
        t = r["timings"]
        pair_seconds = t["total"]
        beauty = t["render_onset_and_data"] + t["render_apex"] - r["data_layer"]
        mask = ref["mask"]
        if os.environ.get("MEFLOW_BENCH_VERBOSE"):
            print(f"    sample {inputs.index}: {pair_seconds:.2f} s {t}", flush=True)
        rows.append({"seconds": pair_seconds, "beauty": beauty, "data_layer": r["data_layer"], "paint": t["appearance"],
                     "rest": pair_seconds - beauty - r["data_layer"] - t["appearance"],
                     "psnr": [psnr(r["onset"], ref["onset"], mask), psnr(r["apex"], ref["apex"], mask)],
                     "ssim": [ssim(r["onset"], ref["onset"], mask), ssim(r["apex"], ref["apex"], mask)]})
        if "onset_seed2" in ref:
            other = renderer.onset_with_seed(inputs, candidate.samples, candidate.denoise, inputs.scene.seed + 1)
            rows[-1]["false_motion"] = false_motion(r["onset"], other, mask)
    out = {key: float(np.mean([row[key] for row in rows])) for key in ("seconds", "beauty", "data_layer", "paint", "rest")}
    psnrs = np.array([row["psnr"] for row in rows])
    ssims = np.array([row["ssim"] for row in rows])
    out.update(psnr=float(psnrs.mean()), psnr_min=float(psnrs.min()), ssim=float(ssims.mean()), ssim_min=float(ssims.min()),
               false_motion=next(row["false_motion"] for row in rows if "false_motion" in row), example=example)
    return out


def within_tolerance(row: dict, allowed_motion: tuple[float, float]) -> bool:
    return (row["psnr"] >= MIN_PSNR_DB and row["ssim"] >= MIN_SSIM
            and row["false_motion"][0] <= allowed_motion[0] and row["false_motion"][1] <= allowed_motion[1])


def allowed_motion(rows: dict[str, dict], reference_motion: tuple[float, float]) -> tuple[float, float]:
    """FALSE_MOTION_SLACK x the former default's false motion when it ran, else the reference's."""
    if GRID[0].name in rows:
        return tuple(FALSE_MOTION_SLACK * m for m in rows[GRID[0].name]["false_motion"])
    return tuple(reference_motion)


def plot(rows: dict[str, dict], cores: int, allowed: tuple[float, float], path: Path) -> None:
    """PSNR and SSIM against core-seconds per pair, one numbered point per setting (green: within
    tolerance), the names in a legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(15, 6.5), dpi=100)
    for ax, key, label, bar in ((axes[0], "psnr", "PSNR over the face (dB)", MIN_PSNR_DB), (axes[1], "ssim", "SSIM over the face", MIN_SSIM)):
        for i, (name, row) in enumerate(rows.items(), start=1):
            ok = within_tolerance(row, allowed)
            ax.scatter(cores * row["seconds"], row[key], s=40, c="tab:green" if ok else "tab:red", zorder=3,
                       label=f"{i}: {name}" if key == "psnr" else None)
            ax.annotate(str(i), (cores * row["seconds"], row[key]), fontsize=8, xytext=(4, 3), textcoords="offset points")
        ax.axhline(bar, color="grey", ls="--", lw=1)
        ax.axvline(13.0, color="grey", ls=":", lw=1)
        ax.set_xlabel(f"core-seconds per 512 x 512 pair ({cores} cores x wall, CPU Cycles); dotted: 13 (200 core-hours for 54,611)")
        ax.set_ylabel(f"{label} vs the 1024-sample reference")
        ax.grid(alpha=0.3)
    fig.legend(loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.suptitle("meflow-v1 render settings, 8 samples: cost vs quality (green: within tolerance, false motion included)")
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def crops(reference_onset: np.ndarray, mask: np.ndarray, shown: dict[str, np.ndarray], path: Path) -> None:
    """Face crops of the first sample's onset: the reference, then each shown setting, with its
    difference to the reference magnified 8x underneath."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ys, xs = np.nonzero(mask)
    cy, cx, half = int(ys.mean()), int(xs.mean()), 96
    window = (slice(max(cy - half, 0), cy + half), slice(max(cx - half, 0), cx + half))
    panels = {"reference (1024 spp)": reference_onset, **shown}
    fig, axes = plt.subplots(2, len(panels), figsize=(3.2 * len(panels), 6.6), dpi=100)
    for col, (name, image) in enumerate(panels.items()):
        axes[0, col].imshow(image[window])
        axes[0, col].set_title(name, fontsize=8)
        diff = np.abs(image[window].astype(np.float32) - reference_onset[window].astype(np.float32)).mean(-1)
        axes[1, col].imshow(np.clip(8 * diff, 0, 255), cmap="magma", vmin=0, vmax=255)
        axes[1, col].set_title("|difference| x 8" if col else "", fontsize=8)
        for ax in axes[:, col]:
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=8, help="samples in the fixed set")
    parser.add_argument("--only", default="", help="candidate names separated by ';' (prefix match); default: the whole grid")
    parser.add_argument("--reference-only", action="store_true", help="render (or load) the references and stop")
    parser.add_argument("--reference-samples", type=int, default=REFERENCE_SAMPLES, help="samples/pixel of the reference")
    parser.add_argument("--cache", type=Path, default=Path("build/render_quality"))
    parser.add_argument("--plot", type=Path, default=Path("docs/render_quality.png"))
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--replot", type=Path, nargs="+", default=None,
                        help="only plot the rows of earlier --json files (later files win) and stop")
    args = parser.parse_args()
    if args.replot:
        saved = [json.loads(p.read_text()) for p in args.replot]
        rows = {name: row for data in saved for name, row in data["rows"].items()}
        plot(rows, saved[-1]["cores"], allowed_motion(rows, saved[-1]["reference_false_motion"]), args.plot)
        print(f"plot: {args.plot} ({len(rows)} settings)")
        return
    cores = os.cpu_count() or 1
    recipe = recipe_variant(texture_size=REFERENCE_TEXTURE)
    renderer = Renderer(recipe)
    indices = pick_samples(renderer.worker, args.pairs)
    plans = [renderer.worker.plan(k) for k in indices]
    print(f"render_quality: {cores} cores, meflow-v1 at {recipe.render.width} x {recipe.render.height}, samples {indices}", flush=True)
    for k, p in zip(indices, plans):
        print(f"  sample {k}: {', '.join(sorted(features(p)))}", flush=True)
    refs = [reference(renderer, p, args.cache, i == 0, args.reference_samples) for i, p in enumerate(plans)]
    reference_motion = false_motion(refs[0]["onset"], refs[0]["onset_seed2"], refs[0]["mask"])
    print(f"reference ({args.reference_samples} spp, no denoising): false motion {reference_motion[0]:.4f} px mean, "
          f"{reference_motion[1]:.4f} px p95", flush=True)
    if args.reference_only:
        return
    wanted = [s.strip() for s in args.only.split(";") if s.strip()]
    grid = [c for c in GRID if not wanted or any(c.name.startswith(w) for w in wanted)]
    rows: dict[str, dict] = {}
    header = f"{'setting':44} {'s/pair':>6} {'core-s':>6} {'beauty':>6} {'data':>5} {'paint':>5} {'rest':>5} " \
             f"{'PSNR':>5} {'min':>5} {'SSIM':>6} {'min':>6} {'FM mean':>7} {'FM p95':>6} ok"
    renderer.use(CyclesSettings(), REFERENCE_TEXTURE)
    renderer.pair(plans[0], 1, False)  # warm-up: Blender's first-render set-up is not a setting's cost
    print(header, flush=True)
    for candidate in grid:
        row = measure(renderer, candidate, plans, refs)
        rows[candidate.name] = row
        print(f"{candidate.name:44} {row['seconds']:6.2f} {cores * row['seconds']:6.1f} {row['beauty']:6.2f} "
              f"{row['data_layer']:5.2f} {row['paint']:5.2f} {row['rest']:5.2f} {row['psnr']:5.1f} {row['psnr_min']:5.1f} "
              f"{row['ssim']:6.4f} {row['ssim_min']:6.4f} {row['false_motion'][0]:7.4f} {row['false_motion'][1]:6.4f} "
              f"{'yes' if within_tolerance(row, allowed_motion(rows, reference_motion)) else 'no'}", flush=True)
    allowed = allowed_motion(rows, reference_motion)
    ok = {name: row for name, row in rows.items() if within_tolerance(row, allowed)}
    best = min(ok, key=lambda name: ok[name]["seconds"]) if ok else None
    if best:
        print(f"cheapest within tolerance (PSNR >= {MIN_PSNR_DB} dB, SSIM >= {MIN_SSIM}, false motion <= "
              f"{allowed[0]:.4f} / {allowed[1]:.4f} px): "
              f"{best}: {cores * ok[best]['seconds']:.1f} core-s per pair", flush=True)
    plot(rows, cores, allowed, args.plot)
    cheapest = min(rows, key=lambda name: rows[name]["seconds"])
    shown = {name: rows[name]["example"] for name in dict.fromkeys([GRID[0].name, best or cheapest, cheapest]) if name in rows}
    crops(refs[0]["onset"], refs[0]["mask"], shown, args.plot.with_name(args.plot.stem + "_crops.png"))
    if args.json:
        table = {name: {k: v for k, v in row.items() if k != "example"} for name, row in rows.items()}
        args.json.write_text(json.dumps({"cores": cores, "samples": indices, "reference_false_motion": reference_motion,
                                         "rows": table}, indent=1))
    print(f"plot: {args.plot}", flush=True)


if __name__ == "__main__":
    main()
