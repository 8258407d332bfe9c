"""ClimbRoute-v0: Gymnasium/SB3 compliance, determinism, grips, rewards, termination, robustness."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import navenv  # noqa: F401  (registers the env ids)
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.env import ClimbRouteEnv
from navenv.envs.climb.layout import PROPRIO, action_layout
from navenv.envs.climb.rewards import REWARD_TERMS
from navenv.envs.climb.spawn import grip_point
from navenv.sinking import DepthGauge, SceneRays


@pytest.fixture(scope="module")
def state_env():
    env = gym.make("ClimbRoute-v0", obs="state")
    yield env
    env.close()


def hold_action(env, grips=(1, 1, 1, 1)):
    """The action that keeps the current pose with the given grip channels."""
    u = env.unwrapped
    lo, hi = u.index.hinge_range.T
    q = u.data.qpos[u.index.hinge_qpos]
    parts = {name: np.zeros(f.shape) for name, f in u.action_layout.fields.items()}
    parts.update(hinge_targets=2 * (q - lo) / (hi - lo) - 1, grips=np.asarray(grips, float))
    return u.action_layout.join(**parts)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"obs": "state"},
        {"obs": "ego"},
        {"obs": "ego", "ego_depth": True},
        {"obs": "state", "control": "kinematic"},
        {"obs": "state", "assist": "residual"},
    ],
)
def test_gymnasium_check_env(kwargs):
    env = gym.make("ClimbRoute-v0", **kwargs)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("obs", ["state", "ego"])
def test_sb3_check_env(obs):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make("ClimbRoute-v0", obs=obs)
    sb3_check_env(env.unwrapped, warn=False)
    env.close()


def test_module_prefixed_id_and_spaces():
    env = gym.make("navenv:ClimbRoute-v0", obs="ego")
    assert env.spec.max_episode_steps == 1800
    u = env.unwrapped
    assert u.dt == pytest.approx(1 / 30)
    assert u.config.frame_skip == 16
    assert env.action_space.shape == (action_layout("physics", "none").size,)
    assert env.observation_space["ego_rgb"].shape == (4, 64, 64, 3)
    obs, info = env.reset(seed=0)
    assert obs["proprio"].shape == (PROPRIO.size,)
    assert info["scene"] is u.scene and info["route"] is u.route
    frame = u.ego_camera.render(u.data)
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8 and frame.std() > 1
    np.testing.assert_array_equal(obs["ego_rgb"][-1], frame)
    env.close()


def test_start_stance_grips_start_holds(state_env):
    obs, info = state_env.reset(seed=0)
    u = state_env.unwrapped
    route = info["route"]
    expected = [
        u.world.hold_slot[route.start[l]]
        for l in ("left_hand", "right_hand", "left_foot", "right_foot")
    ]
    np.testing.assert_array_equal(info["grips"], expected)
    assert info["spawn_error"] < 0.06
    # grip sites sit at the start holds
    for limb, hold_id in enumerate(
        route.start[l] for l in ("left_hand", "right_hand", "left_foot", "right_foot")
    ):
        site = u.data.site_xpos[u.index.grip_sites[limb]]
        assert np.linalg.norm(site - grip_point(u.scene.hold(hold_id))) < 0.08
    np.testing.assert_array_equal(u.obs_layout.get(obs, "grips"), 1.0)


def test_start_stance_keeps_legs_out_of_an_overhang_panel():
    """On this overhang the reach-first spawn put a knee through the 10 cm panel (contacts saw
    4 mm); the spawn now checks bones with the scene's rays and solves again with straight legs."""
    from scenes import splits

    scene = splits.get("test_novel_geometry")[3].build()
    env = gym.make("ClimbRoute-v0", scene=scene, route="r0", obs="state")
    _, info = env.reset(seed=0)
    u = env.unwrapped
    gauge = DepthGauge(u.model, np.isin(np.arange(u.model.ngeom), u.index.geoms), SceneRays(scene))
    assert gauge.pierce(u.data) == 0.0
    assert gauge(u.data) < 0.02
    assert (info["grips"] >= 0).all() and info["spawn_error"] < u.config.capture_radius
    env.close()


def test_hanging_on_start_holds_is_stable(state_env):
    state_env.reset(seed=0)
    a = hold_action(state_env)
    for _ in range(60):
        _obs, _reward, terminated, truncated, info = state_env.step(a)
        assert not (terminated or truncated)
    assert (info["grips"] >= 0).all() and not info["unstable"]


def test_reward_is_sum_of_named_terms(state_env):
    state_env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(20):
        _, reward, terminated, truncated, info = state_env.step(
            rng.uniform(-1, 1, state_env.action_space.shape)
        )
        terms = [info[f"reward_{t}"] for t in REWARD_TERMS]
        assert reward == pytest.approx(sum(terms), abs=1e-9)
        if terminated or truncated:
            break


