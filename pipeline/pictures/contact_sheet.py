"""Contact sheets: rows of titled pictures in one PNG."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def contact_sheet(rows: list[tuple[str, dict[str, np.ndarray]]], path: Path) -> Path:
    """One row per sample, one column per picture, titled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = list(rows[0][1])
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(1.9 * len(columns), 2.0 * len(rows)), squeeze=False)
    for r, (label, pictures) in enumerate(rows):
        for c, name in enumerate(columns):
            ax = axes[r][c]
            ax.imshow(pictures[name])
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
