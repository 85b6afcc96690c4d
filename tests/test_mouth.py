"""The inside of the mouth (render.mouth): closed outward teeth, placed behind the lips so that
closed lips hide them and an open jaw shows them, moved rigidly (upper with the head, lower with
the jaw). Pure numpy and trimesh; the Cycles side is in test_render_pairs."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from render.mouth import GUMS, TEETH, TONGUE, mouth_local, place_mouth
from render.rigid import rigid_fit


@pytest.fixture(scope="module")
def model(standin_assets, meflow_cache):
    from flame_assets.model import FaceModel

    return FaceModel(standin_assets, cache_dir=meflow_cache)


def _states(model, jaw_radians: float, head_pose: np.ndarray = np.zeros(3)):
    from pipeline.synthesis.face_params import FaceParams
    from pipeline.synthesis.meshes import evaluate_states

    face = FaceParams(shape=np.zeros(model.n_shape), expression=np.zeros(50), jaw=np.array([jaw_radians, 0.0, 0.0]),
                      pose=head_pose, eyelids=np.zeros(2))
    return evaluate_states(model, {"onset": face})["onset"]


def _seen_from_the_front(skin: np.ndarray, faces: np.ndarray, mouth: np.ndarray, mouth_faces: np.ndarray) -> np.ndarray:
    """Indices of the mouth vertices that a ray cast straight back at them sees before any skin."""
    vertices = np.concatenate([skin, mouth])
    mesh = trimesh.Trimesh(vertices, np.concatenate([faces, mouth_faces + len(skin)]), process=False)
    origins = mouth + np.array([0.0, 0.0, 1.0])
    _, ray, tri = mesh.ray.intersects_location(origins, np.tile([0.0, 0.0, -1.0], (len(mouth), 1)), multiple_hits=False)
    return ray[tri >= len(faces)]


def test_parts_are_closed_outward_meshes():
    mesh = mouth_local()
    assert set(np.unique(mesh.part)) == {TEETH, GUMS, TONGUE}
    for part in (TEETH, TONGUE):
        solid = trimesh.Trimesh(mesh.vertices, mesh.faces[mesh.part == part], process=False)
        assert solid.volume > 0  # outward normals: Cycles shades the outside
    # Every tooth is a closed surface: each edge is shared by exactly two of its faces.
    edges = np.sort(mesh.faces[mesh.part == TEETH][:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert np.all(counts == 2)
    # The lower arch, its gums and the tongue move with the jaw; the upper arch does not.
    tongue_vertices = np.unique(mesh.faces[mesh.part == TONGUE])
    assert mesh.lower[tongue_vertices].all() and 0.3 < mesh.lower.mean() < 0.7


def test_closed_lips_hide_the_teeth_and_an_open_jaw_shows_them(model):
    mesh = mouth_local()
    closed, opened = _states(model, 0.0), _states(model, 0.2)
    faces = model.faces
    hidden = place_mouth(mesh.vertices, closed.landmarks, closed.rotation)
    shown = place_mouth(mesh.vertices, opened.landmarks, opened.rotation)
    # The stand-in's neutral lips leave a 0.3 mm line open (less than a pixel at 512 x 512):
    # only what lies right behind that line (within a millimetre of it) can be seen.
    seen = _seen_from_the_front(closed.vertices, faces, hidden, mesh.faces)
    lip_line = closed.landmarks[[62, 66], 1]
    assert np.all(hidden[seen, 1] > lip_line.min() - 0.001) and np.all(hidden[seen, 1] < lip_line.max() + 0.001)
    assert len(_seen_from_the_front(opened.vertices, faces, shown, mesh.faces)) > 500
    # Nothing pokes out of the cheeks: seen from the side, the head hides the whole mouth.
    for side in (1.0, -1.0):
        vertices = np.concatenate([opened.vertices, shown])
        solid = trimesh.Trimesh(vertices, np.concatenate([faces, mesh.faces + len(opened.vertices)]), process=False)
        origins = shown + np.array([side, 0.0, 0.0])
        _, _, tri = solid.ray.intersects_location(origins, np.tile([-side, 0.0, 0.0], (len(shown), 1)), multiple_hits=False)
        assert (tri >= len(faces)).sum() == 0


def test_the_mouth_turns_with_the_head(model):
    mesh = mouth_local()
    still, turned = _states(model, 0.0), _states(model, 0.0, np.array([0.1, 0.3, 0.0]))
    a = place_mouth(mesh.vertices, still.landmarks, still.rotation)
    b = place_mouth(mesh.vertices, turned.landmarks, turned.rotation)
    rotation, _ = rigid_fit(a, b)
    relative = Rotation.from_matrix(rotation) * Rotation.from_rotvec([0.1, 0.3, 0.0]).inv()
    assert relative.magnitude() < 0.01  # radians: placed in the head's frame, not the camera's


def test_rigid_fit_recovers_a_motion():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(30, 3))
    rotation = Rotation.from_rotvec([0.2, -0.1, 0.05]).as_matrix()
    moved = points @ rotation.T + np.array([0.01, -0.02, 0.03])
    r, t = rigid_fit(points, moved)
    np.testing.assert_allclose(r, rotation, atol=1e-12)
    np.testing.assert_allclose(points @ r.T + t, moved, atol=1e-12)
