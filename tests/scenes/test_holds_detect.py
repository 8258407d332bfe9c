"""Hold detection on height maps, and the wall-surface tools it builds on (scenes.surface)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from scenes.errors import SceneError
from scenes.holds_detect import (
    HoldDetectConfig,
    detect_holds,
    find_protrusions,
    guess_kind,
    surface_points,
)
from scenes.surface import (
    HeightMap,
    fit_plane,
    mesh_point_cloud,
    plane_axes,
    rasterize_max,
    representable_area_fraction,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "meshes"
WALL_AXES = plane_axes(np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]))  # u=x, v=-z, n=y


def _fixture_module():
    spec = importlib.util.spec_from_file_location("mesh_fixtures", DATA / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _dome(x, z, cx, cz, a, b, d):
    return d * np.sqrt(np.clip(1 - ((x - cx) / a) ** 2 - ((z - cz) / b) ** 2, 0, None))


# x, z, a, b, depth, kind
BUMPS = [
    (-1.0, 0.3, 0.035, 0.035, 0.03, "foothold"),
    (0.0, 1.2, 0.09, 0.09, 0.08, "jug"),
    (1.0, 1.3, 0.05, 0.025, 0.018, "crimp"),
    (-1.0, 2.0, 0.12, 0.12, 0.035, "sloper"),
    (0.2, 2.6, 0.03, 0.06, 0.045, "pinch"),
    (1.2, 3.2, 0.09, 0.09, 0.08, "jug"),
]


def _wall_map(extra=None, slope: float = 0.0, cell: float = 0.01) -> HeightMap:
    """A 4 x 4 m wall height map (heights along +y) with the BUMPS and optional extra relief."""
    u = -2.0 + (np.arange(int(4 / cell)) + 0.5) * cell
    v = -4.0 + (np.arange(int(4 / cell)) + 0.5) * cell
    uu, vv = np.meshgrid(u, v)
    x, z = uu, -vv
    h = slope * z
    for cx, cz, a, b, d, _ in BUMPS:
        h = np.maximum(h, slope * z + _dome(x, z, cx, cz, a, b, d))
    if extra is not None:
        h = np.maximum(h, extra(x, z))
    return HeightMap(np.zeros(3), WALL_AXES, -2.0, -4.0, cell, h)


def _match(holds, truth, tol):
    pos = np.array([h.position for h in holds])
    return [
        int(np.argmin(np.linalg.norm(pos - t, axis=1)))
        if len(pos) and np.linalg.norm(pos - t, axis=1).min() < tol
        else None
        for t in truth
    ]


def test_bumps_are_found_with_their_kinds_and_volumes_and_ridges_are_not():
    def relief(x, z):  # a 0.8 m box volume and a 1 m long, 3 cm wide ridge
        box = np.where((np.abs(x - 1.2) < 0.4) & (np.abs(z - 1.9) < 0.3), 0.25, 0.0)
        ridge = np.where((np.abs(x + 0.5) < 0.5) & (np.abs(z - 3.5) < 0.015), 0.05, 0.0)
        return np.maximum(box, ridge)

    holds = detect_holds(_wall_map(relief))
    truth = [(cx, d / 2, cz) for cx, cz, _, _, d, _ in BUMPS]  # bump centres: wall + depth / 2
    matched = _match(holds, truth, 0.02)
    assert None not in matched and len(holds) == len(BUMPS)
    assert [holds[i].kind for i in matched] == [b[5] for b in BUMPS]
    for i, (_, _, a, b, _, _) in zip(matched, BUMPS):
        assert 0.5 * np.sqrt(a * b) < holds[i].size < 1.1 * max(a, b)
        assert holds[i].normal == pytest.approx((0.0, 1.0, 0.0), abs=1e-6)
    assert [h.id for h in holds] == [f"h{i:03d}" for i in range(len(holds))]
    assert [h.position[2] for h in holds] == sorted(h.position[2] for h in holds)


def test_tilted_wall_keeps_bumps_and_reports_the_tilted_normal():
    slope = 0.4  # the wall leans out 22 degrees; opening preserves planes
    holds = detect_holds(_wall_map(slope=slope))
    truth = [(cx, slope * cz + d / 2, cz) for cx, cz, _, _, d, _ in BUMPS]
    matched = _match(holds, truth, 0.03)
    assert sum(m is not None for m in matched) >= 5
    expected = np.array([0.0, 1.0, -slope]) / np.hypot(1.0, slope)
    for i in matched:
        if i is not None:
            assert np.dot(holds[i].normal, expected) > np.cos(np.radians(3))


def test_colours_come_from_nearby_vertices():
    hm = _wall_map()
    verts = np.array([[0.0, 0.08, 1.2], [0.0, 0.07, 1.22], [1.2, 0.08, 3.2], [5, 5, 5]])
    cols = np.array([[0, 0, 1, 1], [0, 0, 0.8, 1], [1, 1, 0, 1], [1, 0, 0, 1]], float)
    holds = detect_holds(hm, vertices=verts, vertex_colors=cols)
    by_pos = {round(h.position[2], 1): h for h in holds}
    assert by_pos[1.2].rgba == pytest.approx((0, 0, 0.9, 1.0))
    assert by_pos[3.2].rgba == pytest.approx((1, 1, 0, 1.0))
    plain = detect_holds(hm)
    assert all(h.rgba == (0.9, 0.2, 0.2, 1.0) for h in plain)


def test_flat_wall_has_no_holds_and_empty_map_is_an_error():
    flat = HeightMap(np.zeros(3), WALL_AXES, 0.0, 0.0, 0.01, np.zeros((100, 100)))
    assert find_protrusions(flat, HoldDetectConfig()) == []
    empty = HeightMap(np.zeros(3), WALL_AXES, 0.0, 0.0, 0.01, np.full((10, 10), np.nan))
    with pytest.raises(SceneError, match="empty"):
        detect_holds(empty)


@pytest.mark.parametrize(
    ("radius", "depth", "height", "kind"),
    [
        (0.03, 0.03, 0.3, "foothold"),
        (0.03, 0.01, 1.5, "crimp"),
        (0.04, 0.04, 1.5, "pinch"),
        (0.09, 0.08, 1.5, "jug"),
        (0.12, 0.03, 1.5, "sloper"),
        (0.09, 0.08, 0.3, "jug"),
    ],
)
def test_guess_kind(radius, depth, height, kind):
    assert guess_kind(radius, depth, height, HoldDetectConfig()) == kind


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cell_m": 0},
        {"min_radius_m": 0.3, "max_radius_m": 0.2},
        {"background_m": 0.01},
        {"shallow_m": float("nan")},
    ],
)
def test_config_validation(kwargs):
    with pytest.raises(SceneError, match="HoldDetectConfig"):
        HoldDetectConfig(**kwargs)


def test_surface_points_lie_on_the_surface_and_skip_steep_flanks():
    hm = _wall_map()
    pts, nrm = surface_points(hm, 3000, np.random.default_rng(0))
    again, _ = surface_points(hm, 3000, np.random.default_rng(0))
    assert np.array_equal(pts, again) and pts.shape == (3000, 3)
    assert np.allclose(np.linalg.norm(nrm, axis=1), 1.0)
    assert (nrm[:, 1] >= 0.3).all()
    assert np.abs(pts[:, 1]).max() <= 0.08 + 1e-9  # on the wall or on a bump, never floating


def test_fit_plane_ignores_protrusions():
    rng = np.random.default_rng(1)
    wall = np.column_stack(
        [rng.uniform(-2, 2, 3000), rng.normal(0, 0.001, 3000), rng.uniform(0, 4, 3000)]
    )
    bumps = np.column_stack(
        [rng.uniform(-2, 2, 1200), rng.uniform(0.02, 0.3, 1200), rng.uniform(0, 4, 1200)]
    )
    tilt = np.array([[1, 0, 0], [0, np.cos(0.2), -np.sin(0.2)], [0, np.sin(0.2), np.cos(0.2)]])
    pts = np.vstack([wall, bumps]) @ tilt.T
    plane, inliers = fit_plane(pts, np.random.default_rng(0), inlier_dist=0.01)
    assert abs(plane.normal @ (tilt @ [0, 1, 0])) > np.cos(np.radians(0.2))
    assert inliers[:3000].mean() > 0.95 and inliers[3000:].mean() < 0.1
    with pytest.raises(SceneError, match="collinear"):
        fit_plane(np.outer(np.arange(10.0), [1, 2, 3]), np.random.default_rng(0), inlier_dist=0.1)


def test_rasterize_max_takes_the_highest_surface_per_cell():
    v = np.array([[0, 0, 1.0], [1, 0, 1.0], [0, 1, 1.0], [0, 0, 2.0], [0.5, 0, 2.0], [0, 0.5, 2.0]])
    f = np.array([[0, 1, 2], [3, 4, 5]])
    hm = rasterize_max(v, f, np.eye(3), 0.1)
    assert hm.heights.shape == (10, 10)
    assert hm.heights[1, 1] == 2.0 and hm.heights[6, 1] == 1.0  # upper triangle wins
    assert np.isnan(hm.heights[9, 9])  # beyond the hypotenuse
    capped = rasterize_max(v, f, np.eye(3), 0.1, h_max=1.5)
    assert capped.heights[1, 1] == 1.0


def test_representable_fraction_accepts_volumes_and_rejects_caves():
    mf = _fixture_module()
    wall = mf.build_wall()
    v, f = wall["vertices"], mf.triangulate(wall["faces"])
    hm = rasterize_max(v, f, WALL_AXES, 0.02)
    assert representable_area_fraction(v, f, hm, tol=0.03) > 0.99
    v, f = mf.build_cave()
    hm = rasterize_max(v, f, WALL_AXES, 0.02)
    assert representable_area_fraction(v, f, hm, tol=0.03) < 0.9


def test_point_cloud_meshing_follows_the_surface():
    rng = np.random.default_rng(2)
    x, z = rng.uniform(-1, 1, 20000), rng.uniform(0, 2, 20000)
    y = _dome(x, z, 0.0, 1.0, 0.1, 0.1, 0.08) + rng.normal(0, 0.001, len(x))
    col = np.tile([0.2, 0.4, 0.6, 1.0], (len(x), 1))
    v, f, vcol, cell = mesh_point_cloud(np.column_stack([x, y, z]), col, WALL_AXES)
    assert 0.005 < cell < 0.03 and len(f) > len(v)  # about two triangles per vertex
    expect = _dome(v[:, 0], v[:, 2], 0.0, 1.0, 0.1, 0.1, 0.08)
    assert np.median(np.abs(v[:, 1] - expect)) < 0.003
    assert np.allclose(vcol, [0.2, 0.4, 0.6, 1.0])
    with pytest.raises(SceneError, match="at least 3"):
        mesh_point_cloud(np.zeros((2, 3)), None, WALL_AXES)
