"""Tracker: action layout and ranges, PD targets with feed-forward, the root estimate from the
observation, waiting for grips, kinematic actions, and the scripted climber in physics."""

import gymnasium as gym
import numpy as np
import pytest

import navenv  # noqa: F401  (registers ClimbRoute-v0)
from navenv.body.rotations import matrix_to_axis_angle
from navenv.body.skeleton import Skeleton
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.layout import PROPRIO, action_layout, obs_layout
from navenv.humanoid.names import LIMBS, NUM_HINGES
from navenv.humanoid.pose import motion_from_qpos
from policies.scripted import ScriptedClimber
from policies.tracking import (
    Reference,
    RootEstimator,
    Tracker,
    TrackerConfig,
    kinematic_action,
    next_contacts,
    split_obs,
)


def _hang_reference(world, frames: int = 20, swing: float = 0.0) -> Reference:
    """A reference that stays in the route's start stance (one shoulder swinging by `swing`)."""
    env = gym.make("ClimbRoute-v0", scene=world.scene, route=0, obs="state")
    env.reset(seed=0)
    q0 = env.unwrapped.data.qpos.copy()
    env.close()
    qpos = np.repeat(q0[None], frames, axis=0)
    qpos[:, world.index.hinge_qpos[5]] += swing * np.linspace(0.0, 1.0, frames)
    grips = np.ones((frames, 4), bool)
    return Reference.from_qpos(qpos, world.index, grips, 30.0)


def _obs(grips=(1, 1, 1, 1), angles=None) -> dict:
    layout = obs_layout("state", ClimbConfig().route_lookahead)
    proprio = np.zeros(PROPRIO.size, np.float32)
    proprio[PROPRIO["grips"]] = grips
    if angles is not None:
        proprio[PROPRIO["joint_angles"]] = angles
    return {"proprio": proprio, "route": np.zeros(layout.groups["route"].size, np.float32)}


def _as_dict(env, obs) -> dict:
    """A "state" observation as the "proprio"/"route" dict an "ego" observation carries."""
    layout = env.unwrapped.obs_layout
    return {name: layout.group(obs, name) for name in layout.groups}


def test_actions_are_pd_targets_with_feedforward(world):
    ref = _hang_reference(world, swing=0.3)
    cfg = ClimbConfig()
    tracker = Tracker.from_world(
        world, cfg, assist="none", config=TrackerConfig(joint_integral=0.0, limb_feedback=0.0)
    )
    tracker.set_reference(ref)
    a = tracker.act(_obs(angles=ref.hinges[0]))
    layout = action_layout("physics", "none")
    assert a.shape == (layout.size,) and a.dtype == np.float32
    assert np.abs(a).max() <= 1.0
    parts = layout.split(a)
    assert set(parts) == {"hinge_targets", "grips"}
    lo, hi = world.index.hinge_range.T
    target = lo + (parts["hinge_targets"] + 1) * 0.5 * (hi - lo)
    qd = (ref.hinges[2] - ref.hinges[1]) * ref.fps
    expected = np.clip(ref.hinges[1] + tracker.kv_over_kp * qd, lo, hi)
    np.testing.assert_allclose(target, expected, atol=1e-5)
    assert tracker.kv_over_kp[5] > 0 and target[5] > ref.hinges[1, 5]  # leads the swing
    np.testing.assert_array_equal(parts["grips"], 1.0)


def test_reference_validation_and_motion_round_trip(world):
    ref = _hang_reference(world, frames=5)
    with pytest.raises(ValueError, match="grips"):
        Reference(ref.root_pos, ref.root_rot, ref.hinges, np.ones((4, 4), bool), 30.0)
    with pytest.raises(ValueError, match="contacts"):
        Reference(ref.root_pos, ref.root_rot, ref.hinges, ref.grips, 30.0, np.zeros((5, 3)))
    qpos = np.zeros((5, world.model.nq))
    qpos[:, world.index.root_qpos] = np.c_[ref.root_pos, np.tile([1.0, 0, 0, 0], (5, 1))]
    qpos[:, world.index.hinge_qpos] = ref.hinges
    motion = motion_from_qpos(qpos, world.index, Skeleton.builtin(), 30.0)
    back = Reference.from_motion(motion, Skeleton.builtin(), world.index.hinge_range, ref.grips)
    np.testing.assert_allclose(back.hinges, ref.hinges, atol=1e-6)
    np.testing.assert_allclose(back.root_pos, ref.root_pos, atol=1e-9)
    with pytest.raises(ValueError, match="assist"):
        Tracker(world.index.hinge_range, np.ones(NUM_HINGES), dt=1 / 30, assist="magic")
    with pytest.raises(RuntimeError, match="set_reference"):
        Tracker(world.index.hinge_range, np.ones(NUM_HINGES), dt=1 / 30).act(_obs())


def test_waits_at_a_grip_until_it_closes(world):
    ref = _hang_reference(world, frames=30)
    ref.grips[:, 1] = True
    ref.grips[5:10, 1] = False  # the right hand lets go at frame 5 and grips again at frame 10
    tracker = Tracker.from_world(world, ClimbConfig(), config=TrackerConfig(max_wait_s=0.5))
    tracker.set_reference(ref)
    open_hand = (1, 0, 1, 1)
    frames = []
    for _ in range(40):
        a = tracker.act(_obs(grips=open_hand if tracker.frame >= 5 else (1, 1, 1, 1)))
        frames.append(tracker.frame)
    # it stops at frame 10 for max_wait_s (15 steps), then moves on
    assert frames.count(10) == 1 + round(0.5 * 30)
    assert frames[-1] > 10
    assert a[tracker.action_layout["grips"]][LIMBS.index("right_hand")] == 1.0  # still asks


