"""RoomNav-v0: registration, checkers, determinism, observations, observer, rewards, bad input."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import navenv  # noqa: F401  (registers the env ids)
from navenv.body.rotations import matrix_to_rot6d
from navenv.envs.room import RoomConfig, RoomNavEnv
from navenv.envs.room.observer import PERSONAL_GAP_M
from navenv.envs.room.occupancy import EgoCrop, OccupancyMap
from scenes.types import Primitive, Scene, WalkableGrid

SMALL = dict(width=16, height=16)


def _env(**kw) -> RoomNavEnv:
    return RoomNavEnv(**{**SMALL, **kw})


def _stand_action(env: RoomNavEnv, xy, yaw: float) -> np.ndarray:
    """A kinematic action that stands the body at floor point xy facing yaw."""
    lay, idx = env.action_layout, env.index
    lo, hi = idx.hinge_range[:, 0], idx.hinge_range[:, 1]
    centre, half = env.world.room_box
    pos = np.array([xy[0], xy[1], env._stand_height()])
    rot = np.array(
        [
            [math.cos(yaw), -math.sin(yaw), 0.0],
            [math.sin(yaw), math.cos(yaw), 0.0],
            [0.0, 0.0, 1.0],
        ]
    )
    return lay.join(
        hinge_targets=2 * (env._stand - lo) / (hi - lo) - 1,
        root_position=(pos - centre) / half,
        root_rot6d=matrix_to_rot6d(rot),
    )


def test_registered_and_passes_gymnasium_and_sb3_checkers_in_both_obs_modes():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check

    for obs in ("state", "ego"):
        for control, assist in (("kinematic", "none"), ("physics", "residual")):
            env = gym.make("RoomNav-v0", obs=obs, control=control, assist=assist, **SMALL)
            check_env(env.unwrapped, skip_render_check=True)
            sb3_check(env.unwrapped, warn=False)
            env.close()


def test_seeded_determinism_and_no_nan_under_random_physics_actions():
    def run(seed):
        env = _env(obs="state", control="physics", assist="residual")
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        out = [obs]
        for _ in range(20):
            obs, r, term, trunc, _info = env.step(env.action_space.sample())
            assert np.isfinite(obs).all() and np.isfinite(r)
            out.append(obs)
            if term or trunc:
                break
        return np.array(out)

    a, b = run(3), run(3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, run(4)[: len(a)])


def test_walking_straight_to_the_goal_earns_progress_and_success():
    env = _env(obs="state")
    _, info = env.reset(seed=0)
    target = info["goal_approach"][0]
    field = env.world.goal_field(env._ep.goal)
    xy = info["agent_xy"].copy()
    total, done = 0.0, False
    for _ in range(600):  # follow the geodesic descent at 1 m/s
        nbr = xy + 0.033 * _descent(env, field, xy, target)
        _obs, _r, done, _trunc, info = env.step(_stand_action(env, nbr, info["agent_yaw"]))
        xy = nbr
        total += info["reward_progress"]
        if done:
            break
    assert info["is_success"], info["goal_distance"]
    assert total == pytest.approx(info["start_distance"] - info["goal_distance"], abs=1e-6)
    assert info["path_length"] >= info["start_distance"] - 0.35


def _descent(env, field, xy, target) -> np.ndarray:
    """Unit step direction that lowers the geodesic field (finite differences over 16 headings)."""
    best, best_d = None, field.at(xy)
    for a in np.linspace(0, 2 * np.pi, 16, endpoint=False):
        u = np.array([math.cos(a), math.sin(a)])
        d = field.at(xy + 0.1 * u)
        if d < best_d:
            best, best_d = u, d
    if best is None:
        v = target - xy
        return v / (np.linalg.norm(v) + 1e-9)
    return best


def test_observation_groups_are_named_and_in_the_heading_frame():
    env = _env(obs="ego")
    obs, info = env.reset(seed=1, options={"observer": "stand"})
    parts = env.obs_layout.split(obs)
    assert parts["ego_rgb"].shape == (4, 16, 16, 3)
    assert parts["occupancy"].shape == (64, 64)
    assert parts["past_path"].shape == (8, 4)
    # Standing still: the whole past path is here, heading unchanged.
    np.testing.assert_allclose(parts["past_path"][:, :2], 0.0, atol=1e-6)
    np.testing.assert_allclose(parts["past_path"][:, 2], 1.0, atol=1e-6)
    # The goal's heading-frame position has the length of the world offset.
    rel = np.asarray(info["goal_region"].center[:2]) - info["agent_xy"]
    assert np.linalg.norm(parts["goal_position"][:2]) == pytest.approx(np.linalg.norm(rel), 1e-5)
    assert parts["goal_label"].sum() == 1.0
    # The observer row: its distance from the agent.
    ob = parts["observer_path"][-1, :2]
    assert np.linalg.norm(ob) == pytest.approx(
        np.linalg.norm(info["observer_xy"] - info["agent_xy"]), 1e-5
    )


def _box_room() -> Scene:
    """A 6 x 6 m floor with one 0.4 m box 1 m in front of the origin along -y."""
    rows = ["1" * 60] * 60
    return Scene(
        name="box_room",
        kind="room",
        geometry=[
            Primitive("floor", "plane", (4, 4, 0.1)),
            Primitive("box", "box", (0.2, 0.2, 0.2), pos=(0.0, -1.0, 0.2)),
        ],
        walkable=WalkableGrid(origin=(-3.0, -3.0), cell=0.1, rows=rows),
    )


def test_occupancy_crop_sees_a_box_ahead_and_rotates_with_the_heading():
    occ = OccupancyMap.from_scene(_box_room())
    crop = EgoCrop(64, 0.1)
    ahead = crop.crop(occ, np.zeros(2), 0.0)  # facing -y: the box is 1 m ahead
    rows, cols = np.nonzero(ahead > 0)
    x = (rows - 31.5) * 0.1
    y = (cols - 31.5) * 0.1
    assert ahead.max() == pytest.approx(0.4)
    assert 0.75 < x.mean() < 1.25 and abs(y.mean()) < 0.1
    # Turned to face +x (yaw = pi/2), the box is on the right (heading y < 0).
    side = crop.crop(occ, np.zeros(2), math.pi / 2)
    rows, cols = np.nonzero(side > 0)
    assert abs(((rows - 31.5) * 0.1).mean()) < 0.1 and ((cols - 31.5) * 0.1).mean() < -0.75
    pts = np.random.default_rng(0).uniform(-8.0, 8.0, (500, 2))  # partly off the map
    np.testing.assert_array_equal(occ.tops(pts[:, 0], pts[:, 1]), occ.columns(pts)[1])
    vox = EgoCrop(64, 0.1, "voxel", layers=8, height_m=2.0).crop(occ, np.zeros(2), 0.0)
    assert vox.shape == (8, 64, 64)
    assert vox[:2].sum() > 0 and vox[2:].sum() == 0  # 0.4 m tall: the two lowest 0.25 m layers


@pytest.mark.parametrize("mode", ["follow", "circle", "stand", "walk_past"])
def test_observer_behaviours_move_as_named_and_keep_a_personal_distance(mode):
    env = _env(obs="state")
    _, info = env.reset(seed=2, options={"observer": mode})
    xy, yaw = info["agent_xy"], info["agent_yaw"]
    start = info["observer_xy"].copy()
    gaps, moved = [], 0.0
    prev = start
    for _ in range(150):
        _, _, _, _, info = env.step(_stand_action(env, xy, yaw))
        gaps.append(np.linalg.norm(info["observer_xy"] - xy))
        moved += np.linalg.norm(info["observer_xy"] - prev)
        prev = info["observer_xy"]
    assert min(gaps) >= PERSONAL_GAP_M - 1e-6
    start_gap = np.linalg.norm(start - xy)
    if mode == "stand":
        assert moved == 0.0
    elif mode == "follow":  # walks in until it is observer_distance away, then waits
        assert gaps[-1] <= env.config.observer_distance + 0.3
        assert moved >= start_gap - env.config.observer_distance - 0.3
    else:
        assert moved > 1.0
    # The observer keeps its camera on the agent.
    d = xy - info["observer_xy"]
    want = math.atan2(d[0], -d[1])
    assert abs((want - info["observer_yaw"] + math.pi) % (2 * math.pi) - math.pi) < 0.2


def test_observer_view_renders_the_agent():
    env = _env(obs="state")
    env.reset(seed=2, options={"observer": "stand"})
    img = env.observer_view(48, 36)
    assert img.shape == (36, 48, 3) and img.dtype == np.uint8 and img.std() > 5


def test_scene_split_draws_rooms_and_voxel_crop_config():
    env = _env(obs="state", scene_split="rooms_val", config=RoomConfig(crop="voxel"))
    names = set()
    for s in range(4):
        _, info = env.reset(seed=s)
        names.add(info["scene"].name)
    assert len(names) >= 2 and all(n.startswith("room") for n in names)
    assert env.obs_layout.vector.field("occupancy").shape == (8, 64, 64)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="control="):
        _env(control="teleport")
    with pytest.raises(ValueError, match="climbing_wall"):
        _env(scene="wall_vertical_01")
    with pytest.raises(ValueError, match="room split"):
        _env(scene_split="train")
    env = _env(obs="state")
    with pytest.raises(ValueError, match="accepted goal, observer, observer_at, spawn"):
        env.reset(seed=0, options={"route": 1})
    with pytest.raises(ValueError, match="goal='piano'"):
        env.reset(seed=0, options={"goal": "piano"})
    with pytest.raises(ValueError, match="observer="):
        env.reset(seed=0, options={"observer": "hover"})
    with pytest.raises(ValueError, match="not walkable"):
        env.reset(seed=0, options={"spawn": (50.0, 0.0, 0.0)})
    env.reset(seed=0)
    a = np.zeros(env.action_space.shape)
    a[3] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf at indices \[3\]"):
        env.step(a)


def test_imported_room_scan_split_has_guessed_goals_and_a_floor_plane():
    env = _env(obs="state", scene_split="rooms_imported")
    _, info = env.reset(seed=0)
    scene = info["scene"]
    assert scene.name == "room_scan_01" and scene.metadata.source.startswith("imported:")
    assert {g.region.label for g in env.world.goals} >= {"bed", "sofa", "table", "shelf"}
    assert env.world.is_floor.sum() >= 1  # the scan's floor collides as a plane
    _, _, _, _, info = env.step(_stand_action(env, info["agent_xy"], info["agent_yaw"]))
    assert not info["collision"]  # standing on the scan's floor is no collision
