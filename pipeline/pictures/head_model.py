"""Pictures of a head model: neutral / strong expression / posed, and a sheet of named directions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from flame_assets.model import FaceModel

from .mesh_preview import EYE_RGB, SKIN_RGB, save_views

# A strong, readable expression: surprise-smile with an open jaw (stand-in direction names).
STRONG_EXPRESSION = {"brow_inner_raise": 3.0, "brow_outer_raise": 3.0, "upper_lid_raise": 2.0,
                     "cheek_raise": 2.5, "lip_corner_pull": 3.0}
STRONG_JAW_RADIANS = 0.18
POSE_RADIANS = (0.15, 0.45, 0.08)  # pitch, yaw, roll of the posed example
STRONG_FIRST_COMPONENTS = 2.5  # without names (real FLAME), push the first PCA components instead
SHEET_COEFFICIENT = 3.0
SHEET_COLUMNS = 6


def _face_colors(model: FaceModel) -> np.ndarray:
    """Skin colour, eyeballs white (for the stand-in, whose eyeballs are its last two components)."""
    colors = np.tile(SKIN_RGB, (len(model.faces), 1))
    weights = model.assets.weights
    eye = weights[:, 3:].sum(1) > 0.99 if weights.shape[1] >= 5 else np.zeros(len(weights), bool)
    colors[eye[model.faces].all(1)] = EYE_RGB
    return colors


def _expression_vector(model: FaceModel, named: dict[str, float]) -> torch.Tensor:
    e = torch.zeros(1, model.n_expression)
    names = model.assets.expression_names
    if names:
        for name, value in named.items():
            e[0, names.index(name)] = value
    else:
        e[0, :3] = STRONG_FIRST_COMPONENTS
    return e


@torch.no_grad()
def write_overview(model: FaceModel, out: Path) -> Path:
    """neutral, strong expression, posed (front and three-quarter views) with 68 landmarks."""
    expression = _expression_vector(model, STRONG_EXPRESSION)
    jaw = torch.tensor([[STRONG_JAW_RADIANS, 0.0, 0.0]])
    states = {
        "neutral": model(),
        "strong expression": model(expression=expression, jaw=jaw),
        "posed (pitch, yaw, roll)": model(pose=torch.tensor([POSE_RADIANS])),
    }
    meshes = [(title, o.vertices[0].numpy()) for title, o in states.items()]
    landmarks = [o.landmarks[0].numpy() if o.landmarks is not None else None for o in states.values()]
    return save_views(out, meshes, model.faces, yaws=(0.0, 35.0), colors=_face_colors(model), landmarks=landmarks)


@torch.no_grad()
def write_direction_sheet(model: FaceModel, out: Path, count: int = 18) -> Path:
    """One front view per expression direction at +3 units, titled with its name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .mesh_preview import draw_mesh

    count = min(count, model.n_expression)
    names = model.assets.expression_names or [f"expression {k}" for k in range(count)]
    rows = int(np.ceil(count / SHEET_COLUMNS))
    fig, axes = plt.subplots(rows, SHEET_COLUMNS, figsize=(2.2 * SHEET_COLUMNS, 2.6 * rows), squeeze=False)
    colors = _face_colors(model)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= count:
            continue
        e = torch.zeros(1, model.n_expression)
        e[0, k] = SHEET_COEFFICIENT
        v = model(expression=e).vertices[0].numpy()
        draw_mesh(ax, v, model.faces, 0.0, colors)
        ax.set_title(f"{k}: {names[k]}", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100, facecolor="white")
    plt.close(fig)
    return out
