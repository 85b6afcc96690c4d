"""Write one rendered sample as files: the layout `meflow render preview` and the dataset's flo
export share: <dir>/<sample_id>/{onset.png, apex.png, flow_facial.flo, flow_head.flo, mask.png,
params.json}, plus pictures and meshes for previews."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from .flow_io import write_flo
from .flow_viz import flow_to_rgb, magnified_difference, wheel_legend
from .pair import SampleResult

DIFFERENCE_GAIN = 8.0


def _png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), rgb[..., ::-1] if rgb.ndim == 3 else rgb):
        raise OSError(f"cannot write {path}")


def sample_params(result: SampleResult, provenance: dict) -> dict:
    inputs = result.inputs
    return {
        "sample_id": inputs.sample_id, "index": inputs.index, **provenance,
        "scales": inputs.scales.to_json(), "face": inputs.face.to_json(),
        "states": {name: p.to_json() for name, p in inputs.states.items()},
        "scene": inputs.scene.to_json(),
        "landmarks_onset": result.landmarks_onset.round(4).tolist(),
        "landmarks_apex": result.landmarks_apex.round(4).tolist(),
        "flow_convention": "forward onset->apex, pixels, u right, v down, at onset pixel centres (x=j, y=i)",
    }


def write_core_files(folder: Path, onset, apex, flow_facial, flow_head, mask, params: dict) -> Path:
    """<folder>/{onset.png, apex.png, flow_facial.flo, flow_head.flo, mask.png, params.json}."""
    folder.mkdir(parents=True, exist_ok=True)
    _png(folder / "onset.png", onset)
    _png(folder / "apex.png", apex)
    write_flo(folder / "flow_facial.flo", flow_facial)
    write_flo(folder / "flow_head.flo", flow_head)
    _png(folder / "mask.png", np.asarray(mask).astype(np.uint8) * 255)
    (folder / "params.json").write_text(json.dumps(params, indent=1))
    return folder


def write_sample(result: SampleResult, out: Path, provenance: dict) -> Path:
    """The core files of one rendered sample (the layout a dataset's flo export has too)."""
    return write_core_files(out / result.inputs.sample_id, result.onset, result.apex, result.flow_facial,
                            result.flow_head, result.mask, sample_params(result, provenance))


def write_preview_extras(result: SampleResult, folder: Path, faces: np.ndarray) -> dict[str, np.ndarray]:
    """Meshes as OBJ, colour-wheel flows (one shared scale per sample), the magnified difference.
    Returns the pictures for the contact sheet."""
    import trimesh

    for state, geometry in result.inputs.geometry.items():
        trimesh.Trimesh(geometry.vertices, faces, process=False).export(folder / f"mesh_{state}.obj")
    scale = max(float(np.abs(result.flow_facial).max()), 1e-6)
    pictures = {
        "onset": result.onset, "apex": result.apex,
        "facial flow": flow_to_rgb(result.flow_facial, scale),
        "head flow": flow_to_rgb(result.flow_head, scale),
        "expression flow": flow_to_rgb(result.flow_expression, max(float(np.abs(result.flow_expression).max()), 1e-6)),
        f"|apex - onset| x{DIFFERENCE_GAIN:g}": magnified_difference(result.onset, result.apex, DIFFERENCE_GAIN),
    }
    for name, file in (("facial flow", "flow_facial.png"), ("head flow", "flow_head.png"),
                       ("expression flow", "flow_expression.png")):
        _png(folder / file, pictures[name])
    _png(folder / "difference.png", pictures[f"|apex - onset| x{DIFFERENCE_GAIN:g}"])
    return pictures


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


def write_wheel_legend(path: Path, size: int = 128) -> Path:
    """The colour of each flow direction and magnitude (centre: no motion; right: red)."""
    _png(path, wheel_legend(size))
    return path
