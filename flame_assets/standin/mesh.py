"""Triangle-mesh math the stand-in's generator shares: vertex normals, barycentric weights and
Phong tessellation, on numpy arrays."""
from __future__ import annotations

import numpy as np

MIN_EDGE = 1e-6  # metres: coincident vertices (a grid's collapsed rows) are no one's neighbours in diffuse()
PHONG_SHAPE = 0.75  # Boubekeur and Alexa's alpha: how far the surface bulges towards the vertex normals' planes


def phong_point(weights: np.ndarray, corners: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """(V, 3) points of the Phong-tessellated triangles at barycentric weights (V, 3); corners
    and unit vertex normals (V, 3, 3)."""
    flat = np.einsum("vc,vcd->vd", weights, corners)
    offset = flat[:, None] - corners
    on_planes = flat[:, None] - np.einsum("vcd,vcd->vc", offset, normals)[..., None] * normals
    return (1.0 - PHONG_SHAPE) * flat + PHONG_SHAPE * np.einsum("vc,vcd->vd", weights, on_planes)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) area-weighted unit vertex normals."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(vertices)
    for c in range(3):
        np.add.at(vn, faces[:, c], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def barycentric(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """points (V, 3) in the planes of triangles corners (V, 3, 3) -> (V, 3) weights summing to 1."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    v0, v1, v2 = b - a, c - a, points - a
    d00, d01, d11 = (np.einsum("ij,ij->i", p, q) for p, q in ((v0, v0), (v0, v1), (v1, v1)))
    d20, d21 = np.einsum("ij,ij->i", v2, v0), np.einsum("ij,ij->i", v2, v1)
    denom = np.where(np.abs(d00 * d11 - d01**2) > 1e-30, d00 * d11 - d01**2, 1.0)
    w1, w2 = (d11 * d20 - d01 * d21) / denom, (d00 * d21 - d01 * d20) / denom
    return np.stack([1.0 - w1 - w2, w1, w2], 1)


def quad_triangles(quads: np.ndarray) -> np.ndarray:
    """(F, 4) quads -> (2 F, 3) triangles, each quad split along its 0-2 diagonal."""
    return np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])


def diffuse(vertices: np.ndarray, faces: np.ndarray, field: np.ndarray, radius: float) -> np.ndarray:
    """field (V, ...) over a triangle mesh's vertices (V, 3), faces (F, 3) -> the same low-passed
    over about `radius` metres of surface: one implicit heat step, (I + t L) out = field, with L
    the graph Laplacian weighted by 1 / edge length^2 (so the result does not depend on how
    finely a region is meshed) and t = radius^2 / 3 (a triangle lattice's Laplacian is 1.5 x the
    continuous one, and a heat kernel after time t has sigma^2 = 2 t)."""
    import scipy.sparse
    import scipy.sparse.linalg

    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    length2 = np.sum((vertices[edges[:, 0]] - vertices[edges[:, 1]]) ** 2, axis=1)
    weight = np.where(length2 > MIN_EDGE**2, 1.0 / np.maximum(length2, MIN_EDGE**2), 0.0)
    n = len(vertices)
    w = scipy.sparse.coo_matrix((np.concatenate([weight, weight]), (np.concatenate([edges[:, 0], edges[:, 1]]),
                                 np.concatenate([edges[:, 1], edges[:, 0]]))), shape=(n, n)).tocsr()
    laplacian = scipy.sparse.diags(np.asarray(w.sum(axis=1)).ravel()) - w
    solve = scipy.sparse.linalg.factorized((scipy.sparse.eye(n) + radius**2 / 3.0 * laplacian).tocsc())
    flat = field.reshape(n, -1)
    return np.stack([solve(flat[:, k]) for k in range(flat.shape[1])], 1).reshape(field.shape)


def catmull_clark(quads: np.ndarray, n_vertices: int):
    """One Catmull-Clark step on a quad mesh with vertices 0..n_vertices-1 and quads (F, 4) ->
    (S, new_quads): S the sparse (n_vertices + E + F, n_vertices) weights that give the new
    vertices (the old ones moved, then one per edge, then one per face) from the old, new_quads
    (4 F, 4). Open edges follow the boundary rule (the boundary curve is a cubic B-spline), a
    vertex on more or fewer than two open edges stays put. Linear in the vertices, so the same S
    carries any field over them (a target's displacement) onto the finer mesh."""
    import scipy.sparse

    n_faces = len(quads)
    half = np.stack([quads, np.roll(quads, -1, axis=1)], -1).reshape(-1, 2)  # quad f's k-th edge: q[k] -> q[k+1]
    edges, edge_of = np.unique(np.sort(half, axis=1), axis=0, return_inverse=True)
    edge_of = edge_of.ravel()
    n_edges = len(edges)

    def matrix(rows, cols, values, shape):
        return scipy.sparse.coo_matrix((np.broadcast_to(values, np.shape(rows)).ravel(), (np.ravel(rows), np.ravel(cols))),
                                       shape=shape).tocsr()

    face_points = matrix(np.repeat(np.arange(n_faces), 4), quads, 0.25, (n_faces, n_vertices))
    midpoints = matrix(np.repeat(np.arange(n_edges), 2), edges, 0.5, (n_edges, n_vertices))
    edge_faces = matrix(edge_of, np.repeat(np.arange(n_faces), 4), 1.0, (n_edges, n_faces))
    open_edge = np.asarray(edge_faces.sum(axis=1)).ravel() == 1
    inner = scipy.sparse.diags((~open_edge).astype(float))
    edge_points = inner @ (0.5 * midpoints + 0.25 * edge_faces @ face_points) + scipy.sparse.diags(open_edge.astype(float)) @ midpoints

    vertex_edges = matrix(edges, np.repeat(np.arange(n_edges)[:, None], 2, axis=1), 1.0, (n_vertices, n_edges))
    vertex_faces = matrix(quads, np.repeat(np.arange(n_faces), 4).reshape(-1, 4), 1.0, (n_vertices, n_faces))
    valence = np.asarray(vertex_edges.sum(axis=1)).ravel()
    n_open = vertex_edges @ open_edge.astype(float)
    n_face = np.asarray(vertex_faces.sum(axis=1)).ravel()
    interior = (n_open == 0) & (valence >= 3)
    on_curve = n_open == 2
    safe = np.maximum(valence, 1)
    # Interior: (Q + 2 R + (n - 3) P) / n with Q, R the means of the faces' and edges' midpoints.
    q = scipy.sparse.diags(1.0 / np.maximum(n_face, 1)) @ vertex_faces @ face_points
    r = scipy.sparse.diags(1.0 / safe) @ vertex_edges @ midpoints
    moved_inner = scipy.sparse.diags(1.0 / safe) @ (q + 2.0 * r) + scipy.sparse.diags((valence - 3.0) / safe)
    # On the boundary: P / 2 + (sum of its two open edges' midpoints) / 4 = 3/4 P + 1/8 (each neighbour).
    moved_curve = 0.5 * scipy.sparse.eye(n_vertices) + 0.25 * vertex_edges @ scipy.sparse.diags(open_edge.astype(float)) @ midpoints
    keep = ~(interior | on_curve)
    moved = (scipy.sparse.diags(interior.astype(float)) @ moved_inner + scipy.sparse.diags(on_curve.astype(float)) @ moved_curve
             + scipy.sparse.diags(keep.astype(float)))
    subdivision = scipy.sparse.vstack([moved, edge_points, face_points]).tocsr()

    e = n_vertices + edge_of.reshape(n_faces, 4)  # quad f's edge k point
    centre = n_vertices + n_edges + np.arange(n_faces)
    new_quads = np.stack([np.stack([quads[:, k], e[:, k], centre, e[:, k - 1]], 1) for k in range(4)], 1).reshape(-1, 4)
    return subdivision, new_quads
