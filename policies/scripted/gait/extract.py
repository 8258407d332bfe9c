"""Cut walk cycles and an idle pose out of retargeted mocap clips (see `library` for the types).

A cycle runs from a left heel strike (left foot contact onset, `contacts.detect_contacts`) to the
next one. It is kept only if it is steady, straight walking: one stance per foot, a plausible
duration, speed above `MIN_WALK_SPEED_M_S`, halves of similar speed and heading, and swing
ankles no higher than `MAX_SWING_CLEARANCE_M`, knees that straighten near heel strike, and
feet that do not cross (`MIN_STEP_WIDTH_M`); 131_01's walk is stylised (crouched, knee-high
steps), 02_01 opens with two cross-over steps. The cut is
resampled at N = round(duration * fps) evenly spaced phases, then put into the canonical frame
(root xy 0 at the strike, the cycle's displacement along -y, see `GaitCycle`), grounded (the
median sole clearance of planted feet is 0) and made periodic: the last frame's mismatch with the
first (rotations and height) is spread linearly over the cycle, the usual loop fix.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from navenv.body.joints import JOINT_INDEX
from navenv.body.kinematics import forward_kinematics, global_transforms
from navenv.body.motion import Motion
from navenv.body.rotations import axis_angle_to_matrix, geodesic_angle, matrix_to_axis_angle
from navenv.body.skeleton import Skeleton
from policies.scripted.gait.contacts import (
    ANKLES,
    contact_events,
    detect_contacts,
    foot_points,
    point_rest_heights,
    sole_clearance,
)
from policies.scripted.gait.cycle import GaitCycle, IdlePose, in_stance
from policies.scripted.gait.legik import LEGS, leg_lengths, solve_legs
from policies.scripted.gait.poses import (
    direction_yaw,
    heading_yaw,
    remove_yaw,
    sample_frames,
    yaw_matrix,
)

CYCLE_DURATION_S = (0.8, 1.6)  # adult walking cycles (Winter 2009: about 1.0-1.2 s)
MIN_WALK_SPEED_M_S = 0.6
MAX_HALF_TURN_RAD = math.radians(20.0)  # heading change between the cycle's two halves
MAX_HALF_SPEED_CHANGE = 0.2  # |v1 - v2| / v between the halves: steady, not starting or stopping
MAX_SWING_CLEARANCE_M = 0.35
MIN_STEP_WIDTH_M = 0.02  # planted ankles this far apart sideways at least: no cross-over steps
EVENT_SLACK_FRAMES = 1.0  # a toe-off may fall this far outside the cycle (no double support)
MAX_STRAIGHT_KNEE_RAD = math.radians(15.0)  # walking straightens the knee near heel strike;
# a cycle whose knees never do is crouched or stylised (131_01's walk keeps them at 20-90 deg)
KNEES = (JOINT_INDEX["left_knee"], JOINT_INDEX["right_knee"])
IDLE_WINDOW_S = 0.3
IDLE_MAX_ROOT_SPEED_M_S = 0.15  # a standing pelvis sways; CMU 131_01 starts at 0.07-0.13 m/s
IDLE_MAX_FOOT_OFFSET_M = 0.25  # ankles further from the pelvis are a stride or a pose, not standing
IDLE_KNEE_FLEX_RAD = math.radians(5.0)  # relaxed standing (Winter 2009: knees 0-5 deg)


def _at(x: np.ndarray, t: float) -> np.ndarray:
    """Linear interpolation of (T, ...) samples at fractional frame t."""
    i = min(math.floor(t), len(x) - 2)
    w = t - i
    return x[i] * (1.0 - w) + x[i + 1] * w


def _cycle_events(events, s0: float, s1: float) -> np.ndarray | None:
    """(2, 2) phases (strike, lift-off) of each foot in [s0, s1), or None if not one walk cycle."""
    (_, off_l), (on_r, off_r) = events
    span = s1 - s0
    lift_l = off_l[(off_l > s0) & (off_l < s1)]
    strike_r = on_r[(on_r > s0) & (on_r < s1)]
    if len(lift_l) != 1 or len(strike_r) != 1:
        return None
    lift_r = off_r[(off_r >= s0 - EVENT_SLACK_FRAMES) & (off_r < strike_r[0])]
    if len(lift_r) != 1 or lift_l[0] < strike_r[0] - EVENT_SLACK_FRAMES:
        return None
    times = np.array([[s0, lift_l[0]], [strike_r[0], lift_r[0]]])
    return np.clip((times - s0) / span, 0.0, 1.0)


def _is_steady_walk(xy: np.ndarray, s0: float, s1: float, fps: float) -> bool:
    """Speed, constancy and straightness of the root (T, 2) over frames [s0, s1]."""
    p0, pm, p1 = _at(xy, s0), _at(xy, 0.5 * (s0 + s1)), _at(xy, s1)
    half_s = 0.5 * (s1 - s0) / fps
    v1, v2 = np.linalg.norm(pm - p0) / half_s, np.linalg.norm(p1 - pm) / half_s
    v = 0.5 * (v1 + v2)
    turn = abs(math.remainder(float(direction_yaw(p1 - pm) - direction_yaw(pm - p0)), 2 * math.pi))
    return (
        v >= MIN_WALK_SPEED_M_S
        and abs(v1 - v2) / v <= MAX_HALF_SPEED_CHANGE
        and turn <= MAX_HALF_TURN_RAD
    )


def _loop_fix(transl: np.ndarray, rots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spread frame N's mismatch with frame 0 over (N+1) frames; return frames 0..N-1."""
    n = len(transl) - 1
    w = np.arange(n + 1) / n
    err = matrix_to_axis_angle(np.swapaxes(rots[-1], -1, -2) @ rots[0])  # (24, 3)
    rots = rots @ axis_angle_to_matrix(w[:, None, None] * err[None])
    transl = transl.copy()
    transl[:, 2] += w * (transl[0, 2] - transl[-1, 2])
    return transl[:-1], rots[:-1]


