"""Procedural walls: determinism, geometry, holds on surfaces, camera framing, spawn, parameters."""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
import pytest

import scenes
from scenes.io import dumps
from scenes.types import Primitive

PROFILES = ("vertical", "slab", "overhang", "multi_panel")


@cache
def wall(seed: int, profile: str, **kw: object) -> scenes.Scene:
    return scenes.generate_wall(seed, profile=profile, **kw)


def quat_to_matrix(q: tuple) -> np.ndarray:
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def boxes(
    scene: scenes.Scene, prefix: tuple[str, ...] = ("panel", "volume", "wedge")
) -> list[Primitive]:
    return [g for g in scene.geometry if g.type == "box" and g.name.startswith(prefix)]


def front_corners(scene: scenes.Scene) -> np.ndarray:
    """Corners of every box's outward (+local y) face."""
    out = []
    for b in boxes(scene):
        r, h = quat_to_matrix(b.quat), np.array(b.size)
        for sx in (-1, 1):
            for sz in (-1, 1):
                out.append(np.array(b.pos) + r @ (h * [sx, 1, sz]))
    return np.array(out)


@pytest.mark.parametrize("profile", PROFILES)
def test_same_seed_same_bytes_and_seed_matters(profile: str) -> None:
    a = dumps(scenes.generate_wall(11, profile=profile, n_volumes=3))
    b = dumps(scenes.generate_wall(11, profile=profile, n_volumes=3))
    assert a == b
    assert dumps(scenes.generate_wall(12, profile=profile, n_volumes=3)) != a


@pytest.mark.parametrize("profile", PROFILES)
def test_holds_sit_on_a_panel_or_volume_face(profile: str) -> None:
    scene = wall(5, profile, n_volumes=4)
    assert 100 <= len(scene.holds) <= 200
    bx = boxes(scene)
    for h in scene.holds:
        n = np.array(h.normal)
        assert np.linalg.norm(n) == pytest.approx(1.0)
        p = np.array(h.position) - n * h.size / 2  # contact point on the surface
        on_face = False
        for b in bx:
            r, half = quat_to_matrix(b.quat), np.array(b.size)
            loc = r.T @ (p - np.array(b.pos))
            inside = np.all(np.abs(loc) <= half + 2e-3)
            for axis in range(3):
                for sign in (-1, 1):
                    if inside and abs(loc[axis] - sign * half[axis]) < 2e-3:
                        on_face |= bool(np.allclose(r[:, axis] * sign, n, atol=1e-6))
            # not buried: the contact point is not deep inside any box
            assert not np.all(np.abs(loc) < half - 5e-3), (h.id, b.name)
        assert on_face, h.id
    z = [h.position[2] for h in scene.holds]
    assert min(z) >= 0.1 and max(z) <= scene.metadata.params["height"] + 0.2


def test_hold_spacing_and_kinds() -> None:
    scene = wall(2, "vertical")
    p = np.array([h.position for h in scene.holds])
    r = np.array([h.size for h in scene.holds])
    d = np.linalg.norm(p[:, None] - p[None], axis=-1) + np.eye(len(p)) * 9
    assert (d >= np.maximum(0.2, r[:, None] + r[None] + 0.02) - 1e-3).all()
    assert {h.kind for h in scene.holds} == set(scenes.HOLD_KINDS)
    only = scenes.generate_wall(2, kind_mix={"jug": 1.0, "foothold": 1.0}, n_routes=1)
    assert {h.kind for h in only.holds} == {"jug", "foothold"}


@pytest.mark.parametrize(
    ("profile", "angle"), [("vertical", 0.0), ("slab", -20.0), ("overhang", 35.0)]
)
def test_panel_angle(profile: str, angle: float) -> None:
    scene = wall(1, profile, angle_deg=angle if profile != "vertical" else None)
    (panel,) = boxes(scene, ("panel",))
    a = math.radians(angle)
    normal = quat_to_matrix(panel.quat)[:, 1]
    assert np.allclose(normal, [0.0, math.cos(a), -math.sin(a)], atol=1e-9)
    assert scene.metadata.params["angle_deg"] == angle


def test_multi_panel_is_slab_vertical_overhang_without_gaps() -> None:
    scene = wall(3, "multi_panel", angle_deg=30.0)
    panels = boxes(scene, ("panel",))
    assert len(panels) == 3
    tilts = []
    edges = []
    for b in panels:
        r, h = quat_to_matrix(b.quat), np.array(b.size)
        n = r[:, 1]
        tilts.append(math.degrees(math.atan2(-n[2], n[1])))
        front = np.array(b.pos) + r @ [0.0, h[1], 0.0]
        edges.append((front - r[:, 2] * h[2], front + r[:, 2] * h[2]))  # bottom, top mid-edges
    assert tilts == pytest.approx([-15.0, 0.0, 30.0], abs=1e-6)
    assert edges[0][0][2] == pytest.approx(0.0, abs=1e-3)
    assert edges[-1][1][2] == pytest.approx(4.5, abs=1e-3)
    for (_, top), (bottom, _) in itertools.pairwise(edges):
        assert np.allclose(top, bottom, atol=2e-4)  # the faces meet edge to edge


