"""What a sample's labels say: its emotion (an `emotions` recipe) and the action units that moved
from onset to apex (a head model with the stand-in's named actions). Stored as the shard field
`labels` (JSON); FLAME's PCA expressions give no action units, and the key is then absent."""
from __future__ import annotations

import numpy as np

from facial.action_units import has_standin_actions, sample_action_units
from facial.flame_layout import STATES


def sample_labels(states: dict, emotion: str, expression_names: tuple[str, ...] | None) -> dict:
    """states: {onset, head, apex} FaceParams -> {"emotion": ..., "action_units": [...]}, each key
    only where known."""
    labels: dict = {"emotion": emotion} if emotion else {}
    if has_standin_actions(expression_names):
        stacked = {name: np.stack([getattr(states[s], name) for s in STATES]) for name in ("expression", "jaw", "eyelids")}
        labels["action_units"] = [u.to_json() for u in sample_action_units(**stacked)]
    return labels
