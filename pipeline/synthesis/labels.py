"""What a sample's labels say: its emotion (an `emotions` recipe) and the action units that moved
from onset to apex (a head model with the stand-in's named actions). Stored as the shard field
`labels` (JSON); FLAME's PCA expressions give no action units, and the key is then absent; the
subject (sex, ancestry, age) is there when the person shaped the head."""
from __future__ import annotations

import numpy as np

from facial.action_units import has_standin_actions, sample_action_units
from facial.demographics import Demographic
from facial.flame_layout import STATES


def sample_labels(states: dict, emotion: str, expression_names: tuple[str, ...] | None,
                  person: Demographic | None = None) -> dict:
    """states: {onset, head, apex} FaceParams -> {"emotion": ..., "action_units": [...],
    "subject": {sex, masculinity, ancestry, age}}, each key only where known (subject: the
    person a random head was shaped as)."""
    labels: dict = {"emotion": emotion} if emotion else {}
    if person is not None:
        labels["subject"] = person.to_json()
    if has_standin_actions(expression_names):
        stacked = {name: np.stack([getattr(states[s], name) for s in STATES]) for name in ("expression", "jaw", "eyelids")}
        labels["action_units"] = [u.to_json() for u in sample_action_units(**stacked)]
    return labels
