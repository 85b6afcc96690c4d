"""Turn a rendered sample into a shard record (the schema's fields)."""
from __future__ import annotations

import json

import numpy as np

from facial.flame_layout import STATES

from ..synthesis.pair import SampleResult


def sample_record(result: SampleResult) -> dict:
    inputs = result.inputs
    states = [inputs.states[s] for s in STATES]
    scene = inputs.scene
    camera = result.camera
    return {
        "onset": result.onset, "apex": result.apex,
        "flow_facial": result.flow_facial, "flow_head": result.flow_head, "mask": result.mask,
        "landmarks_onset": result.landmarks_onset, "landmarks_apex": result.landmarks_apex,
        "shape": inputs.face.shape,
        "expression": np.stack([s.expression for s in states]), "jaw": np.stack([s.jaw for s in states]),
        "pose": np.stack([s.pose for s in states]), "eyelids": np.stack([s.eyelids for s in states]),
        "scales": inputs.scales.as_array(),
        "camera": np.asarray(scene.world_from_camera),
        "intrinsics": np.array([camera.focal_px, *camera.principal_point]),
        "sample_index": np.int64(inputs.index),
        "source_id": inputs.source_id,
        "scene": json.dumps(scene.to_json()),
        "labels": json.dumps(inputs.labels),
    }