def test_keeps_three_points_of_contact_before_letting_go(world):
    """The reference lets the left hand go at frame 10 while the right hand, which it holds
    throughout, is still open: the tracker stays at frame 9 for release_wait_s, then goes on."""
    ref = _hang_reference(world, frames=30)
    ref.grips[10:, 0] = False
    config = TrackerConfig(max_wait_s=0.2, release_wait_s=0.5)
    tracker = Tracker.from_world(world, ClimbConfig(), config=config)
    tracker.set_reference(ref)
    frames = []
    for _ in range(45):
        a = tracker.act(_obs(grips=(1, 0, 1, 1)))
        frames.append(tracker.frame)
    assert frames.count(0) == round(0.2 * 30)  # first the wait for the right hand's grip
    assert frames.count(9) == 1 + round(0.5 * 30)  # then no release while it is still open
    left = a[tracker.action_layout["grips"]][LIMBS.index("left_hand")]
    assert frames[-1] > 10 and left == -1.0  # the plan went on: left hand released


def test_root_estimate_from_observation_is_exact(scene):
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state", control="physics")
    u = env.unwrapped
    obs, _ = env.reset(seed=0)
    est = RootEstimator(u.world.route_view(u.route, u.config.route_lookahead))
    rng = np.random.default_rng(0)
    for _ in range(20):  # let it move a little
        obs, *_ = env.step(rng.uniform(-0.05, 0.05, env.action_space.shape).astype(np.float32))
    state = est.estimate(obs)
    pelvis = u.index.bodies[0]
    np.testing.assert_allclose(state.pos, u.data.xpos[pelvis], atol=2e-4)
    rot = u.data.xmat[pelvis].reshape(3, 3)
    assert np.linalg.norm(matrix_to_axis_angle(state.rot @ rot.T)) < 1e-3
    np.testing.assert_allclose(state.linvel, u.data.qvel[:3], atol=1e-3)
    proprio, _ = split_obs(_as_dict(env, obs))
    np.testing.assert_array_equal(proprio, u.obs_layout.group(obs, "proprio"))
    env.close()


def test_kinematic_action_puts_the_body_there(scene, world):
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state", control="kinematic")
    u = env.unwrapped
    env.reset(seed=0)
    q = u.data.qpos.copy()
    q[2] += 0.05
    q[world.index.hinge_qpos[10]] += 0.2
    action = kinematic_action(q, np.ones(4, bool), world.index, world.climb_box)
    assert action.shape == env.action_space.shape and np.abs(action).max() <= 1
    env.step(action)
    np.testing.assert_allclose(u.data.qpos[:3], q[:3], atol=1e-5)
    np.testing.assert_allclose(
        u.data.qpos[world.index.hinge_qpos], q[world.index.hinge_qpos], atol=1e-5
    )
    far = q.copy()
    far[0] += 100.0
    with pytest.raises(ValueError, match="climb box"):
        kinematic_action(far, np.ones(4, bool), world.index, world.climb_box)
    env.close()


def test_physics_climber_makes_progress(scene):
    """Physics + residual assist on the builtin route: the climber takes its next holds."""
    env = gym.make(
        "ClimbRoute-v0", scene=scene, route=0, obs="state", control="physics", assist="residual"
    )
    climber = ScriptedClimber(action_space=env.action_space)
    obs, info = env.reset(seed=0)
    climber.reset(seed=0, info=info)
    start = info["route_progress"]
    assists = []
    for _ in range(300):
        action = climber.act(obs)
        layout = action_layout("physics", "residual")
        assert action.shape == (layout.size,) and np.abs(action).max() <= 1.0
        obs, _, terminated, truncated, info = env.step(action)
        assists.append(info["assist_norm"])
        assert not (terminated or truncated) and not info["unstable"]
    assert info["route_progress"] > start + 0.15  # two hand holds further (measured: three)
    assert 0.0 < np.mean(assists) < 0.3  # body weights (measured 0.08): the grips carry the load
    env.close()


def _hang_sag(scene, world, feedforward: bool) -> float:
    """Mean hinge error (rad) over the last half of two seconds holding the start stance."""
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state", control="physics")
    u = env.unwrapped
    obs, _ = env.reset(seed=0)
    q0 = u.data.qpos[world.index.hinge_qpos].copy()
    config = TrackerConfig(gravity_feedforward=feedforward, limb_feedback=0.0, hold_retarget=0.0)
    tracker = Tracker.from_world(world, u.config, assist="none", config=config)
    tracker.set_reference(_hang_reference(world, frames=90))
    estimator = RootEstimator(u.world.route_view(u.route, u.config.route_lookahead))
    errors = []
    for _ in range(60):
        action = tracker.act(_as_dict(env, obs), estimator.estimate(obs))
        obs, *_ = env.step(action)
        errors.append(np.abs(u.data.qpos[world.index.hinge_qpos] - q0).mean())
    env.close()
    assert (tracker.feedforward != 0).any() == feedforward
    return float(np.mean(errors[30:]))


def test_gravity_feedforward_stops_the_joints_sagging(scene, world):
    """The static support torques, added as target offsets, hold the hanging body in its
    reference pose: measured 4.5 mrad mean sag without, 1.0 mrad with."""
    without = _hang_sag(scene, world, feedforward=False)
    with_ff = _hang_sag(scene, world, feedforward=True)
    assert with_ff < 0.5 * without


def test_next_contacts_looks_ahead_per_limb():
    contacts = np.array([[3, -1], [-1, -1], [5, 2], [-1, -1]])
    np.testing.assert_array_equal(next_contacts(contacts), [[3, 2], [5, 2], [5, 2], [-1, -1]])
