"""Polygon triangulation: convex faces fanned, concave ones ear-clipped with their area and
winding kept, in any plane; and the OBJ/PLY readers use it."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenes.mesh_formats import load_raw
from scenes.polygons import triangulate, triangulate_polygons

L_SHAPE = np.array([[0, 0, 0], [2, 0, 0], [2, 1, 0], [1, 1, 0], [1, 2, 0], [0, 2, 0]], float)


def _normal(corners: np.ndarray) -> np.ndarray:
    """Twice the vector area of a polygon (n, 3)."""
    return np.cross(corners, np.roll(corners, -1, axis=0)).sum(axis=0)


def _triangle_normals(corners: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = (corners[tris[:, k]] for k in range(3))
    return np.cross(b - a, c - a)


def _check(corners: np.ndarray, tris: np.ndarray) -> None:
    """n - 2 triangles that cover the polygon exactly once, each wound like the polygon."""
    assert tris.shape == (len(corners) - 2, 3)
    normal = _normal(corners)
    tri_normals = _triangle_normals(corners, tris)
    assert np.all(tri_normals @ normal > -1e-12)  # no triangle flipped
    # the triangles' areas add up to the polygon's: none lies outside it or overlaps another
    np.testing.assert_allclose(tri_normals.sum(axis=0), normal, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(tri_normals, axis=1).sum(), np.linalg.norm(normal))


def test_concave_polygon_is_ear_clipped_where_a_fan_would_spill_out():
    corners = np.roll(L_SHAPE, -2, axis=0)  # from (2, 1) a fan's first triangle leaves the L
    tris, concave = triangulate(corners)
    assert concave
    _check(corners, tris)
    fan = np.array([[0, k, k + 1] for k in range(1, 5)])
    fan_area = np.linalg.norm(_triangle_normals(corners, fan), axis=1).sum()
    assert fan_area > np.linalg.norm(_normal(corners)) + 0.5  # what the old reader did


def test_winding_is_kept_both_ways_and_in_any_plane():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    for corners in (L_SHAPE, L_SHAPE[::-1], L_SHAPE @ q.T + [3.0, -1.0, 2.0]):
        tris, concave = triangulate(corners)
        assert concave
        _check(corners, tris)


def test_convex_degenerate_and_crossing_polygons_get_a_fan():
    square = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    fan = [[0, 1, 2], [0, 2, 3]]
    assert triangulate(square)[0].tolist() == fan and not triangulate(square)[1]
    line = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]], float)
    assert triangulate(line)[0].tolist() == fan
    bowtie = np.array([[0, 0, 0], [1, 1, 0], [1, 0, 0], [0, 1, 0]], float)
    assert triangulate(bowtie)[0].shape == (2, 3)  # no ear to cut: the reader's old fan
    with pytest.raises(ValueError, match="corners"):
        triangulate(square[:2])


def test_many_polygons_at_once_come_back_in_order():
    v = np.vstack([L_SHAPE, L_SHAPE[:4] + np.array([5.0, 0.0, 0.0])])
    polys = [np.arange(6), np.array([6, 7, 8]), np.arange(6, 10)]
    poly, local, n_concave = triangulate_polygons(v, polys)
    assert poly.tolist() == [0, 0, 0, 0, 1, 2, 2] and n_concave == 1
    _check(L_SHAPE, local[:4])
    assert local[4:].tolist() == [[0, 1, 2], [0, 1, 2], [0, 2, 3]]


@settings(max_examples=60, deadline=None)
@given(
    radii=st.lists(st.floats(0.2, 2.0), min_size=4, max_size=12),
    seed=st.integers(0, 2**16),
)
def test_star_shaped_polygons_are_covered_exactly(radii, seed):
    """Random star-shaped (often concave) outlines in a random plane: corners at sorted
    angles around a centre with no gap of half a turn, so the outline is simple."""
    rng = np.random.default_rng(seed)
    n = len(radii)
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    gaps = np.diff(np.r_[angles, angles[0] + 2 * np.pi])
    if gaps.min() < 0.05 or gaps.max() > 0.9 * np.pi:
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    flat = np.c_[np.cos(angles) * radii, np.sin(angles) * radii, np.zeros(n)]
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    corners = flat @ q.T + rng.normal(size=3)
    tris, _ = triangulate(corners)
    _check(corners, tris)


def test_obj_and_ply_readers_ear_clip_concave_faces(tmp_path):
    corners = np.roll(L_SHAPE, -2, axis=0)  # a fan from the first corner would spill out
    verts = "".join(f"v {x:g} {y:g} {z:g}\n" for x, y, z in corners)
    (tmp_path / "l.obj").write_text(verts + "f 1 2 3 4 5 6\n")
    ply = (
        "ply\nformat ascii 1.0\nelement vertex 6\nproperty float x\nproperty float y\n"
        "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
        + "".join(f"{x:g} {y:g} {z:g}\n" for x, y, z in corners)
        + "6 0 1 2 3 4 5\n"
    )
    (tmp_path / "l.ply").write_text(ply)
    for name in ("l.obj", "l.ply"):
        raw = load_raw(tmp_path / name)
        assert "triangulated 1 n-gon faces (1 concave, ear-clipped)" in raw.fixes
        _check(raw.vertices, raw.faces)


def test_t_vertices_on_edges_give_no_slivers_even_when_rounded():
    """A panel outline with T-vertices along its edges (Blender's limited dissolve), turned and
    written with 6 decimals: every triangle has real area, and together they cover it once."""
    rng = np.random.default_rng(3)
    ring = [(x, 0.0) for x in np.linspace(0, 1.2, 4, endpoint=False)]
    ring += [(1.2, y) for y in np.linspace(0, 0.9, 3, endpoint=False)]
    ring += [(x, 0.9) for x in np.linspace(1.2, 0, 5, endpoint=False)]
    ring += [(0.0, y) for y in np.linspace(0.9, 0, 2, endpoint=False)]
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    corners = np.round(np.c_[np.array(ring), np.zeros(len(ring))] @ q.T * 100 + 7.0, 6)
    tris, concave = triangulate(corners)
    assert not concave
    _check(corners, tris)
    a, b, c = (corners[tris[:, k]] for k in range(3))
    height = np.linalg.norm(np.cross(b - a, c - a), axis=1) / np.max(
        np.linalg.norm(np.stack([b - a, c - b, a - c]), axis=2), axis=0
    )
    assert height.min() > 1.0  # cm: no triangle is a sliver along an edge
