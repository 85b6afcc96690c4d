"""FLAME parameters of one face, the random source, and the three states of eq. 1-3."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from facial.action_units import JAW_AU, JAW_RADIANS_PER_UNIT, has_standin_actions, standin_direction_index
from facial.demographics import Demographic, corner_weights
from facial.flame_layout import N_EXPRESSION, N_SHAPE, STATES

from .recipe import OTHERS, Emotions, Source
from .schedule import Scales

EYELID_ASYMMETRY = 0.1  # the two lids close by nearly, not exactly, the same amount


@dataclass(frozen=True)
class FaceParams:
    """shape (300,), expression (50,), jaw (3,), pose (3,) global head rotation, eyelids (2,):
    the fields of facial.flame_layout.FACE_PARAMS, by name."""

    shape: np.ndarray
    expression: np.ndarray
    jaw: np.ndarray
    pose: np.ndarray
    eyelids: np.ndarray

    def to_json(self) -> dict:
        return {k: np.asarray(getattr(self, k)).round(8).tolist() for k in self.__dataclass_fields__}


def random_face(source: Source, n_shape: int, expression_names: tuple[str, ...] | None,
                rng: np.random.Generator) -> FaceParams:
    """An identity from the shape prior and a full expression and head pose. With named
    directions (the stand-in) the expression is a few facial actions; with FLAME's unnamed PCA,
    Gaussian coefficients on its first components."""
    shape = np.zeros(N_SHAPE)
    shape[:n_shape] = rng.normal(0.0, source.shape_std, n_shape)
    expression = np.zeros(N_EXPRESSION)
    if expression_names:
        count = int(rng.integers(source.actions_per_sample[0], source.actions_per_sample[1] + 1))
        usable = [i for i, name in enumerate(expression_names[:N_EXPRESSION]) if name != "jaw_drop"]
        chosen = rng.choice(usable, size=min(count, len(usable)), replace=False)
        expression[chosen] = rng.uniform(*source.action_strength, size=len(chosen))
    else:
        k = source.pca_expression_components
        expression[:k] = rng.normal(0.0, source.pca_expression_std, k)
    opens = rng.random() < source.jaw_open_probability
    jaw = np.array([rng.uniform(0.0, source.jaw_open_max) if opens else 0.0, 0.0, 0.0])
    lid = rng.uniform(0.0, source.eyelid_max)
    eyelids = np.clip(lid + rng.uniform(-EYELID_ASYMMETRY, EYELID_ASYMMETRY, 2) * lid, 0.0, 1.0)
    pose = np.deg2rad(rng.normal(0.0, source.head_pose_std_deg))
    return FaceParams(shape=shape, expression=expression, jaw=jaw, pose=pose, eyelids=eyelids)


def with_demographic(face: FaceParams, person: Demographic, index: np.ndarray, full: np.ndarray) -> FaceParams:
    """The face with its demographic corners' coefficients (shape directions index (12,), of which
    full (12,) applies each whole corner) set to the person's convex mix of them: a man or a woman
    of an ancestry and age rather than independent draws, which cancel into the androgynous base."""
    shape = np.array(face.shape, dtype=np.float64)
    shape[index] = corner_weights(person) * full
    return replace(face, shape=shape)


MAX_OTHERS_DRAWS = 100  # an "others" draw that equals a prototype is drawn again, at most this often


def emotion_face(source: Source, n_shape: int, expression_names: tuple[str, ...] | None,
                 rng: np.random.Generator) -> tuple[FaceParams, str]:
    """An identity from the shape prior, an emotion drawn by the recipe's weights, and a full
    expression made of its prototype's action units (each `action_strength` units; AU26 opens
    the jaw), no eyelid closure, and a random head pose -> (face, emotion name). Needs the
    stand-in's named actions: FLAME's PCA expressions have no action units."""
    if not has_standin_actions(expression_names):
        raise ValueError("an 'emotions' recipe needs the stand-in head's named actions; FLAME's PCA expressions carry "
                         "no action units: build it with the stand-in (unset the FLAME files) or use expression = 'actions'")
    emotions: Emotions = source.emotions
    shape = np.zeros(N_SHAPE)
    shape[:n_shape] = rng.normal(0.0, source.shape_std, n_shape)
    weights = np.array([p.weight for p in emotions.prototypes])
    prototype = emotions.prototypes[int(rng.choice(len(weights), p=weights / weights.sum()))]
    units = prototype.action_units if prototype.name != OTHERS else _others(emotions, rng)
    expression, jaw = np.zeros(N_EXPRESSION), np.zeros(3)
    for unit, strength in zip(units, rng.uniform(*source.action_strength, size=len(units))):
        if unit.number == JAW_AU:
            jaw[0] = strength * JAW_RADIANS_PER_UNIT
        else:
            expression[standin_direction_index(unit.number, unit.side)] += strength
    pose = np.deg2rad(rng.normal(0.0, source.head_pose_std_deg))
    face = FaceParams(shape=shape, expression=expression, jaw=jaw, pose=pose, eyelids=np.zeros(2))
    return face, prototype.name


def _others(emotions: Emotions, rng: np.random.Generator) -> tuple:
    """Actions from the pool whose set of AUs is no prototype's."""
    prototypes = {frozenset(u.number for u in p.action_units) for p in emotions.prototypes if p.name != OTHERS}
    for _ in range(MAX_OTHERS_DRAWS):
        count = int(rng.integers(emotions.others_count[0], emotions.others_count[1] + 1))
        picks = rng.choice(len(emotions.others_pool), size=min(count, len(emotions.others_pool)), replace=False)
        units = tuple(emotions.others_pool[i] for i in sorted(picks))
        if frozenset(u.number for u in units) not in prototypes:
            return units
    raise ValueError("[emotions] others_pool only draws prototype combinations: widen the pool")


def scale_state(face: FaceParams, s_expression: float, s_pose: float) -> FaceParams:
    """Expression-related parameters (jaw, expression, eyelids) scale with s^e, head pose with
    s^p; shape is never scaled (paper eq. 1-3)."""
    return replace(face, expression=s_expression * face.expression, jaw=s_expression * face.jaw,
                   eyelids=s_expression * face.eyelids, pose=s_pose * face.pose)


def three_states(face: FaceParams, scales: Scales) -> dict[str, FaceParams]:
    """onset (eq. 1), head: onset expression with apex head pose (eq. 2), apex (eq. 3), keyed by
    facial.flame_layout.STATES."""
    return dict(zip(STATES, (
        scale_state(face, scales.onset_expression, scales.onset_pose),
        scale_state(face, scales.onset_expression, scales.apex_pose),
        scale_state(face, scales.apex_expression, scales.apex_pose),
    )))