def _is_walk(m: Motion, joints: np.ndarray, skeleton: Skeleton, s0: float, s1: float) -> bool:
    """Duration, steadiness, swing height and knees of the clip between strikes s0 and s1."""
    duration = (s1 - s0) / m.fps
    if not CYCLE_DURATION_S[0] <= duration <= CYCLE_DURATION_S[1]:
        return False
    if not _is_steady_walk(m.transl[:, :2], s0, s1, m.fps):
        return False
    frames = slice(math.floor(s0), math.ceil(s1) + 1)
    clearance = sole_clearance(foot_points(joints[frames]), skeleton).min(axis=2)  # (n, 2)
    if (clearance - clearance.min()).max() > MAX_SWING_CLEARANCE_M:
        return False
    knees = geodesic_angle(m.rotations[frames][:, list(KNEES)], np.eye(3))  # (n, 2)
    return bool(knees.min(axis=0).max() <= MAX_STRAIGHT_KNEE_RAD)


def _cut(
    m: Motion, skeleton: Skeleton, phases: np.ndarray, s0: float, s1: float, name: str
) -> GaitCycle | None:
    """The cycle between strikes s0 and s1, canonical, grounded and periodic (None: feet cross)."""
    n = round(s1 - s0)  # frames at the clip's (the library's) fps
    transl, r = sample_frames(m.transl, m.rotations, s0 + np.arange(n + 1) / n * (s1 - s0))
    transl[:, :2] -= transl[0, :2]
    stride = float(np.linalg.norm(transl[-1, :2]))
    turn = yaw_matrix(-direction_yaw(transl[-1, :2]))  # walking direction -> -y
    transl = transl @ turn.T
    r[:, 0] = turn @ r[:, 0]
    contacts = in_stance(phases, np.arange(n + 1) / n)  # (N+1, 2)
    joints = forward_kinematics(skeleton, Motion(m.fps, transl, r[:, 0], r[:, 1:], skeleton.betas))
    if _step_width(joints, contacts) < MIN_STEP_WIDTH_M:
        return None
    transl[:, 2] -= _planted_sole_height(joints, contacts, skeleton)
    transl, r = _loop_fix(transl, r)
    return GaitCycle(
        name=f"{name}@{s0 / m.fps:.2f}s",
        transl=transl,
        global_orient=r[:, 0],
        body_pose=r[:, 1:],
        events=phases,
        stride_m=stride,
        duration_s=float((s1 - s0) / m.fps),
        leg_length_m=skeleton.leg_length(),
    )


def clip_cycles(motion: Motion, skeleton: Skeleton, name: str, fps: float) -> list[GaitCycle]:
    """Every steady left-strike-to-left-strike walk cycle of a clip, canonical and periodic."""
    m = motion.resample(fps)
    joints = forward_kinematics(skeleton, m)
    events = contact_events(detect_contacts(joints, fps, skeleton))
    cycles = []
    for s0, s1 in itertools.pairwise(events[0][0]):  # consecutive left heel strikes
        phases = _cycle_events(events, s0, s1)
        if phases is None or not _is_walk(m, joints, skeleton, s0, s1):
            continue
        cycle = _cut(m, skeleton, phases, s0, s1, name)
        if cycle is not None:
            cycles.append(cycle)
    return cycles