def test_same_seed_same_trajectory():
    def rollout():
        env = gym.make("ClimbRoute-v0", obs="ego")
        obs, _ = env.reset(seed=7)
        env.action_space.seed(7)
        frames, states = [obs["ego_rgb"]], [obs["proprio"]]
        for _ in range(15):
            obs, *_ = env.step(env.action_space.sample())
            frames.append(obs["ego_rgb"])
            states.append(obs["proprio"])
        env.close()
        return np.array(frames), np.array(states)

    (f1, s1), (f2, s2) = rollout(), rollout()
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(f1, f2)


def test_thousand_random_steps_never_nan(state_env):
    state_env.reset(seed=3)
    state_env.action_space.seed(3)
    for _ in range(1000):
        obs, reward, terminated, truncated, _info = state_env.step(state_env.action_space.sample())
        assert np.isfinite(obs).all() and np.isfinite(reward)
        if terminated or truncated:
            state_env.reset()


def test_bad_actions(state_env):
    state_env.reset(seed=0)
    a = hold_action(state_env)
    a[[3, 70]] = [np.nan, np.inf]
    with pytest.raises(ValueError, match=r"indices \[3, 70\]"):
        state_env.step(a)
    with pytest.raises(ValueError, match="expected 73 values"):
        state_env.step(np.zeros(5))
    # out of range is clipped, not an error: 5.0 drives the hinge to its upper limit
    a = hold_action(state_env)
    a[0] = 5.0
    state_env.step(a)
    assert state_env.unwrapped.data.ctrl[state_env.unwrapped.index.actuators[0]] == pytest.approx(
        state_env.unwrapped.index.hinge_range[0, 1]
    )


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="obs='pixels'"):
        ClimbRouteEnv(obs="pixels")
    with pytest.raises(ValueError, match="assist='residual' needs control='physics'"):
        ClimbRouteEnv(control="kinematic", assist="residual")
    with pytest.raises(ValueError, match="frame_skip"):
        ClimbRouteEnv(frame_skip=0)
    with pytest.raises(KeyError, match="no route 'nope'"):
        ClimbRouteEnv(route="nope")
    with pytest.raises(ValueError, match="climbing_wall"):
        ClimbRouteEnv(scene="room_01")


def test_releasing_everything_is_a_fall(state_env):
    state_env.reset(seed=0)
    a = hold_action(state_env, grips=(-1, -1, -1, -1))
    for _ in range(90):
        _, _, terminated, _truncated, info = state_env.step(a)
        if terminated:
            break
    assert terminated and not info["is_success"]
    assert info["reward_fall"] == -state_env.unwrapped.config.rewards.fall


def test_grip_closes_only_within_capture_radius(state_env):
    state_env.reset(seed=0)
    u = state_env.unwrapped
    d = u.data
    a = hold_action(state_env, grips=(-1, 1, 1, 1))
    state_env.step(a)  # open the left hand
    assert u.grips.held[0] == -1
    # the left hand is at its start hold: closing re-grips it
    a[u.action_layout["grips"]][0] = 1.0
    state_env.step(a)
    assert u.grips.held[0] == u.world.hold_slot[u.route.start["left_hand"]]
    # a hold far away is out of reach
    far = max(
        range(len(u.scene.holds)),
        key=lambda h: np.linalg.norm(
            d.geom_xpos[u.world.hold_geoms[h]] - d.site_xpos[u.index.grip_sites[0]]
        ),
    )
    assert u.grips.nearest_hold(d, 0) != far


def test_grip_breaks_above_force_limit():
    env = gym.make(
        "ClimbRoute-v0",
        obs="state",
        config=ClimbConfig(hand_grip_force_limit=50.0, foot_grip_force_limit=50.0),
    )
    env.reset(seed=0)
    _, _, _, _, info = env.step(hold_action(env))
    assert info["grips_broken"].any()
    broken = np.flatnonzero(info["grips_broken"])
    assert (info["grips"][broken] == -1).all()
    # a broken grip stays open while its channel stays high
    _, _, _, _, info = env.step(hold_action(env))
    assert (info["grips"][broken] == -1).all()
    env.close()


def test_residual_assist_is_reported_and_penalised():
    env = gym.make("ClimbRoute-v0", obs="state", assist="residual")
    env.reset(seed=0)
    a = hold_action(env)
    a[env.unwrapped.action_layout["assist_force"]] = [0.0, 0.0, 0.5]  # half the force limit, up
    _, _, _, _, info = env.step(a)
    assert info["assist_norm"] == pytest.approx(0.5 * env.unwrapped.config.max_assist_force)
    assert info["reward_assist"] < 0
    env.close()


def test_kinematic_control_sets_the_pose_and_reports_penetration():
    env = gym.make("ClimbRoute-v0", obs="state", control="kinematic")
    env.reset(seed=0)
    u = env.unwrapped
    a = np.zeros(env.action_space.shape, np.float32)
    a[u.action_layout["root_rot6d"]] = [1, 0, 0, 0, 1, 0]  # identity orientation
    _, _, _, _, info = env.step(a)
    centre, _ = u.world.climb_box
    np.testing.assert_allclose(u.data.qpos[u.index.root_qpos][:3], centre, atol=1e-6)
    lo, hi = u.index.hinge_range.T
    np.testing.assert_allclose(u.data.qpos[u.index.hinge_qpos], (lo + hi) / 2, atol=1e-6)
    # drive the pelvis into the wall: penetration is reported
    centre, half = u.world.climb_box
    root = a[u.action_layout["root_position"]]  # a view of a
    root[1] = (0.0 - centre[1]) / half[1]  # pelvis at y = 0: inside the wall's face
    _, _, _, _, info = env.step(a)
    assert info["penetration"] > 0.01
    env.close()


