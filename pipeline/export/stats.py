"""`meflow dataset stats`: flow magnitudes overall and per facial region, the sampled scales
against the recipe, and a contact sheet, as PNG plots."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facial.flame_layout import SCALE_SYMBOLS
from facial.regions import COARSE_REGIONS, coarse_region_masks
from shards.flow_pictures import flow_to_rgb
from shards.flows import expression_flow
from shards.layout import DatasetDir

from ..synthesis.recipe import parse_recipe

MAX_SAMPLES = 300
SHEET_ROWS = 6
FLOWS = ("facial", "head", "expression")


def collect(root: Path, max_samples: int = MAX_SAMPLES) -> dict:
    layout = DatasetDir(root)
    readers = layout.readers()
    positions = [(s, i) for s, r in readers.items() for i in range(len(r))]
    pick = np.linspace(0, len(positions) - 1, min(max_samples, len(positions))).round().astype(int) if positions else []
    magnitudes = {f: [] for f in FLOWS}
    by_region = {f: {r: [] for r in COARSE_REGIONS} for f in FLOWS}
    sheet = []
    for n, p in enumerate(pick):
        s, i = positions[p]
        x = readers[s].read(i)
        flows = {"facial": x["flow_facial"], "head": x["flow_head"], "expression": expression_flow(x["flow_facial"], x["flow_head"])}
        mask = x["mask"]
        regions = coarse_region_masks(x["landmarks_onset"], *mask.shape)
        for f, flow in flows.items():
            mag = np.hypot(flow[..., 0], flow[..., 1])
            magnitudes[f].append(mag[mask])
            for r, m in regions.items():
                by_region[f][r].append(mag[m & mask])
        if n < SHEET_ROWS:
            scale = max(float(np.abs(x["flow_facial"]).max()), 1e-6)
            sheet.append((x["onset"], x["apex"], flow_to_rgb(flows["facial"], scale), flow_to_rgb(flows["expression"])))
    scales = np.concatenate([r.column("scales") for r in readers.values()]) if readers else np.zeros((0, len(SCALE_SYMBOLS)))
    return {"meta": layout.metadata(), "magnitudes": {f: np.concatenate(v) if v else np.zeros(0) for f, v in magnitudes.items()},
            "by_region": {f: {r: np.concatenate(v) if v else np.zeros(0) for r, v in d.items()} for f, d in by_region.items()},
            "scales": scales, "sheet": sheet, "samples": len(pick)}


def write_plots(data: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = []

    def save(fig, name: str) -> None:
        fig.tight_layout()
        paths.append(out / name)
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    for ax, f in zip(axes, FLOWS):
        m = data["magnitudes"][f]
        ax.hist(m, bins=60, log=True, color="#4a6d8c")
        ax.set_title(f"{f} flow, foreground pixels (p99 {np.percentile(m, 99) if m.size else 0:.3f} px)", fontsize=9)
        ax.set_xlabel("magnitude (px)")
    save(fig, "flow_magnitudes.png")

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    for ax, f in zip(axes, FLOWS):
        values = [data["by_region"][f][r] for r in COARSE_REGIONS]
        ax.boxplot([v if v.size else np.zeros(1) for v in values], showfliers=False)
        ax.set_xticks(range(1, len(COARSE_REGIONS) + 1), list(COARSE_REGIONS), fontsize=8)
        ax.set_title(f"{f} flow by facial region", fontsize=9)
        ax.set_ylabel("magnitude (px)")
    save(fig, "flow_by_region.png")

    recipe = parse_recipe(data["meta"]["recipe"]["text"], data["meta"]["recipe"]["file"])
    sch = recipe.schedule
    s = data["scales"]
    series = [s[:, 0], s[:, 1], s[:, 2] - s[:, 0], s[:, 3] - s[:, 1]]
    dists = [sch.onset_expression, sch.onset_pose, sch.apex_expression_increment, sch.apex_pose_increment]
    on_e, on_p, apex_e, apex_p = SCALE_SYMBOLS
    titles = [on_e, on_p, f"d_e = {apex_e} - {on_e}", f"d_p = {apex_p} - {on_p}"]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    for ax, values, dist, title in zip(axes, series, dists, titles):
        ax.hist(values, bins=30, density=True, color="#c68a64", alpha=0.8, label=f"dataset (n={len(values)})")
        for lo, hi, p in zip(dist.edges[:-1], dist.edges[1:], dist.probabilities):
            ax.hlines(p / (hi - lo), lo, hi, color="k", lw=2, label="recipe" if lo == dist.edges[0] else None)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    save(fig, "scales_vs_recipe.png")

    if data["sheet"]:
        rows = [np.concatenate(r, 1) for r in data["sheet"]]
        cv2.imwrite(str(out / "contact_sheet.png"), np.concatenate(rows, 0)[..., ::-1])
        paths.append(out / "contact_sheet.png")
    return paths
