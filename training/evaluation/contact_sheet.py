"""The picture of `meflow eval`: per sample, the onset image, the true expression flow and every
method's expression flow, all coloured on one scale so their magnitudes compare at a glance."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from shards.flow_pictures import flow_to_rgb, wheel_legend
from training.evaluation.evaluate import SHEET_SAMPLES, EvaluationResult, SheetRow

CELL_INCHES = 1.9  # side of one picture
DPI = 110
TITLE_POINTS = 8
MIN_SCALE_PX = 1e-3  # colour scale floor: a sample without expression motion still draws
LEGEND_PX = 128


def sheet_scale(rows: Sequence[SheetRow]) -> float:
    """The largest true expression magnitude (pixels) inside the masks of `rows`: the flow that
    draws fully saturated in every flow picture of the sheet."""
    largest = max(float(np.hypot(*np.moveaxis(np.nan_to_num(r.gt_expression[r.mask]), -1, 0)).max(initial=0.0)) for r in rows)
    return max(largest, MIN_SCALE_PX)


def write_contact_sheet(result_or_rows: EvaluationResult | Sequence[SheetRow], path: Path, n_rows: int = SHEET_SAMPLES) -> Path:
    """Draw the first `n_rows` rows (an EvaluationResult's, or SheetRows) as a PNG at `path`:
    columns onset, GT expression, one per method, and a colour-wheel legend whose rim is the
    common scale. ValueError when there is no row."""
    from matplotlib.figure import Figure  # no pyplot: no global backend, nothing left open

    rows = list(result_or_rows.rows if isinstance(result_or_rows, EvaluationResult) else result_or_rows)[:n_rows]
    if not rows:
        raise ValueError("no evaluated sample to draw: the contact sheet needs at least one row")
    methods = list(rows[0].expressions)
    scale = sheet_scale(rows)
    titles = ["onset", "GT expression", *methods]
    fig = Figure(figsize=(CELL_INCHES * (len(titles) + 1), CELL_INCHES * len(rows)))
    axes = fig.subplots(len(rows), len(titles) + 1, squeeze=False)
    for r, row in enumerate(rows):
        pictures = [row.onset, flow_to_rgb(np.nan_to_num(row.gt_expression), scale),
                    *(flow_to_rgb(np.nan_to_num(row.expressions[m]), scale) for m in methods)]
        for c, picture in enumerate(pictures):
            ax = axes[r][c]
            ax.imshow(picture)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[c], fontsize=TITLE_POINTS)
        axes[r][0].set_ylabel(row.label, fontsize=TITLE_POINTS - 1)
        axes[r][-1].set_axis_off()
    axes[0][-1].imshow(wheel_legend(LEGEND_PX))
    axes[0][-1].set_title(f"direction; rim = {scale:.3g} px", fontsize=TITLE_POINTS)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    return path