def test_success_when_both_hands_hold_the_top():
    env = gym.make("ClimbRoute-v0", obs="state")
    env.reset(seed=0)
    u = env.unwrapped
    top = u.world.hold_slot[u.route.top]
    u.grips.set_state(u.data, np.array([top, top, -1, -1]))
    _, _reward, terminated, _, info = env.step(hold_action(env, grips=(1, 1, -1, -1)))
    assert terminated and info["is_success"] and info["route_progress"] == 1.0
    assert info["reward_success"] == u.config.rewards.success
    env.close()


def test_instability_truncates_without_nan(state_env):
    state_env.reset(seed=0)
    u = state_env.unwrapped
    u.data.qvel[u.index.hinge_qvel] = 1e9
    obs, _reward, _terminated, truncated, info = state_env.step(hold_action(state_env))
    assert truncated and info["unstable"]
    assert np.isfinite(obs).all()


def test_scene_split_draws_scenes_per_reset():
    env = gym.make("ClimbRoute-v0", obs="state", scene_split="train")
    names = set()
    for seed in range(4):
        _, info = env.reset(seed=seed)
        names.add(info["scene"].name)
    assert len(names) >= 2
    _, info_a = env.reset(seed=11)
    _, info_b = env.reset(seed=11)
    assert info_a["scene"].name == info_b["scene"].name and info_a["route"].id == info_b["route"].id
    env.close()


def test_render_rgb_array():
    env = gym.make(
        "ClimbRoute-v0", obs="state", render_mode="rgb_array", render_width=160, render_height=120
    )
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8 and frame.std() > 1
    env.close()


def test_env_ego_camera_excludes_the_head():
    env = gym.make("ClimbRoute-v0", obs="ego")
    env.reset(seed=0)
    u = env.unwrapped
    u.ego_camera.render(u.data)
    head_geoms = np.flatnonzero(u.model.geom_bodyid == u.index.head_body)
    assert not np.isin(u.ego_camera.geom_ids, head_geoms).any()
    # it sees the wall and holds
    seen = np.unique(u.ego_camera.geom_ids)
    assert np.isin(seen, u.world.hold_geoms).any()
    assert mujoco.mj_id2name(u.model, mujoco.mjtObj.mjOBJ_CAMERA, u.index.ego_camera) == "ego"
    env.close()


# ---------------------------------------------------------------- a whole-gym scan (issue: gyms)


@pytest.fixture(scope="module")
def gym_scene(tmp_path_factory):
    import scenes
    from tests.scenes.gym_fixtures import write_gym_obj

    path = write_gym_obj(tmp_path_factory.mktemp("gym") / "gym.obj", n_unused=100)
    return scenes.import_mesh(path, holds="generate", out_dir=tmp_path_factory.mktemp("scene"))


def test_gym_scan_climbs_a_route_of_every_sector(gym_scene):
    """reset at a route of each sector: the start stance is on that sector, the sector's tripod
    films it, the kinematic box is the sector's, and 100 physics steps raise no MuJoCo warning."""
    first = next(r.id for r in gym_scene.routes if r.sector == gym_scene.sectors[2].id)
    env = gym.make("ClimbRoute-v0", scene=gym_scene, route=first, obs="state")
    u = env.unwrapped
    assert u.route.id == first
    holds = {h.id: np.asarray(h.position) for h in gym_scene.holds}
    owner = {h: s.id for s in gym_scene.sectors for h in s.holds}
    ids = np.array(list(holds))
    pos = np.array(list(holds.values()))
    for sec in gym_scene.sectors:
        rid = next(r.id for r in gym_scene.routes if r.sector == sec.id)
        obs, info = env.reset(seed=0, options={"route": rid})
        assert info["route"].sector == sec.id and u.tripod_camera() == sec.camera
        pelvis = u.data.xpos[u.index.bodies[0]]
        nearest = ids[np.argsort(np.linalg.norm(pos - pelvis, axis=1))[:5]]
        assert all(owner[h] == sec.id for h in nearest), (sec.id, nearest)
        centre, half = info["climb_box"]
        sec_pos = np.array([holds[h] for h in sec.holds])
        assert np.all(np.abs(sec_pos - centre) <= half + 1e-9) and half[:2].max() < 6.0
        before = [u.data.warning[i].number for i in range(len(u.data.warning))]
        action = hold_action(env)
        for _ in range(100):
            obs, _r, _term, _trunc, info = env.step(action)
            assert np.isfinite(obs).all() and not info["unstable"]
        after = [u.data.warning[i].number for i in range(len(u.data.warning))]
        assert after == before, (sec.id, sec.kind, after)
    env.close()
