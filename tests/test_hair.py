"""Hanging hair (render.hair): a bob cut to a head hangs clear of it (ears included), grows out
of the scalp, and leaves the face open to a camera in front. Checked by ray casts (trimesh), not
by the envelope the curtain is built from."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from render.hair import COLUMNS, EDGE_CLOSED_ROWS, EDGE_SWEEP_SHARE, LIFT_SHARE, ROWS, bob_cut, curtain_vertices, hair_faces

FACE_LANDMARKS = np.r_[4:13, 17:68]  # the jaw from cheek to cheek, brows, nose, eyes, mouth


@pytest.fixture(scope="module")
def head(standin_model):
    """(vertices (V, 3), landmarks (68, 3)) of the mean stand-in head, its local frame."""
    with torch.no_grad():
        out = standin_model(shape=torch.zeros(1, standin_model.n_shape))
    return out.vertices[0].double().numpy(), out.landmarks[0].double().numpy()


@pytest.fixture(scope="module")
def bob(head):
    vertices, landmarks = head
    cut = bob_cut(vertices, landmarks[8])
    return cut, trimesh.Trimesh(curtain_vertices(vertices, cut), hair_faces(), process=False)


def test_the_curtain_is_one_open_sheet(bob):
    _, mesh = bob
    assert mesh.vertices.shape == (ROWS * COLUMNS, 3) and np.isfinite(mesh.vertices).all()
    assert len(mesh.faces) == 2 * (ROWS - 1) * (COLUMNS - 1)
    assert mesh.area_faces.min() > 0.0  # no degenerate triangle


def test_no_part_of_the_head_pokes_through_the_hair(head, bob):
    """Every head point the curtain passes (below where its edges have swept forward, behind
    them: ears and the back of the skull included) lies inside it: a ray from the point straight
    out from the head's axis meets the hair."""
    vertices, _ = head
    cut, mesh = bob
    top = cut.top_y - EDGE_SWEEP_SHARE * (cut.top_y - cut.bottom_y)
    axis = np.array([0.0, 0.5 * (vertices[vertices[:, 1] > top, 2].max() + vertices[vertices[:, 1] > top, 2].min())])
    out = np.stack([vertices[:, 0] - axis[0], np.zeros(len(vertices)), vertices[:, 2] - axis[1]], -1)
    azimuth = np.degrees(np.arctan2(out[:, 0], out[:, 2]))
    passed = (vertices[:, 1] < top) & (vertices[:, 1] > cut.bottom_y + 0.01) & (np.abs(azimuth) > cut.front_deg + 8.0)
    assert passed.sum() > 500
    ears = passed & (np.abs(vertices[:, 0]) > 0.075)
    assert ears.sum() > 20  # the ears stand out this far and are among the points checked
    directions = out[passed] / np.linalg.norm(out[passed], axis=1, keepdims=True)
    inside = mesh.ray.intersects_any(vertices[passed], directions)
    assert inside.mean() == 1.0, f"{(~inside).sum()} head points outside the hair"


def test_the_face_stays_open_to_a_camera_in_front(head, bob):
    _, landmarks = head
    _, mesh = bob
    forward = np.tile([0.0, 0.0, 1.0], (len(FACE_LANDMARKS), 1))
    assert not mesh.ray.intersects_any(landmarks[FACE_LANDMARKS] + 1e-3 * forward, forward).any()


def test_the_hair_grows_out_of_the_scalp_and_ends_below_the_jaw(head, bob):
    """The top row is inside the head (no edge floats in the air); the ends reach the chin."""
    vertices, landmarks = head
    cut, mesh = bob
    assert trimesh.convex.convex_hull(vertices).contains(mesh.vertices[:COLUMNS]).all()
    assert mesh.vertices[:, 1].min() == pytest.approx(landmarks[8, 1] - 0.005, abs=1e-9)


def test_the_front_edges_lie_on_the_cheeks(head, bob, standin_assets):
    """Between the scalp and the jaw the curtain's front edges end on the skin: a gap there is in
    shadow and reads as a black line down each side of the face."""
    vertices, _ = head
    _, mesh = bob
    grid = mesh.vertices.reshape(ROWS, COLUMNS, 3)
    rows = np.arange(ROWS) / (ROWS - 1)
    between = (rows > LIFT_SHARE) & (rows < EDGE_CLOSED_ROWS[0])
    edges = grid[between][:, [0, -1]].reshape(-1, 3)
    query = trimesh.proximity.ProximityQuery(trimesh.Trimesh(vertices, standin_assets.faces, process=False))
    _, distance, _ = query.on_surface(edges)
    assert len(edges) > 30 and distance.max() < 2e-3, distance.max()
