"""`meflow render preview`'s files for one rendered sample: the core files (sample_files), its
meshes as OBJ, colour-wheel flows and the magnified difference."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from shards.flow_pictures import flow_to_rgb, magnified_difference, wheel_legend

from ..synthesis.pair import SampleResult
from .sample_files import write_core_files, write_png

DIFFERENCE_GAIN = 8.0
FLOW_CONVENTION = "forward onset->apex, pixels, u right, v down, at onset pixel centres (x=j, y=i)"


def sample_params(result: SampleResult, provenance: dict) -> dict:
    inputs = result.inputs
    return {
        "sample_id": inputs.sample_id, "index": inputs.index, **provenance,
        "scales": inputs.scales.to_json(), "face": inputs.face.to_json(),
        "states": {name: p.to_json() for name, p in inputs.states.items()},
        "scene": inputs.scene.to_json(),
        "landmarks_onset": result.landmarks_onset.round(4).tolist(),
        "landmarks_apex": result.landmarks_apex.round(4).tolist(),
        "flow_convention": FLOW_CONVENTION,
    }


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
        write_png(folder / file, pictures[name])
    write_png(folder / "difference.png", pictures[f"|apex - onset| x{DIFFERENCE_GAIN:g}"])
    return pictures


def write_wheel_legend(path: Path, size: int = 128) -> Path:
    """The colour of each flow direction and magnitude (centre: no motion; right: red)."""
    write_png(path, wheel_legend(size))
    return path
