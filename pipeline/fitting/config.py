"""The fitter's settings, apart from the fitter, so the command line can show their defaults
without importing torch."""
from __future__ import annotations

from dataclasses import dataclass

from facial.flame_layout import N_EXPRESSION


@dataclass(frozen=True)
class FitConfig:
    """Iterations, step sizes and prior weights. Residuals are in units of the face size (the RMS
    distance of the target landmarks from their centre), so these do not depend on resolution."""

    rigid_iterations: int = 150  # on the 51 inner points only: cheap
    yaw_hypotheses_deg: tuple = (-45.0, -20.0, 0.0, 20.0, 45.0)
    full_iterations: int = 400
    rigid_lr: float = 0.03
    full_lr: float = 0.02
    n_shape: int = 100  # identity directions fitted; 68 points cannot pin more than this
    n_expression: int = N_EXPRESSION
    robust_scale: float = 0.02  # Lorentzian scale: residuals beyond ~2 % of the face size are damped
    robust_scale_start: float = 0.1  # annealed down to robust_scale over the first half of a stage
    shape_prior: float = 2e-3
    expression_prior: float = 2e-3
    jaw_prior: float = 10.0
    eyelid_prior: float = 10.0
    jaw_max_open: float = 0.6
    jaw_max_side: float = 0.05
    contour_weight: float = 0.5  # the jaw line is the least reliable landmark group
    max_nme: float = 0.08  # fits above this normalised mean error are rejected