def test_volumes_are_on_panels_and_do_not_overlap() -> None:
    scene = wall(7, "vertical", n_volumes=6)
    vols = boxes(scene, ("volume", "wedge"))
    assert 4 <= len(vols) <= 6
    assert scene.metadata.params["n_volumes"] == 6
    for i, v in enumerate(vols):
        corners = (
            np.array(v.pos)
            + (np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T * v.size)
            @ quat_to_matrix(v.quat).T
        )
        assert corners[:, 1].min() <= 1e-3 < corners[:, 1].max()  # touches the face, sticks out
        assert np.abs(corners[:, 0]).max() <= 2.0 and corners[:, 2].min() >= 0.0
        for u in vols[i + 1 :]:
            apart_x = abs(v.pos[0] - u.pos[0]) > v.size[0] + u.size[0]
            apart_z = abs(v.pos[2] - u.pos[2]) > v.size[2] + u.size[2]
            assert apart_x or apart_z


@pytest.mark.parametrize("profile", PROFILES)
def test_tripod_camera_sees_the_whole_wall(profile: str) -> None:
    scene = wall(4, profile, n_volumes=3, **({"angle_deg": 45.0} if profile == "overhang" else {}))
    (cam,) = scene.cameras
    pos, look = np.array(cam.pos), np.array(cam.lookat)
    assert pos[1] > 2.0 and 1.0 <= pos[2] <= 2.0  # on a tripod, in front of the wall
    f = (look - pos) / np.linalg.norm(look - pos)
    right = np.cross(f, [0, 0, 1])
    right /= np.linalg.norm(right)
    down = np.cross(f, right)
    pts = np.concatenate([front_corners(scene), [h.position for h in scene.holds]])
    rel = pts - pos
    z = rel @ f
    u = cam.fx * (rel @ right) / z + cam.cx
    v = cam.fy * (rel @ down) / z + cam.cy
    assert (z > 0).all()
    assert (u >= 0).all() and (u <= cam.width).all() and (v >= 0).all() and (v <= cam.height).all()


@pytest.mark.parametrize("profile", PROFILES)
def test_spawn_stands_in_front_of_the_first_route(profile: str) -> None:
    scene = wall(6, profile, n_volumes=5, angle_deg=40.0 if profile == "overhang" else None)
    sp = scene.spawn
    cl = scenes.ClimberDims()
    assert sp.yaw == 0.0 and sp.pos[2] == pytest.approx(cl.leg_length, abs=1e-3)
    start = scene.routes[0].start
    x = np.mean([scene.hold(start[k]).position[0] for k in ("left_hand", "right_hand")])
    assert sp.pos[0] == pytest.approx(x, abs=1e-3)
    # clear of every box within the body's reach (up to head height, 0.6 m to either side)
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T
    for b in boxes(scene):
        c = np.array(b.pos) + (signs * b.size) @ quat_to_matrix(b.quat).T
        if b.name.startswith("panel"):  # the face at body height, interpolated along the panel
            top, bottom = c[c[:, 2].argmax()], c[c[:, 2].argmin()]
            z = np.clip([0.0, cl.stature], bottom[2], top[2])
            face = np.array(b.pos) + quat_to_matrix(b.quat) @ [0.0, b.size[1], 0.0]
            n = quat_to_matrix(b.quat)[:, 1]
            ys = face[1] - (z - face[2]) * n[2] / n[1]
            assert sp.pos[1] >= ys.max() + 0.39, b.name
        elif c[:, 0].min() <= x + 0.6 and c[:, 0].max() >= x - 0.6 and c[:, 2].min() <= cl.stature:
            assert sp.pos[1] >= c[:, 1].max() + 0.39, b.name


@pytest.mark.parametrize("seed", range(6))
def test_default_params_always_give_a_route(seed: int) -> None:
    assert len(scenes.generate_wall(seed).routes) >= 1


def test_metadata_records_resolved_params() -> None:
    scene = wall(0, "slab")
    m = scene.metadata
    assert (m.generator, m.seed, m.source) == ("scenes.generate_wall", 0, "generated")
    assert m.params["angle_deg"] == -15.0 and m.params["profile"] == "slab"
    assert m.params["climber"]["stature"] == 1.75
    assert (
        scenes.generate_wall(0, **{k: v for k, v in m.params.items() if k != "climber"}) is not None
    )
    assert scene.name == "wall_slab_0" and scene.kind == "climbing_wall"


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"profile": "cave"}, "profile"),
        ({"profile": "slab", "angle_deg": 10.0}, "angle_deg"),
        ({"profile": "vertical", "angle_deg": 5.0}, "angle_deg"),
        ({"width": 0.5}, "width"),
        ({"n_routes": 11}, "n_routes"),
        ({"n_volumes": -1}, "n_volumes"),
        ({"kind_mix": {"jug": -1.0}}, "kind_mix"),
        ({"palette": [(1, 1, 1)]}, "palette"),
        ({"climber": 1.75}, "climber"),
        ({"hold_density": float("nan")}, "hold_density"),
    ],
)
def test_bad_params_raise_value_error_naming_them(kw: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        scenes.generate_wall(0, **kw)
    with pytest.raises(ValueError, match="seed"):
        scenes.generate_wall(-1)
    with pytest.raises(TypeError):
        scenes.generate_wall(0, colour="red")
