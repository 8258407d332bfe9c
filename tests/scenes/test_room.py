"""Procedural rooms: determinism, furniture and regions, walkable grid, spawns, camera."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

import scenes
from scenes.io import dumps
from scenes.room import CATALOGUE

SEEDS = range(8)


@cache
def room(seed: int, **kw: object) -> scenes.Scene:
    return scenes.generate_room(seed, **kw)


def rooms() -> list[scenes.Scene]:
    return [room(s) for s in SEEDS] + [
        room(
            s,
            size=(9.0, 8.0),
            n_furniture=8,
            n_obstacles=3,
            layout="island",
            furniture=tuple(CATALOGUE),
        )
        for s in range(3)
    ]


def aabb(r: scenes.Region) -> tuple[np.ndarray, np.ndarray]:
    """World axis-aligned bounds of a region whose yaw is a multiple of 90 degrees."""
    assert abs(math.sin(2 * r.yaw)) < 1e-3
    h = np.array(r.half_extents)
    if abs(math.sin(r.yaw)) > 0.5:
        h = h[[1, 0, 2]]
    c = np.array(r.center)
    return c - h, c + h


def footprints(scene: scenes.Scene) -> list[scenes.Region]:
    return [r for r in scene.regions if r.label not in ("door", "bowl")]


def cells(scene: scenes.Scene) -> tuple[np.ndarray, np.ndarray]:
    g = scene.walkable
    mask = np.array([[c == "1" for c in row] for row in g.rows])
    iy, ix = np.indices(mask.shape)
    xy = np.stack([g.origin[0] + (ix + 0.5) * g.cell, g.origin[1] + (iy + 0.5) * g.cell], -1)
    return xy, mask


def test_same_seed_same_bytes() -> None:
    assert dumps(scenes.generate_room(3)) == dumps(scenes.generate_room(3))
    assert dumps(scenes.generate_room(4)) != dumps(scenes.generate_room(3))


def test_structure_walls_floor_labels() -> None:
    for scene in rooms():
        names = [g.name for g in scene.geometry]
        assert "floor" in names and sum(n.startswith("wall_") for n in names) == 4
        labels = [r.label for r in scene.regions]
        assert labels.count("door") == 1 and "table" in labels and labels.count("bowl") == 1
        assert set(labels) <= set(CATALOGUE) | {"door", "bowl", "obstacle"}
        # every region has a geometry of the same label
        for label in set(labels):
            assert sum(n.startswith(label + "_") for n in names) == labels.count(label)
        assert scene.kind == "room" and scene.metadata.generator == "scenes.generate_room"


def test_regions_do_not_overlap_and_stay_in_the_room() -> None:
    for scene in rooms():
        x, y = scene.metadata.params["size"]
        boxes = [aabb(r) for r in scene.regions]
        for i, (lo, hi) in enumerate(boxes):
            assert lo[0] >= -x / 2 - 1e-6 and hi[0] <= x / 2 + 1e-6
            assert lo[1] >= -y / 2 - 1e-6 and hi[1] <= y / 2 + 1e-6 and lo[2] >= -1e-9
            for lo2, hi2 in boxes[i + 1 :]:
                overlap = np.minimum(hi, hi2) - np.maximum(lo, lo2)
                assert (overlap <= 1e-6).any()


def test_bowl_on_table_and_door_on_a_wall() -> None:
    for scene in rooms():
        x, y = scene.metadata.params["size"]
        bowl = next(r for r in scene.regions if r.label == "bowl")
        tables = [aabb(r) for r in scene.regions if r.label == "table"]
        b_lo, b_hi = aabb(bowl)
        assert any(
            (b_lo[:2] >= lo[:2]).all()
            and (b_hi[:2] <= hi[:2]).all()
            and b_lo[2] == pytest.approx(hi[2])
            for lo, hi in tables
        )
        lo, hi = aabb(next(r for r in scene.regions if r.label == "door"))
        wall_gap = min(x / 2 - hi[0], lo[0] + x / 2, y / 2 - hi[1], lo[1] + y / 2)
        assert wall_gap == pytest.approx(0.0, abs=1e-6) and hi[2] == pytest.approx(2.05)


def test_perimeter_pieces_stand_against_walls_island_pieces_do_not() -> None:
    for scene in rooms():
        x, y = scene.metadata.params["size"]
        island = scene.metadata.params["layout"] == "island"
        for r in scene.regions:
            if r.label not in CATALOGUE or not CATALOGUE[r.label][3]:
                continue
            lo, hi = aabb(r)
            gap = min(x / 2 - hi[0], lo[0] + x / 2, y / 2 - hi[1], lo[1] + y / 2)
            assert gap >= 0.6 - 1e-6 if island else gap <= 0.05
            if not island:  # its local x runs along the wall it backs onto
                assert (
                    np.array(r.half_extents)[1] <= np.array(r.half_extents)[0] or r.label == "bed"
                )


def test_walkable_grid_excludes_furniture_and_walls() -> None:
    for scene in rooms():
        g = scene.walkable
        x, y = scene.metadata.params["size"]
        r = scene.metadata.params["body_radius"]
        assert g.cell == 0.1 and g.origin == (-x / 2, -y / 2)
        assert len(g.rows) == math.ceil(y / g.cell - 1e-9) and len(g.rows[0]) == math.ceil(
            x / g.cell - 1e-9
        )
        xy, mask = cells(scene)
        assert 0.2 < mask.mean() < 0.95
        for reg in footprints(scene):
            lo, hi = aabb(reg)
            d = np.hypot(
                np.maximum(np.maximum(lo[0] - xy[..., 0], xy[..., 0] - hi[0]), 0),
                np.maximum(np.maximum(lo[1] - xy[..., 1], xy[..., 1] - hi[1]), 0),
            )
            assert not (mask & (d <= r)).any(), reg.label  # free cells keep the body radius
            inside = d == 0
            assert inside.any() and not mask[inside].any()
        wall_d = np.minimum(x / 2 - np.abs(xy[..., 0]), y / 2 - np.abs(xy[..., 1]))
        assert not (mask & (wall_d < r)).any()
        assert (
            mask
            | (wall_d < r)
            | np.any(
                [
                    np.all((xy >= aabb(f)[0][:2] - r) & (xy <= aabb(f)[1][:2] + r), -1)
                    for f in footprints(scene)
                ],
                axis=0,
            )
        ).all()


def _cell_free(scene: scenes.Scene, pos: tuple) -> bool:
    g = scene.walkable
    ix = int((pos[0] - g.origin[0]) // g.cell)
    iy = int((pos[1] - g.origin[1]) // g.cell)
    return g.rows[iy][ix] == "1"


def test_spawns_on_walkable_cells_observer_near_a_wall_facing_in() -> None:
    for scene in rooms():
        x, y = scene.metadata.params["size"]
        assert _cell_free(scene, scene.spawn.pos) and _cell_free(scene, scene.observer_spawn.pos)
        assert scene.spawn.pos[2] == pytest.approx(0.93)
        ox, oy, _ = scene.observer_spawn.pos
        assert min(x / 2 - abs(ox), y / 2 - abs(oy)) <= 0.25 + 0.35 + 0.05
        yaw = scene.observer_spawn.yaw
        facing = np.array([math.sin(yaw), -math.cos(yaw)])  # rest orientation faces -y
        to_centre = -np.array([ox, oy]) / np.hypot(ox, oy)
        assert facing @ to_centre > 0.999


def test_camera_in_a_corner_looking_in() -> None:
    for scene in rooms():
        x, y = scene.metadata.params["size"]
        (cam,) = scene.cameras
        assert abs(cam.pos[0]) == pytest.approx(x / 2 - 0.15) and abs(cam.pos[1]) == pytest.approx(
            y / 2 - 0.15
        )
        assert 1.5 < cam.pos[2] < scene.metadata.params["height"]
        assert cam.lookat == (0.0, 0.0, 0.8)


def test_bad_params() -> None:
    for kw, word in [
        ({"size": (1.0, 5.0)}, "size"),
        ({"layout": "maze"}, "layout"),
        ({"furniture": ("piano",)}, "furniture"),
        ({"n_furniture": -1}, "n_furniture"),
        ({"height": 0.5}, "height"),
    ]:
        with pytest.raises(ValueError, match=word):
            scenes.generate_room(0, **kw)
    with pytest.raises(ValueError, match="walkable"):
        scenes.generate_room(0, size=(2.5, 2.5), body_radius=1.0)
