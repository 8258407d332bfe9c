"""The scripted climber: plan properties on the builtin wall, seeded variation, timing bounds,
move sequencing, and a kinematic climb of the route in ClimbRoute-v0."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import navenv  # noqa: F401  (registers ClimbRoute-v0)
import scenes
from navenv.body.rotations import quat_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.envs.climb.compiled import compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.grips import Grips
from navenv.humanoid.pose import motion_from_qpos
from navenv.sinking import DepthGauge, SceneRays
from policies import Policy
from policies.scripted import (
    PlannerConfig,
    ScriptedClimber,
    TimingLimits,
    climb_sequence,
    derive_moves,
    plan_climb,
)
from policies.scripted.keyframes import WallClearance, frame_penetration
from policies.scripted.trajectory import fit_durations, frame_rates, sample, to_coords
from scenes.reach import DEFAULT_CLIMBER, stance_reachable
from scenes.route_setter import route_stances
from scenes.types import LIMBS, Route


@pytest.fixture(scope="module")
def plan(scene, world):
    return plan_climb(scene, scene.routes[0], seed=0, world=world)


# ------------------------------------------------------------------ the plan
def test_plan_reaches_the_top_with_both_hands(scene, world, plan):
    top = world.hold_slot[scene.routes[0].top]
    assert plan.success
    np.testing.assert_array_equal(plan.contacts[-1, :2], [top, top])
    assert plan.fps == 30.0 and plan.motion.fps == 30.0
    assert len(plan.motion) == plan.num_frames == len(plan.contacts) == len(plan.grip)
    assert all(k.grip_ok for k in plan.stances)
    # the plan starts in the env's own start stance
    np.testing.assert_array_equal(plan.contacts[0], world.start_holds(scene.routes[0]))
    assert plan.duration < 60.0  # fits ClimbRoute-v0's 1800-step episode


def test_three_points_of_contact_at_every_frame(plan):
    assert ((plan.contacts >= 0).sum(axis=1) >= 3).all()
    # only one limb moves at a time, and the grip channel is the contact timeline
    np.testing.assert_array_equal(plan.grip, plan.contacts >= 0)


def test_contacts_within_capture_radius(world, plan):
    """Every frame a limb is on a hold, its gripping geoms are within the env's capture radius
    of that hold (the env would hold the grip there)."""
    cfg = ClimbConfig()
    grips = Grips(world.model, world.index, world.hold_geoms, cfg.capture_radius, np.ones(4))
    data = mujoco.MjData(world.model)
    fromto = np.zeros(6)
    worst = 0.0
    for t in range(0, plan.num_frames, 2):
        data.qpos[:] = plan.qpos[t]
        mujoco.mj_kinematics(world.model, data)
        for limb in np.flatnonzero(plan.contacts[t] >= 0):
            hold_geom = int(world.hold_geoms[plan.contacts[t, limb]])
            dist = min(
                mujoco.mj_geomDistance(world.model, data, int(g), hold_geom, 1.0, fromto)
                for g in grips.limb_geoms[limb]
            )
            worst = max(worst, dist)
    assert worst <= cfg.capture_radius


def test_holding_limbs_stay_put_and_ik_is_accurate(world, plan):
    assert plan.max_ik_error < 0.03
    data = mujoco.MjData(world.model)
    # a limb on a hold moves less than 3 cm over its whole stay
    for limb in range(4):
        c = plan.contacts[:, limb]
        starts = np.flatnonzero((c >= 0) & (np.r_[-2, c[:-1]] != c))
        for s in starts:
            stop = s
            while stop + 1 < len(c) and c[stop + 1] == c[s]:
                stop += 1
            sites = []
            for t in range(s, stop + 1, 3):
                data.qpos[:] = plan.qpos[t]
                mujoco.mj_kinematics(world.model, data)
                sites.append(data.site_xpos[world.index.grip_sites[limb]].copy())
            sites = np.array(sites)
            assert np.linalg.norm(sites - sites[0], axis=1).max() < 0.03


def test_speed_and_acceleration_within_bounds(world, plan):
    limits = PlannerConfig().limits
    coords = to_coords(plan.qpos, world.index, quat_to_matrix(plan.qpos[0, 3:7]))
    rates = frame_rates(coords, plan.fps)
    assert rates["joint_speed"] <= limits.max_joint_speed * 1.02
    assert rates["joint_accel"] <= limits.max_joint_accel * 1.05
    assert rates["root_speed"] <= limits.max_root_speed * 1.02
    assert rates["root_accel"] <= limits.max_root_accel * 1.05
    assert rates["joint_speed"] > 0.3 * limits.max_joint_speed  # it does move


def test_no_penetration_beyond_tolerance(scene, world, plan):
    tol = PlannerConfig().ik.penetration_tol
    own = np.zeros(world.model.ngeom, bool)
    own[world.index.geoms] = True
    rays = SceneRays(scene)  # limbs right through a panel count too
    keyframes = np.array([k.qpos for k in plan.stances[1:]])
    deepest = frame_penetration(world.model, keyframes, own, rays)
    # IK keyframes: within twice the IK's contact tolerance (its rows push to half of it)
    assert deepest.max() <= 2 * tol
    # interpolated frames between them: the deepest transient stays shallow and rare
    frames = frame_penetration(world.model, plan.qpos, own, rays)
    assert plan.max_penetration == pytest.approx(frames.max())
    assert frames.max() < 0.03
    assert (frames > 2 * tol).mean() < 0.02


def test_no_limb_through_an_overhang_panel():
    """On this overhang, interpolating between clear keyframes swung a thigh through the 10 cm
    panel and IK put the knee out the back (contacts saw a few mm, so nothing was repaired): the
    planner now measures depth with the scene's rays as well and keeps every bone in front."""
    from scenes import splits

    scene = splits.get("test_iid")[7].build()
    world = compile_world(scene, Skeleton.builtin(), ClimbConfig())
    plan = plan_climb(scene, scene.routes[0], seed=0, world=world)
    assert plan.success
    own = np.isin(np.arange(world.model.ngeom), world.index.geoms)
    gauge = DepthGauge(world.model, own, SceneRays(scene))
    data = mujoco.MjData(world.model)
    through = []
    for q in plan.qpos:
        data.qpos[:] = q
        mujoco.mj_kinematics(world.model, data)
        through.append(gauge.pierce(data))
    assert max(through) == 0.0
    assert plan.max_penetration <= 2 * PlannerConfig().ik.penetration_tol + 1e-3


