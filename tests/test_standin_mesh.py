"""The generator's mesh math: Catmull-Clark subdivision of the human head and the heat low-pass of
its identity targets behave as the textbook operations do, whatever the mesh's resolution."""
from __future__ import annotations

import numpy as np

from flame_assets.standin.mesh import catmull_clark, diffuse, quad_triangles


def _plane(n: int, size: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """A flat n x n vertex grid of quads, size metres across, in z = 0."""
    u = np.linspace(-size / 2, size / 2, n)
    x, y = np.meshgrid(u, u, indexing="ij")
    vertices = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], 1)
    index = np.arange(n * n).reshape(n, n)
    quads = np.stack([index[:-1, :-1], index[1:, :-1], index[1:, 1:], index[:-1, 1:]], -1).reshape(-1, 4)
    return vertices, quads


def test_catmull_clark_rounds_a_cube_and_keeps_a_plane_flat():
    cube = np.array([[x, y, z] for x in (0.0, 1.0) for y in (0.0, 1.0) for z in (0.0, 1.0)])
    quads = np.array([[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]])
    weights, finer = catmull_clark(quads, len(cube))
    assert weights.shape == (8 + 12 + 6, 8) and finer.shape == (24, 4)
    np.testing.assert_allclose(np.asarray(weights.sum(axis=1)).ravel(), 1.0)  # affine: fields move with the mesh
    points = weights @ cube
    np.testing.assert_allclose(points[0], [2 / 9] * 3)  # a valence-3 corner: (Q + 2R) / 3
    np.testing.assert_allclose(points.mean(0), [0.5] * 3)  # symmetric about the centre
    plane, quads = _plane(5)
    weights, finer = catmull_clark(quads, len(plane))
    points = weights @ plane
    assert np.abs(points[:, 2]).max() == 0.0
    edge = np.isclose(plane[:, 0], -0.05) & ~np.isclose(np.abs(plane[:, 1]), 0.05)  # one side, corners apart
    np.testing.assert_allclose(points[: len(plane)][edge, 0], -0.05)  # the open boundary stays on its line


def test_diffuse_keeps_constants_and_spreads_by_its_radius_at_any_resolution():
    widths = []
    for n in (41, 81):
        vertices, quads = _plane(n)
        faces = quad_triangles(quads)
        np.testing.assert_allclose(diffuse(vertices, faces, np.full(len(vertices), 2.0), 0.01), 2.0)
        spike = np.zeros(len(vertices))
        centre = np.argmin(np.linalg.norm(vertices, axis=1))
        spike[centre] = 1.0
        spread = diffuse(vertices, faces, spike, 0.01)
        spread /= spread.sum()
        widths.append(np.sqrt(np.sum(spread * np.sum(vertices[:, :2] ** 2, axis=1)) / 2.0))  # sigma per axis
    # About `radius` either way (9.9 mm measured), and the same on a mesh twice as fine.
    assert 0.008 < widths[0] < 0.012 and abs(widths[1] - widths[0]) < 0.1 * widths[0]
