"""Scaling schedule of the paper (eq. 1-3): onset and apex scales for expression and head pose."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from facial.flame_layout import SCALE_NAMES

from .recipe import Schedule


@dataclass(frozen=True)
class Scales:
    """s_on^e, s_on^p, s_apex^e = s_on^e + d_e, s_apex^p = s_on^p + d_p."""

    onset_expression: float
    onset_pose: float
    apex_expression: float
    apex_pose: float

    def to_json(self) -> dict:
        return asdict(self)

    def as_array(self) -> np.ndarray:
        """(4,) in the stored order, facial.flame_layout.SCALE_NAMES."""
        return np.array([getattr(self, name) for name in SCALE_NAMES])


def sample_scales(schedule: Schedule, rng: np.random.Generator) -> Scales:
    s_on_e = schedule.onset_expression.sample(rng)
    s_on_p = schedule.onset_pose.sample(rng)
    return Scales(
        onset_expression=s_on_e, onset_pose=s_on_p,
        apex_expression=s_on_e + schedule.apex_expression_increment.sample(rng),
        apex_pose=s_on_p + schedule.apex_pose_increment.sample(rng),
    )