def _planted_sole_height(joints: np.ndarray, contacts: np.ndarray, skeleton: Skeleton) -> float:
    """Median sole clearance (m) of the lower point of each planted foot; joints (T, 24, 3)."""
    clearance = sole_clearance(foot_points(joints), skeleton)
    return float(np.median(clearance.min(axis=2)[contacts]))


def _step_width(joints: np.ndarray, contacts: np.ndarray) -> float:
    """Mean lateral distance (m) from the planted right ankle to the planted left one.

    Canonical frame: the cycle walks along -y, so the body's left is +x.
    """
    left = joints[contacts[:, 0], ANKLES[0], 0].mean()
    right = joints[contacts[:, 1], ANKLES[1], 0].mean()
    return float(left - right)


def _is_neutral(joints: np.ndarray) -> np.ndarray:
    """(T,) whether both ankles are within `IDLE_MAX_FOOT_OFFSET_M` of the pelvis on the floor."""
    rel = joints[:, list(ANKLES), :2] - joints[:, :1, :2]  # (T, 2, 2)
    return (np.linalg.norm(rel, axis=-1) < IDLE_MAX_FOOT_OFFSET_M).all(axis=1)


def _stand_straight(m: Motion, skeleton: Skeleton) -> Motion:
    """One frame tidied into a standing pose: feet flat on z = 0 where they stood, knees at
    `IDLE_KNEE_FLEX_RAD` (the pelvis raised or lowered to suit, by leg IK); the upper body and
    the feet's headings are kept.
    """
    rots_w, pos = global_transforms(skeleton.offsets, m.transl, m.rotations)
    hips, ankles = pos[:, [leg[0] for leg in LEGS]], pos[:, [leg[2] for leg in LEGS]]
    feet = rots_w[:, [leg[2] for leg in LEGS]]  # (1, 2, 3, 3)
    flat = yaw_matrix(heading_yaw(feet))  # a flat foot's world rotation is a pure yaw
    ankles[..., 2] = point_rest_heights(skeleton)[0]
    l1, l2 = leg_lengths(skeleton).T  # (2,) each
    chord = np.sqrt(l1**2 + l2**2 + 2.0 * l1 * l2 * math.cos(IDLE_KNEE_FLEX_RAD))  # (2,)
    d = hips - ankles  # (1, 2, 3)
    horizontal = np.linalg.norm(d[..., :2], axis=-1)
    shift = float((np.sqrt(np.maximum(chord**2 - horizontal**2, 0.0)) - d[..., 2]).min())
    up = Motion(
        m.fps, m.transl + np.array([0.0, 0.0, shift]), m.global_orient, m.body_pose, m.betas
    )
    return solve_legs(up, skeleton, ankles, flat)


def clip_idle(
    motion: Motion, skeleton: Skeleton, name: str, fps: float
) -> tuple[float, IdlePose] | None:
    """The quietest neutral standing frame of a clip and its score (mean joint speed, m/s).

    Candidates: frames of `IDLE_WINDOW_S` windows in which both feet are planted near the pelvis
    (`_is_neutral`) and the root moves slower than `IDLE_MAX_ROOT_SPEED_M_S`; None if there are
    none. The pose keeps its lean but not its heading, and is tidied by `_stand_straight`
    (131_01's performer stands in a 35-degree crouch on tilted feet).
    """
    m = motion.resample(fps)
    joints = forward_kinematics(skeleton, m)
    both = detect_contacts(joints, fps, skeleton).all(axis=1)
    speed = np.linalg.norm(np.gradient(joints, axis=0), axis=-1).mean(axis=1) * fps  # (T,)
    root_speed = np.linalg.norm(np.gradient(m.transl[:, :2], axis=0), axis=-1) * fps
    w = max(1, round(IDLE_WINDOW_S * fps))
    if len(m) < w:
        return None
    good = both & (root_speed < IDLE_MAX_ROOT_SPEED_M_S) & _is_neutral(joints)
    kernel = np.ones(w) / w
    score = np.convolve(speed, kernel, mode="valid")  # the window starting at each frame
    score = np.where(np.convolve(good.astype(float), kernel, "valid") > 1.0 - 1e-9, score, np.inf)
    if not np.isfinite(score).any():
        return None
    start = int(np.argmin(score))
    f = start + w // 2
    frame = m.slice(f, f + 1)
    frame = Motion(fps, frame.transl, remove_yaw(frame.global_orient), frame.body_pose, frame.betas)
    frame = _stand_straight(frame, skeleton)
    pose = IdlePose(
        name=f"{name}@{f / fps:.2f}s",
        global_orient=frame.global_orient[0],
        body_pose=frame.body_pose[0],
        height_m=float(frame.transl[0, 2]),
        leg_length_m=skeleton.leg_length(),
    )
    return float(score[start]), pose
