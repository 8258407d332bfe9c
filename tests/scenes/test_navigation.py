"""Planning on walkable grids: geodesic distances, paths, smoothing, approach points, goals."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import scenes
from scenes.navigation import (
    DEFAULT_REACH_M,
    GOAL_LABELS,
    PASS_CLOSE_M,
    START_FREE_M,
    NavGrid,
    NoPathError,
    approach_points,
    avoiding,
    facing_yaw,
    footprint_distance,
    label_id,
    line_of_sight,
    passes_near,
    plan_path,
    region_goal_table,
    resample_path,
    smooth_path,
)
from scenes.types import Region, WalkableGrid

CELL = 0.1
FURNITURE = ("bed", "sofa", "table", "chair", "shelf", "desk", "wardrobe")
ROOM_SCENES = [f"rooms_train/{i:03d}" for i in range(8)] + [
    f"rooms_test_novel/{i:03d}" for i in range(8)
]


def _grid(rows: list[str], cell: float = CELL) -> NavGrid:
    return NavGrid(WalkableGrid(origin=(0.0, 0.0), cell=cell, rows=rows), name="hand-made")


def _wall_with_gap() -> NavGrid:
    """20 x 10 cells (2 x 1 m); a wall at column 10 leaves a gap in the top row only."""
    rows = []
    for iy in range(10):
        row = ["1"] * 20
        if iy < 9:
            row[10] = "0"
        rows.append("".join(row))
    return _grid(rows)


def test_cells_and_world_points_round_trip():
    nav = _grid(["1" * 20] * 10)
    xy = np.array([[[0.05, 0.05], [1.95, 0.95]], [[0.37, 0.61], [1.0, 0.5]]])
    iy, ix = nav.to_cell(xy)
    assert iy.shape == (2, 2)
    assert iy[0].tolist() == [0, 9] and ix[0].tolist() == [0, 19]
    np.testing.assert_allclose(nav.to_world(iy, ix)[0], xy[0])
    assert nav.mask.shape == (10, 20) and nav.free_points().shape == (200, 2)
    outside = [[-0.01, 0.5], [2.01, 0.5], [0.5, 1.5], [np.nan, 0.5], [1e300, 0.5]]
    assert not nav.is_walkable(outside).any()


def test_straight_line_geodesic_is_euclidean_and_diagonals_are_octile():
    nav = _grid(["1" * 20] * 10)
    field = nav.geodesic_field((0.05, 0.55))
    assert field.at((0.05, 0.55)) == 0.0
    assert field.at((1.95, 0.55)) == pytest.approx(1.9)  # along a row: the straight distance
    assert field.at((0.95, 0.05)) == pytest.approx(5 * CELL * math.sqrt(2) + 4 * CELL)


def test_detour_through_the_gap_exact_and_within_a_cell_of_the_continuous_detour():
    nav = _wall_with_gap()
    field = nav.geodesic_field((1.95, 0.05))  # bottom right corner
    d = field.at((0.05, 0.05))  # bottom left: must climb to row 9, pass column 10, come down
    # 9 diagonals up to (9, 9), two straight steps through the gap (entering or leaving it
    # diagonally would cut the wall's corner), then 8 diagonals and 1 straight step down
    assert d == pytest.approx(17 * CELL * math.sqrt(2) + 3 * CELL)
    # The continuous shortest path bends round the gap's two lower corners (1.0, 0.9), (1.1, 0.9).
    detour = 2 * math.hypot(0.95, 0.85) + CELL
    assert detour <= d <= detour + CELL
    path = plan_path(nav, (0.05, 0.05), (1.95, 0.05))
    assert np.linalg.norm(np.diff(path, axis=0), axis=1).sum() == pytest.approx(d)


def test_field_is_zero_at_goals_and_inf_on_islands_and_blocked_cells():
    nav = _grid(["11011", "11011", "00000", "11111"])
    field = nav.geodesic_field([(0.05, 0.05), (0.05, 0.35)])  # two goals, two areas
    assert field.at((0.05, 0.05)) == 0.0 and field.at((0.05, 0.35)) == 0.0
    assert np.isinf(field.values[:2, 3:]).all()  # the right island
    assert np.isinf(field.values[~nav.mask]).all()
    assert np.isfinite(field.values[3]).all()


def test_diagonal_never_cuts_a_blocked_corner():
    nav = _grid(["10", "01"])  # two cells touching only at a corner
    assert np.isinf(nav.geodesic_field((0.05, 0.05)).at((0.15, 0.15)))
    assert not nav.connected((0.05, 0.05), (0.15, 0.15))
    assert not line_of_sight(nav, (0.05, 0.05), (0.15, 0.15))
    nav = _wall_with_gap()
    path = plan_path(nav, (0.05, 0.05), (1.95, 0.05))
    steps = np.diff(path, axis=0)
    assert np.abs(steps).max() <= CELL + 1e-9
    for a, s in zip(path[:-1], steps):
        if abs(s[0]) > 1e-9 and abs(s[1]) > 1e-9:
            assert nav.is_walkable(a + np.array([s[0], 0.0])) and nav.is_walkable(
                a + np.array([0.0, s[1]])
            )


def test_plan_smooth_and_resample():
    nav = _wall_with_gap()
    start, goal = np.array([0.02, 0.13]), np.array([1.97, 0.08])  # off cell centres
    path = plan_path(nav, start, goal)
    assert nav.is_walkable(path).all()
    assert np.linalg.norm(path[0] - start) <= CELL and np.linalg.norm(path[-1] - goal) <= CELL
    smooth = smooth_path(path, nav)
    assert 2 < len(smooth) < len(path)
    np.testing.assert_allclose(smooth[[0, -1]], path[[0, -1]])
    assert all(line_of_sight(nav, a, b) for a, b in itertools.pairwise(smooth))
    even = resample_path(smooth, 0.05)
    gaps = np.linalg.norm(np.diff(even, axis=0), axis=1)
    assert np.allclose(gaps[:-1], 0.05, atol=0.02) and 0 < gaps[-1] <= 0.05 + 1e-9
    np.testing.assert_allclose(even[[0, -1]], smooth[[0, -1]])
    line = resample_path([[0.0, 0.0], [1.0, 0.0]], 0.25)  # a straight line: exact spacing
    np.testing.assert_allclose(line[:, 0], [0.0, 0.25, 0.5, 0.75, 1.0])
    with pytest.raises(ValueError, match="spacing"):
        resample_path(smooth, 0.0)


def test_disconnected_goal_raises_naming_start_goal_and_scene():
    nav = _grid(["11011"] * 5)
    with pytest.raises(NoPathError, match=r"'hand-made' from \[0.05, 0.05\] to \[0.45, 0.05\]"):
        plan_path(nav, (0.05, 0.05), (0.45, 0.05))
    assert issubclass(NoPathError, ValueError)


def test_field_off_the_grid_adds_the_straight_step_to_the_nearest_walkable_cell():
    nav = _grid(["0000", "0110", "0110", "0000"])
    field = nav.geodesic_field((0.15, 0.15))
    assert field.at((0.05, 0.15)) == pytest.approx(0.1)
    assert field.at([[0.05, 0.15], [0.15, 0.15]]).shape == (2,)
    near = nav.nearest_walkable(np.array([[[-1.0, -1.0]], [[0.26, 0.21]]]))
    np.testing.assert_allclose(near[:, 0], [[0.15, 0.15], [0.25, 0.25]])


def test_descent_points_downhill():
    nav = _grid(["1" * 20] * 10)
    field = nav.geodesic_field((1.95, 0.55))
    d = field.descent([[0.05, 0.55], [1.95, 0.55], [0.05, 0.05]])
    np.testing.assert_allclose(d[0], [1.0, 0.0])  # straight along the row
    np.testing.assert_allclose(d[1], [0.0, 0.0])  # at the goal's centre
    np.testing.assert_allclose(d[2], [math.sqrt(0.5), math.sqrt(0.5)])  # diagonally up


def test_sample_free_keeps_clearance():
    nav = _grid(["1" * 20] * 20)
    pts = nav.sample_free(np.random.default_rng(0), 50, min_clearance=0.5)
    assert pts.shape == (50, 2) and nav.is_walkable(pts).all()
    assert (np.minimum(pts, 2.0 - pts) >= 0.5).all()  # 0.5 m from the grid's edge


def test_approach_points_and_connectivity_in_split_rooms():
    missing, pairs, connected = [], 0, 0
    for name in ROOM_SCENES:
        scene = scenes.resolve(name)
        nav = NavGrid.from_scene(scene)
        spawn = np.asarray(scene.spawn.pos[:2])
        for goal in region_goal_table(scene):
            if goal.label not in FURNITURE:
                continue
            pts = approach_points(goal.region, nav)
            if not len(pts):
                missing.append((name, goal.label))
                continue
            pairs += len(pts)
            connected += int(nav.connected(spawn, pts).sum())
            gap = footprint_distance(pts, goal.region)
            assert (gap > 0).all() and (gap <= DEFAULT_REACH_M).all()
            yaw = facing_yaw(pts[0], goal.region)
            step = pts[0] + 0.3 * np.array([math.sin(yaw), -math.cos(yaw)])
            centre = np.asarray(goal.region.center[:2])
            assert np.linalg.norm(step - centre) < np.linalg.norm(pts[0] - centre)
    assert not missing, missing
    assert connected == pairs  # every (spawn, approach point) pair is connected


def test_blocked_disc_eroded_and_bad_input():
    nav = _grid(["1" * 20] * 20)
    blocked = nav.blocked_disc((1.0, 1.0), 0.3, keep=(1.0, 1.05))
    assert not blocked.is_walkable((1.15, 1.0)) and blocked.is_walkable((1.0, 1.05))
    assert nav.eroded(0.3).mask.sum() < nav.mask.sum()
    with pytest.raises(ValueError, match="finite"):
        nav.geodesic_field((np.nan, 0.0))
    with pytest.raises(ValueError, match="row 1"):
        _grid(["11", "1x"])
    with pytest.raises(ValueError, match="no walkable grid"):
        NavGrid.from_scene(scenes.Scene(name="bare", kind="room"))


def test_blocked_disc_reuses_a_grid_with_the_same_mask():
    nav = _grid(["1" * 20] * 20)
    a = nav.blocked_disc((1.0, 1.0), 0.3)
    assert nav.blocked_disc((1.001, 1.0), 0.3) is a  # the same cells blocked: the same grid
    b = nav.blocked_disc((1.5, 1.0), 0.3)
    assert b is not a and not np.array_equal(a.mask, b.mask)
    fresh = NavGrid(mask=nav.mask.copy(), origin=nav.origin, cell=nav.cell)
    np.testing.assert_array_equal(fresh.blocked_disc((1.5, 1.0), 0.3).mask, b.mask)
    for k in range(10):  # only the last few are kept
        nav.blocked_disc((0.2 + 0.15 * k, 1.0), 0.3)
    assert nav.blocked_disc((1.0, 1.0), 0.3) is not a


def test_avoiding_blocks_the_persons_disc_but_leaves_the_walker_room():
    nav = _grid(["1" * 40] * 40)  # 4 x 4 m
    start, person, goal = np.array([0.5, 2.0]), np.array([2.0, 2.0]), np.array([3.5, 2.0])
    grid = avoiding(nav, person, start, 1.0)
    assert not grid.is_walkable([2.0, 2.9]) and grid.is_walkable([2.0, 3.1])
    # a person 1 m off: the disc shrinks to leave START_FREE_M round the walker
    near = avoiding(nav, [1.5, 2.0], start, 1.0)
    assert near.is_walkable([0.5 + START_FREE_M - CELL, 2.0])
    assert not near.is_walkable([1.5 - (1.0 - START_FREE_M) + CELL, 2.0])
    # too little room asked for, or the person already at arm's length: the whole grid
    assert avoiding(nav, person, start, PASS_CLOSE_M - 0.01) is nav
    assert avoiding(nav, [1.1, 2.0], start, 1.0) is nav
    # the way round it keeps the room it asked for; the straight way does not
    way = smooth_path(plan_path(grid, start, goal), grid)
    assert not passes_near(resample_path(way, 0.05), person, 1.0 - CELL)
    assert passes_near(resample_path(np.array([start, goal]), 0.05), person, 0.1)


def test_goal_labels_and_region_table():
    assert GOAL_LABELS[label_id("sofa")] == "sofa" and len(set(GOAL_LABELS)) == len(GOAL_LABELS)
    with pytest.raises(ValueError, match="'piano'.*accepted: bed, sofa"):
        label_id("piano")
    scene = scenes.generate_room(3)
    table = region_goal_table(scene)
    assert [g.index for g in table] == list(range(len(scene.regions)))
    assert all(GOAL_LABELS[g.label_id] == g.region.label == g.label for g in table)
    scene.regions.append(Region("piano", (0.0, 0.0, 0.5), (0.5, 0.5, 0.5)))
    with pytest.raises(ValueError, match=rf"{scene.name!r} region {len(table)}.*'piano'"):
        region_goal_table(scene)
    assert len(region_goal_table(scene, skip_unknown=True)) == len(table)


def test_region_yaw_rotates_the_footprint():
    nav = _grid(["1" * 40] * 40)
    long_x = Region("bed", (2.0, 2.0, 0.3), (1.0, 0.2, 0.3), yaw=0.0)
    long_y = Region("bed", (2.0, 2.0, 0.3), (1.0, 0.2, 0.3), yaw=math.pi / 2)
    a, b = approach_points(long_x, nav, 0.2), approach_points(long_y, nav, 0.2)
    assert np.ptp(a[:, 0]) > np.ptp(a[:, 1]) and np.ptp(b[:, 1]) > np.ptp(b[:, 0])
    # Facing from the +x side of the turned bed points along -x: yaw = atan2(-1, 0) = -pi/2.
    assert facing_yaw((2.5, 2.0), long_y) == pytest.approx(-math.pi / 2)
