"""Planning on walkable grids: geodesic distances, paths, smoothing, approach points."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scenes
from scenes.navigation import (
    GOAL_LABELS,
    NavGrid,
    NoPathError,
    approach_points,
    facing_yaw,
    label_id,
    line_of_sight,
    plan_path,
    resample_path,
    smooth_path,
)
from scenes.types import Region, WalkableGrid


def _grid(rows: list[str], cell: float = 0.1) -> NavGrid:
    return NavGrid(WalkableGrid(origin=(0.0, 0.0), cell=cell, rows=rows))


def _wall_with_gap() -> NavGrid:
    """20 x 10 cells (2 x 1 m); a wall at column 10 leaves a gap in the top row only."""
    rows = []
    for iy in range(10):
        row = ["1"] * 20
        if iy < 9:
            row[10] = "0"
        rows.append("".join(row))
    return _grid(rows)


def test_open_grid_geodesic_is_octile_distance():
    nav = _grid(["1" * 30] * 30)
    field = nav.geodesic_field((0.05, 0.05))
    assert field.at((0.05, 0.05)) == 0.0
    # 10 cells right, 5 up: 5 diagonals + 5 straights
    assert field.at((1.05, 0.55)) == pytest.approx(0.5 * math.sqrt(2) + 0.5)


def test_detour_through_the_gap_and_no_corner_cutting():
    nav = _wall_with_gap()
    field = nav.geodesic_field((1.95, 0.05))  # bottom right corner
    d = field.at((0.05, 0.05))  # bottom left: must climb to row 9, pass column 10, come down
    # 9 diagonals up to (9, 9), two straight steps through the gap (entering or leaving it
    # diagonally would cut the wall's corner), then 8 diagonals and 1 straight step down
    assert d == pytest.approx(17 * 0.1 * math.sqrt(2) + 3 * 0.1)
    path = plan_path(nav, (0.05, 0.05), (1.95, 0.05))
    assert nav.is_walkable(path).all()
    steps = np.diff(path, axis=0)
    assert np.abs(steps).max() <= 0.1 + 1e-9
    # a diagonal step never passes a blocked orthogonal neighbour
    for a, s in zip(path[:-1], steps):
        if abs(s[0]) > 1e-9 and abs(s[1]) > 1e-9:
            assert nav.is_walkable(a + [s[0], 0]) and nav.is_walkable(a + [0, s[1]])
    assert np.linalg.norm(steps, axis=1).sum() == pytest.approx(d)  # the path is the geodesic


def test_smoothing_keeps_every_segment_walkable_and_resampling_spacing():
    nav = _wall_with_gap()
    path = plan_path(nav, (0.05, 0.05), (1.95, 0.05))
    smooth = smooth_path(path, nav)
    assert 2 < len(smooth) < len(path)
    assert all(line_of_sight(nav, a, b) for a, b in zip(smooth[:-1], smooth[1:]))
    even = resample_path(smooth, 0.05)
    gaps = np.linalg.norm(np.diff(even, axis=0), axis=1)
    assert np.allclose(gaps[:-1], 0.05, atol=0.02) and gaps[-1] <= 0.05 + 1e-9
    np.testing.assert_allclose(even[-1], smooth[-1])


def test_disconnected_goal_raises_and_field_is_inf_there():
    nav = _grid(["11011"] * 5)
    field = nav.geodesic_field((0.05, 0.05))
    assert np.isinf(field.values[:, 3:]).all()
    with pytest.raises(NoPathError, match="no walkable path"):
        plan_path(nav, (0.05, 0.05), (0.45, 0.05))


def test_field_off_the_grid_adds_the_straight_step_to_the_nearest_walkable_cell():
    nav = _grid(["0000", "0110", "0110", "0000"])
    field = nav.geodesic_field((0.15, 0.15))
    assert field.at((0.05, 0.15)) == pytest.approx(0.1)


def test_approach_points_and_facing_in_split_rooms():
    missing, pairs, connected = [], 0, 0
    for name in [f"rooms_train/{i:03d}" for i in range(4)] + [
        f"rooms_test_novel/{i:03d}" for i in range(4)
    ]:
        scene = scenes.resolve(name)
        nav = NavGrid.from_scene(scene)
        start = nav.nearest_walkable(np.asarray(scene.spawn.pos[:2]))
        for region in scene.regions:
            if region.label in ("door", "bowl", "obstacle"):
                continue
            pts = approach_points(region, nav)
            if not len(pts):
                missing.append((name, region.label))
                continue
            field = nav.geodesic_field(pts)
            pairs += 1
            connected += bool(np.isfinite(field.at(start)))
            yaw = facing_yaw(pts[0], region)
            step = pts[0] + 0.3 * np.array([math.sin(yaw), -math.cos(yaw)])
            centre = np.asarray(region.center[:2])
            assert np.linalg.norm(step - centre) < np.linalg.norm(pts[0] - centre)
    assert not missing, missing
    assert connected == pairs


def test_blocked_disc_eroded_and_labels():
    nav = _grid(["1" * 20] * 20)
    blocked = nav.blocked_disc((1.0, 1.0), 0.3, keep=(1.0, 1.05))
    assert not blocked.is_walkable((1.15, 1.0)) and blocked.is_walkable((1.0, 1.05))
    assert nav.eroded(0.3).mask.sum() < nav.mask.sum()
    assert GOAL_LABELS[label_id("sofa")] == "sofa"
    with pytest.raises(ValueError, match="piano"):
        label_id("piano")
    with pytest.raises(ValueError, match="finite"):
        nav.geodesic_field((np.nan, 0.0))


def test_region_yaw_rotates_the_footprint():
    nav = _grid(["1" * 40] * 40)
    long_x = Region("bed", (2.0, 2.0, 0.3), (1.0, 0.2, 0.3), yaw=0.0)
    long_y = Region("bed", (2.0, 2.0, 0.3), (1.0, 0.2, 0.3), yaw=math.pi / 2)
    a, b = approach_points(long_x, nav, 0.2), approach_points(long_y, nav, 0.2)
    assert np.ptp(a[:, 0]) > np.ptp(a[:, 1]) and np.ptp(b[:, 1]) > np.ptp(b[:, 0])