def test_motion_is_the_qpos(world, plan):
    back = motion_from_qpos(plan.qpos, world.index, Skeleton.builtin(), plan.fps)
    np.testing.assert_allclose(back.to_features(), plan.motion.to_features(), atol=1e-6)


def test_same_seed_same_arrays_other_seed_other_motion(scene, world, plan):
    again = plan_climb(scene, scene.routes[0], seed=0, world=world)
    np.testing.assert_array_equal(again.qpos, plan.qpos)
    np.testing.assert_array_equal(again.contacts, plan.contacts)
    np.testing.assert_array_equal(again.grip, plan.grip)
    other = plan_climb(scene, scene.routes[0], seed=1, world=world)
    assert other.success
    n = min(other.num_frames, plan.num_frames)
    differs = other.num_frames != plan.num_frames or not np.allclose(other.qpos[:n], plan.qpos[:n])
    assert differs
    assert np.abs(other.qpos[n // 2] - plan.qpos[n // 2]).max() > 1e-3


def test_planner_config_validation():
    with pytest.raises(ValueError, match="shift_fraction"):
        PlannerConfig(shift_fraction=(0.5, 1.5))
    with pytest.raises(ValueError, match="hand_move_duration_s"):
        PlannerConfig(hand_move_duration_s=(1.0, 0.5))
    with pytest.raises(ValueError, match="swap_probability"):
        PlannerConfig(swap_probability=2.0)
    with pytest.raises(ValueError, match="max_joint_speed"):
        TimingLimits(max_joint_speed=0.0)
    with pytest.raises(ValueError, match="retime_factor"):
        PlannerConfig(retime_factor=0.5)
    with pytest.raises(ValueError, match="retime_rounds"):
        PlannerConfig(retime_rounds=-1)
    with pytest.raises(ValueError, match="attempts"):
        PlannerConfig(attempts=0)
    with pytest.raises(ValueError, match="clean_depth_m"):
        PlannerConfig(clean_depth_m=-0.01)


def test_a_sunk_first_draw_is_drawn_again():
    """In the first draw of this route a high right-foot step brings the thigh 7 cm into the
    right upper arm; the planner draws again (from the same seed's generator) and keeps the clean plan."""
    from scenes import splits

    scene = splits.get("train")[27].build()
    world = compile_world(scene, Skeleton.builtin(), ClimbConfig())
    route = scene.routes[2]
    first = plan_climb(scene, route, seed=0, world=world, config=PlannerConfig(attempts=1))
    assert first.attempts == 1 and first.max_penetration > PlannerConfig().clean_depth_m
    assert not first.clean
    redraw = PlannerConfig()  # redraws are the default
    plan = plan_climb(scene, route, seed=0, world=world)
    assert plan.success and 1 < plan.attempts <= redraw.attempts
    assert plan.clean and plan.max_penetration <= redraw.clean_depth_m
    own = world.index.geom_mask(world.model.ngeom)
    frames = frame_penetration(world.model, plan.qpos, own, SceneRays(scene))
    assert frames.max() == pytest.approx(plan.max_penetration)
    again = plan_climb(scene, route, seed=0, world=world, config=redraw)
    np.testing.assert_array_equal(again.qpos, plan.qpos)


def test_route_must_belong_to_scene(scene):
    other = scenes.load("wall_overhang_01")
    with pytest.raises(ValueError, match="not one of scene"):
        plan_climb(scene, other.routes[0], seed=0)


# ------------------------------------------------------------------ move sequencing
def test_swaps_keep_the_moves_and_stay_reachable(scene):
    route = scene.routes[0]
    holds = {h.id: h for h in scene.holds}
    kinds = {h.id: h.kind for h in scene.holds}
    swapped = climb_sequence(route, kinds, holds, np.random.default_rng(0), swap_probability=1.0)
    assert sorted(swapped) == sorted(route.moves)
    assert swapped != list(route.moves)  # some pair was swappable
    assert swapped[-1] == route.moves[-1]  # the finish on the top hold is kept
    reordered = Route(**{**vars(route), "moves": swapped})
    for stance in route_stances(reordered)[1:]:
        if stance not in route_stances(route):
            assert stance_reachable(DEFAULT_CLIMBER, {l: holds[stance[l]] for l in LIMBS})
    plain = climb_sequence(route, kinds, holds, np.random.default_rng(0), swap_probability=0.0)
    assert plain == list(route.moves)


def test_derived_moves_for_a_route_without_moves(scene):
    route = Route(**{**vars(scene.routes[0]), "moves": []})
    kinds = {h.id: h.kind for h in scene.holds}
    holds = {h.id: h for h in scene.holds}
    moves = derive_moves(route, kinds, holds)
    final = route_stances(Route(**{**vars(route), "moves": moves}))[-1]
    assert final["left_hand"] == final["right_hand"] == route.top
    assert all(h in route.holds for _, h in moves)
    assert all(kinds[h] == "foothold" for l, h in moves if l.endswith("foot"))


def test_plan_without_moves_climbs_too(scene, world):
    route = Route(**{**vars(scene.routes[0]), "moves": []})
    scene2 = scenes.loads(scenes.dumps(scene))
    scene2.routes[0] = route
    plan = plan_climb(scene2, route, seed=0)
    top = world.hold_slot[route.top]
    np.testing.assert_array_equal(plan.contacts[-1, :2], [top, top])
    assert ((plan.contacts >= 0).sum(axis=1) >= 3).all()


def test_start_stance_must_have_four_limbs(scene):
    route = Route(
        **{**vars(scene.routes[0]), "start": {"left_hand": scene.routes[0].start["left_hand"]}}
    )
    with pytest.raises(ValueError, match="start stance lacks"):
        climb_sequence(route, {}, {}, np.random.default_rng(0))


# ------------------------------------------------------------------ timing
def test_rest_to_rest_segments_are_minimum_jerk():
    limits = TimingLimits()
    coords = np.zeros((2, 75))
    coords[1, 10] = 1.0  # one hinge turns 1 rad
    dur, vel = fit_durations(coords, np.array([True, True]), np.array([0.1]), limits)
    frames, at = sample(coords, vel, dur, limits.fps)
    s = np.arange(len(frames)) / (len(frames) - 1)
    np.testing.assert_allclose(frames[:, 10], 10 * s**3 - 15 * s**4 + 6 * s**5, atol=1e-9)
    assert list(at) == [0, len(frames) - 1]
    rates = frame_rates(frames, limits.fps)
    assert rates["joint_speed"] <= limits.max_joint_speed
    assert rates["joint_accel"] <= limits.max_joint_accel * 1.05


def test_fit_durations_bounds_random_keyframes():
    rng = np.random.default_rng(3)
    limits = TimingLimits(max_joint_speed=2.0, max_joint_accel=15.0)
    coords = np.cumsum(rng.normal(0, 0.4, (8, 75)), axis=0)
    rest = np.array([True, False, False, True, False, True, False, True])
    dur, vel = fit_durations(coords, rest, np.full(7, 0.2), limits)
    assert np.allclose(dur * limits.fps, np.round(dur * limits.fps))  # whole frames
    frames, at = sample(coords, vel, dur, limits.fps)
    np.testing.assert_allclose(frames[at], coords, atol=1e-12)
    assert (vel[rest] == 0).all()
    rates = frame_rates(frames, limits.fps)
    assert rates["joint_speed"] <= limits.max_joint_speed * 1.01
    assert rates["joint_accel"] <= limits.max_joint_accel * 1.05


# ------------------------------------------------------------------ the policy in the env
def test_climber_completes_the_route_kinematically(scene, plan):
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state", control="kinematic")
    climber = ScriptedClimber(action_space=env.action_space)
    assert isinstance(climber, Policy)
    obs, info = env.reset(seed=0)
    climber.reset(seed=0, info=info)
    np.testing.assert_allclose(climber.plan.qpos[0], env.unwrapped.data.qpos, atol=1e-9)
    done, steps = False, 0
    while not done:
        action = climber.act(obs)
        assert action.shape == env.action_space.shape and np.abs(action).max() <= 1.0
        obs, _, terminated, truncated, info = env.step(action)
        done, steps = terminated or truncated, steps + 1
        if steps == 30:  # the plan a video draws as the ghost: from the frame played now
            ahead = climber.plan_ahead(1.0)
            assert ahead.shape == (round(plan.fps) + 1, 24, 3)
            np.testing.assert_allclose(ahead[0], climber.reference_joints(steps + 1)[-1])
            np.testing.assert_allclose(ahead[-1], climber.plan_joints([30 + round(plan.fps)])[0])
    assert info["is_success"] and terminated and not truncated
    assert steps == plan.num_frames - 1
    joints = climber.reference_joints(steps + 1)
    assert joints.shape == (steps + 1, 24, 3)
    env.close()


def test_climber_control_from_action_space():
    env = gym.make("ClimbRoute-v0", obs="state", control="physics", assist="residual")
    c = ScriptedClimber(action_space=env.action_space)
    assert (c.control, c.assist) == ("physics", "residual")
    assert ScriptedClimber().control == "kinematic"
    assert ScriptedClimber(control="physics").assist == "residual"
    with pytest.raises(ValueError, match="do not match the action space"):
        ScriptedClimber(control="kinematic", action_space=env.action_space)
    with pytest.raises(ValueError, match="control="):
        ScriptedClimber(control="teleport")
    with pytest.raises(RuntimeError, match="reset"):
        ScriptedClimber().act(np.zeros(3))
    with pytest.raises(ValueError, match="reset info"):
        ScriptedClimber().reset(seed=0, info={})
    env.close()


def test_clear_point_takes_a_sunk_point_out_past_the_face(scene):
    """The repair's target for a travelling limb: a point inside the wall panel comes out
    along the hold normal to `clearance` in front of the face; a clear one stays put."""
    clearance = WallClearance(scene)
    hold = scene.holds[5]
    normal = np.asarray(hold.normal)
    beside = np.asarray(hold.position) + np.array([0.05, 0.0, 0.05])  # on the panel, off the hold
    sunk = beside - 0.05 * normal
    assert clearance.depth(sunk, normal) < 0
    out = clearance.clear_point(sunk, normal, 0.06)
    assert clearance.depth(out, normal) == pytest.approx(0.06, abs=1e-9)
    np.testing.assert_allclose(np.cross(out - sunk, normal), 0.0, atol=1e-12)  # along the normal
    clear = beside + 0.2 * normal
    np.testing.assert_array_equal(clearance.clear_point(clear, normal, 0.06), clear)


def test_keyframe_restarts_are_seeded_and_within_the_hinge_ranges(world):
    """A keyframe stuck in a contact is retried from random shakes of its hinges: the same for
    every solver built alike (plans stay a function of their inputs), inside the joint ranges."""
    from policies.scripted.keyframes import RESTART_RAD, RESTARTS, IKWeights, KeyframeSolver

    idx = world.index
    prior = world.model.qpos0.copy()

    def shakes():
        solver = KeyframeSolver(world.model, idx, {}, prior, IKWeights())
        return [q for q, _ in solver._shaken(prior)]

    first, again = shakes(), shakes()
    assert len(first) == RESTARTS
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    lo, hi = idx.hinge_range.T
    for q in first:
        moved = q[idx.hinge_qpos] - prior[idx.hinge_qpos]
        assert np.all(np.abs(moved) <= RESTART_RAD + 1e-12) and np.abs(moved).max() > 0.1
        assert np.all(q[idx.hinge_qpos] >= lo - 1e-12) and np.all(q[idx.hinge_qpos] <= hi + 1e-12)
        np.testing.assert_array_equal(q[idx.root_qpos], prior[idx.root_qpos])  # hinges only
