"""Pictures of the instruction builder, as PNG: the 29 regions on a face, the AU report and the
confusion matrix (matplotlib, Agg)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facial.action_units import parse_au_code
from facial.regions import ROI_NAMES, roi_boxes

from .au_report import AuReport
from .labels import DISPLAY
from .scoring import UNPARSED, Score

DPI = 110
FACE_MARGIN = 0.45  # the regions picture shows the landmarks' box grown by this share on each side


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def regions_png(path: Path, panels: list[tuple[str, np.ndarray, np.ndarray]]) -> Path:
    """panels: (title, image (H, W, 3) uint8, landmarks (68, 2) iBUG pixels) -> one PNG with the 29
    ROI boxes numbered on each image and a legend of the numbers."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(4.2 * len(panels) + 3.6, 4.6),
                             gridspec_kw={"width_ratios": [1] * len(panels) + [0.85]})
    colours = plt.get_cmap("tab20")
    for ax, (title, image, landmarks) in zip(axes, panels):
        ax.imshow(image)
        ax.scatter(*np.asarray(landmarks).T, s=3, c="white", edgecolors="none")
        for n, (cx, cy, half) in enumerate(roi_boxes(landmarks, image.shape[0])):
            colour = colours(n % 20)
            ax.add_patch(plt.Rectangle((cx - half - 0.5, cy - half - 0.5), 2 * half + 1, 2 * half + 1,
                                       fill=False, lw=1.0, ec=colour))
            ax.text(cx, cy, str(n + 1), color=colour, fontsize=5.5, ha="center", va="center", fontweight="bold")
        (x0, y0), (x1, y1) = np.min(landmarks, 0), np.max(landmarks, 0)
        pad = FACE_MARGIN * max(x1 - x0, y1 - y0)
        ax.set_xlim(max(-0.5, x0 - pad), min(image.shape[1] - 0.5, x1 + pad))
        ax.set_ylim(min(image.shape[0] - 0.5, y1 + pad), max(-0.5, y0 - pad))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    legend = axes[-1]
    legend.axis("off")
    legend.text(0, 1, "\n".join(f"{n + 1:2d}  {name}" for n, name in enumerate(ROI_NAMES)), fontsize=6.4,
                va="top", family="monospace", transform=legend.transAxes)
    fig.suptitle("MELLM's 29 regions, sized by the inter-ocular distance (\"Left\" = the image's left)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Path(path)


def au_report_png(path: Path, report: AuReport, title: str) -> Path:
    """Heat map of the AU lift per region; the regions each AU is expected to move are boxed."""
    plt = _pyplot()
    short = [name.replace("Eyelid", "lid").replace("Eyebrow", "brow").replace(" (", " ").replace(")", "")
             .replace("Left Side", "L").replace("Right Side", "R").replace("Center", "C") for name in ROI_NAMES]
    fig, ax = plt.subplots(figsize=(12, 0.42 * len(report.codes) + 2.6))
    limit = max(1e-6, float(np.abs(report.lift).max()))
    image = ax.imshow(report.lift, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for a, b in zip(*np.nonzero(report.expected)):
        ax.add_patch(plt.Rectangle((b - 0.5, a - 0.5), 1, 1, fill=False, lw=1.4, ec="black"))
    ax.set_yticks(range(len(report.codes)), [f"{parse_au_code(c).label} ({n})" for c, n in zip(report.codes, report.counts)],
                  fontsize=8)
    ax.set_xticks(range(len(ROI_NAMES)), short, rotation=70, ha="right", fontsize=7)
    fig.colorbar(image, ax=ax, fraction=0.025, pad=0.01, label="normalised mean magnitude: with AU - without")
    ax.set_title(f"{title}: where the prompt sees motion per AU (boxed: the regions the AU acts on). "
                 f"Most-moving region is an AU region in {100 * report.top_in_expected:.1f}% of {report.n_samples} samples",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Path(path)


def confusion_png(path: Path, score: Score, title: str = "") -> Path:
    plt = _pyplot()
    columns = [DISPLAY[c] for c in score.classes] + [UNPARSED]
    fig, ax = plt.subplots(figsize=(1.0 * len(columns) + 2.2, 0.8 * len(score.classes) + 1.8))
    ax.imshow(score.confusion, cmap="Blues")
    for (i, j), n in np.ndenumerate(score.confusion):
        ax.text(j, i, str(n), ha="center", va="center",
                color="white" if n > 0.6 * max(1, score.confusion.max()) else "black", fontsize=9)
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    ax.set_yticks(range(len(score.classes)), [DISPLAY[c] for c in score.classes])
    ax.set_xlabel("predicted (parsed from the summary)")
    ax.set_ylabel("gold")
    ax.set_title(f"{title}ACC {score.accuracy:.3f}  UF1 {score.uf1:.3f}  UAR {score.uar:.3f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Path(path)
