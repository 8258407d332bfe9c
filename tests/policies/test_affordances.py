"""Sitting and reaching for scripted agents: the pelvis comes down onto the seat with the feet
planted, the hand gets to its target (or as far toward it as the arm goes), both start and end
on the standing pose, stay valid and within the joint ranges, and the room agent sits at a chair
in RoomNav-v0 after reaching it."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from navenv.body.joints import JOINT_INDEX, SMPL_JOINT_NAMES
from navenv.body.kinematics import forward_kinematics
from navenv.body.skeleton import Skeleton
from navenv.humanoid.pose import joint_angles
from navenv.humanoid.tables import SEGMENT_RADIUS_FRACTION, joint_range_deg
from policies.scripted.gait import reach, sit, sit_back_m, stand
from policies.scripted.gait.armik import arm_reach_m
from policies.scripted.room import AgentProfile, RoomAgent
from policies.scripted.room.uses import (
    BACK_CLEARANCE_M,
    nearest_face,
    plan_reach,
    plan_sit,
    seat_height,
)
from scenes import splits
from scenes.navigation import NavGrid, approach_points, footprint_distance
from scenes.types import Region

XY, YAW, FPS = np.array([0.6, -0.4]), 0.7, 30.0
FORWARD = np.array([math.sin(YAW), -math.cos(YAW), 0.0])
SKELETON = Skeleton.builtin()
FEET = [JOINT_INDEX[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
HIPS = [JOINT_INDEX["left_hip"], JOINT_INDEX["right_hip"]]
HINGE_RANGE = np.radians(np.array([joint_range_deg(n) for n in SMPL_JOINT_NAMES[1:]])).reshape(
    69, 2
)


def _joints(motion) -> np.ndarray:
    return forward_kinematics(SKELETON, motion)


def _beyond_range_deg(motion) -> np.ndarray:
    """(69,) most degrees each hinge goes outside its range over the motion (0 inside)."""
    a = joint_angles(motion, HINGE_RANGE)
    out = np.maximum(HINGE_RANGE[:, 0] - a, a - HINGE_RANGE[:, 1])
    return np.degrees(np.maximum(out, 0.0).max(axis=0))


@pytest.mark.parametrize("seat", [0.45, 0.6])
def test_sit_lowers_the_pelvis_onto_the_seat_and_keeps_the_feet_planted(seat):
    motion = sit(4.0, XY, YAW, seat, FPS)
    p = _joints(motion)
    standing = p[0, 0, 2]
    # the thighs rest on the seat: the pelvis sits a thigh radius and its hip depth above it
    thigh_offset = SEGMENT_RADIUS_FRACTION["thigh"] * SKELETON.stature + (
        standing - p[0, HIPS, 2].mean()
    )
    drop = standing - p[:, 0, 2].min()
    assert drop == pytest.approx(standing - seat - thigh_offset, abs=0.01)
    held = len(motion) // 2
    assert p[held, HIPS, 2].mean() == pytest.approx(
        seat + SEGMENT_RADIUS_FRACTION["thigh"] * SKELETON.stature, abs=0.005
    )
    # ... backed up onto the seat behind, by what sit_back_m tells the caller
    back = -(p[held, HIPS].mean(axis=0)[:2] - XY) @ FORWARD[:2]
    assert back == pytest.approx(sit_back_m(seat), abs=0.01)
    assert 0.25 < back < 0.5
    slide = np.linalg.norm(p[:, FEET] - p[:1, FEET], axis=-1).max()
    assert slide < 0.02
    # knees bent about a right angle, hips flexed
    knee = joint_angles(motion, HINGE_RANGE)[held, 3 * (JOINT_INDEX["left_knee"] - 1)]
    assert math.radians(70) < knee < math.radians(110)


def test_reach_gets_the_hand_to_a_reachable_target():
    table = np.r_[XY, 0.0] + 0.42 * FORWARD + [0.0, 0.0, 0.8]  # a hand on a table top
    shelf = np.r_[XY, 0.0] + 0.35 * FORWARD + [0.0, 0.0, 1.3]  # at a shelf's front
    for side, target, above in (("right", table, True), ("left", shelf, False)):
        motion = reach(3.0, XY, YAW, target, FPS, side, from_above=above)
        p = _joints(motion)
        hand = p[len(motion) // 2, JOINT_INDEX[f"{side}_hand"]]
        assert np.linalg.norm(hand - target) < 0.03, side
        assert np.linalg.norm(p[:, FEET] - p[:1, FEET], axis=-1).max() < 1e-9  # feet stay


def test_reach_toward_an_unreachable_target_stops_at_arm_length_on_the_way():
    target = np.r_[XY, 0.0] + 1.6 * FORWARD + [0.0, 0.0, 1.3]
    motion = reach(3.0, XY, YAW, target, FPS, "right")
    p = _joints(motion)[len(motion) // 2]
    shoulder, hand = p[JOINT_INDEX["right_shoulder"]], p[JOINT_INDEX["right_hand"]]
    line = (target - shoulder) / np.linalg.norm(target - shoulder)
    off_line = np.linalg.norm((hand - shoulder) - ((hand - shoulder) @ line) * line)
    assert off_line < 0.03
    assert np.linalg.norm(hand - shoulder) == pytest.approx(arm_reach_m(SKELETON), abs=0.03)
    assert np.linalg.norm(hand - target) > 0.5


@pytest.mark.parametrize("make", ["sit", "reach"])
def test_uses_start_and_end_standing_and_are_valid_motions(make):
    if make == "sit":
        motion = sit(3.5, XY, YAW, 0.5, FPS)
    else:
        motion = reach(3.0, XY, YAW, np.r_[XY, 0.0] + 0.4 * FORWARD + [0, 0, 0.8], FPS)
    still = stand(0.0, XY, YAW, FPS)
    for end in (0, -1):
        np.testing.assert_allclose(motion.rotations[end], still.rotations[0], atol=1e-6)
        np.testing.assert_allclose(motion.transl[end], still.transl[0], atol=1e-6)
    rots = motion.rotations
    assert np.isfinite(rots).all() and np.isfinite(motion.transl).all()
    eye = np.broadcast_to(np.eye(3), rots.shape)
    np.testing.assert_allclose(rots @ np.swapaxes(rots, -1, -2), eye, atol=1e-9)
    assert np.allclose(np.linalg.det(rots), 1.0)
    # no joint leaves its range further than the standing pose already does (the idle pose
    # of the recording sits a few degrees outside some ranges)
    worse = _beyond_range_deg(motion) - _beyond_range_deg(still)
    assert worse.max() < 1.0, [SMPL_JOINT_NAMES[1 + i // 3] for i in np.flatnonzero(worse >= 1)]
    # smooth: no joint moves faster than a brisk hand does (m/s)
    speed = np.linalg.norm(np.diff(_joints(motion), axis=0), axis=-1).max() * FPS
    assert speed < 2.5


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sit(-1.0, XY, YAW, 0.5), "duration"),
        (lambda: sit(3.0, XY, YAW, 0.9), "seat_height"),  # at the hips
        (lambda: sit(3.0, XY, YAW, 0.1), "seat_height"),
        (lambda: sit(3.0, XY, YAW, float("nan")), "seat_height"),
        (lambda: sit(3.0, XY, YAW, 0.5, fps=0.0), "fps"),
        (lambda: reach(-0.5, XY, YAW, (0.0, 0.0, 1.0)), "duration"),
        (lambda: reach(3.0, XY, YAW, (0.0, float("inf"), 1.0)), "target_xyz"),
        (lambda: reach(3.0, XY, YAW, (0.0, 1.0)), "target_xyz"),
        (lambda: reach(3.0, XY, YAW, (0.0, 0.0, 1.0), side="middle"), "side"),
        (lambda: reach(3.0, (0.0, float("nan")), YAW, (0.0, 0.0, 1.0)), "pos_xy"),
    ],
)
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_seats_and_faces_of_furniture_boxes():
    chair = Region("chair", (0.0, 0.0, 0.45), (0.22, 0.22, 0.45))
    bed = Region("bed", (0.0, 0.0, 0.25), (0.8, 1.0, 0.25))
    assert seat_height(chair) == pytest.approx(0.45)  # a chair box has its back: half its height
    assert seat_height(bed) == pytest.approx(0.5)  # a bed box is its mattress
    assert seat_height(Region("bed", (0, 0, 0.15), (0.8, 1.0, 0.15))) is None  # too low
    assert seat_height(Region("table", (0, 0, 0.37), (0.5, 0.4, 0.37))) is None
    face, normal = nearest_face(bed, (0.3, 1.5), end_margin=0.3)
    np.testing.assert_allclose(face, [0.3, 1.0])
    np.testing.assert_allclose(normal, [0.0, 1.0])
    face, _ = nearest_face(chair, (0.15, -0.6), end_margin=math.inf)  # a chair: its middle
    np.testing.assert_allclose(face, [0.0, -0.22])


def test_use_spots_turn_the_back_to_a_seat_and_face_a_table():
    scene = splits.spec("rooms_val/004").build()
    nav = NavGrid.from_scene(scene)
    chair, bed, table = (
        next(r for r in scene.regions if r.label == k) for k in ("chair", "bed", "table")
    )
    plans = [plan_sit(chair, a, scene.regions, nav) for a in approach_points(chair, nav)]
    use = next(u for u in plans if u is not None)
    facing = np.array([math.sin(use.yaw), -math.cos(use.yaw)])
    hips = use.xy - sit_back_m(use.seat_height) * facing  # where sitting puts them
    assert footprint_distance(hips, chair) == pytest.approx(BACK_CLEARANCE_M, abs=1e-6)
    assert footprint_distance(hips + 0.1 * facing, chair) > footprint_distance(hips, chair)
    # physics: nothing carries a body in front of a chair box, a bed's top does
    assert all(
        plan_sit(chair, a, scene.regions, nav, carried_only=True) is None
        for a in approach_points(chair, nav)
    )
    beds = [
        plan_sit(bed, a, scene.regions, nav, carried_only=True) for a in approach_points(bed, nav)
    ]
    assert any(u is not None for u in beds)
    rng = np.random.default_rng(0)
    reaches = [plan_reach(table, a, scene.regions, nav, rng) for a in approach_points(table, nav)]
    use = next(u for u in reaches if u is not None)
    facing = np.array([math.sin(use.yaw), -math.cos(use.yaw)])
    assert footprint_distance(use.xy + 0.3 * facing, table) < footprint_distance(use.xy, table)
    assert use.from_above and footprint_distance(use.target[:2], table) == 0.0  # on the top


def test_profiles_draw_how_often_they_sit_and_reach():
    draws = [AgentProfile.draw(np.random.default_rng(s)) for s in range(6)]
    assert len({d.sit_p for d in draws}) == 6 and len({d.reach_p for d in draws}) == 6
    assert all(0.0 < d.sit_p < 1.0 and 0.0 < d.reach_p < 1.0 for d in draws)


def test_room_agent_that_always_sits_reaches_the_chair_then_sits_down():
    from navenv.envs.room import RoomNavEnv

    env = RoomNavEnv(obs="state", scene="rooms_val/004", width=16, height=16)
    seed = 0
    profile = dataclasses.replace(
        AgentProfile.draw(np.random.default_rng(seed)), sit_p=1.0, reach_p=0.0
    )
    agent = RoomAgent(profile=profile)
    obs, info = env.reset(seed=seed, options={"goal": "chair"})
    assert info["goal_label"] == "chair" and env.unwrapped.control == "kinematic"
    agent.reset(seed=seed, info=info)
    height = lambda o: float(env.unwrapped.obs_layout.get(o, "position")[2])  # noqa: E731
    standing = height(obs)
    succeeded, heights, depths = None, [], []
    for _ in range(1200):
        obs, _, term, _, info = env.step(agent.act(obs))
        if term and succeeded is None:
            assert info["is_success"] and info["reward_fall"] == 0
            succeeded = height(obs)
        if succeeded is not None:  # play the dwell on, as the data generator does
            if agent._t >= agent._walk_frames:  # the sitting (the walk went on to the seat)
                heights.append(height(obs))
                depths.append(info["penetration"])
            if agent.done:
                break
    assert succeeded is not None and succeeded > standing - 0.05  # success on arrival, standing
    heights, depths = np.array(heights), np.array(depths)
    seated = heights < heights.min() + 0.01
    assert heights.min() < standing - 0.3 and seated.sum() > FPS  # seated over a second
    # nothing sinks into the chair (nor the floor) seated; sitting down and standing up, at
    # most an arm brushes the hips (self-contacts count as penetration too)
    assert depths[seated].max() < 0.02 and depths.max() < 0.05
    assert height(obs) > standing - 0.01  # and up again at the end
