"""What furniture affords a scripted walker besides standing: sitting on it, reaching to it.

`sit` lowers the idle standing pose (the one `stand` holds) onto a seat behind it and stands up
again; `reach` raises one hand to a point and lowers it. Each starts and ends on the idle pose
exactly, so they concatenate with `walk_along`, `stand` and `turn_in_place`, and moves between
with minimum-jerk transitions (Flash & Hogan 1985) of `TRANSITION_S`.

Sitting: the feet stay where they stood (the legs are re-solved onto the planted ankles and foot
rotations every frame, `legik.solve_legs`); the hips come down until the thighs rest on the seat
(hip joints one thigh radius of the humanoid above it, `navenv.humanoid.tables`) and back until,
with the shins tilted `SHIN_TILT_RAD` forward, each thigh spans its bone length from hip to knee:
`sit_back_m` says how far behind the standing spot that puts the hips, so a caller can put the
seat's edge there. The trunk leans forward on the way down and up (the chest over the feet) and
the hands come to rest on the thighs (`armik.solve_arm`). Reaching: the hand swings around the
shoulder from where it hangs to the target (`_hand_path`), arriving from above (a surface) or
from in front (a face); the trunk flexes forward, up to `REACH_LEAN_MAX_RAD`, when the target is
beyond the arm, and a target still beyond it is reached toward as far as the arm goes.

Joint angles stay within the humanoid's ranges (`navenv.humanoid.tables`, as
`navenv.humanoid.pose.joint_angles` converts them) wherever the idle pose itself does, for seats
of `MIN_SEAT_M` and up and for reaches up to about shoulder height; reaches well above the
shoulder leave the shoulder's Euler ranges (the env clips them there).
"""

from __future__ import annotations

import math

import numpy as np

from navenv.body.joints import JOINT_INDEX
from navenv.body.kinematics import global_transforms
from navenv.body.motion import Motion
from navenv.body.rotations import axis_angle_to_matrix
from navenv.humanoid.tables import SEGMENT_RADIUS_FRACTION
from policies.scripted.gait.armik import SIDES, arm_joints, arm_reach_m, solve_arm
from policies.scripted.gait.layers import Body, idle_frames
from policies.scripted.gait.legik import LEGS, leg_lengths, solve_legs
from policies.scripted.gait.library import MotionLibrary
from policies.scripted.gait.synth import _body, _check_fps, _check_xy, _check_yaw

TRANSITION_S = 1.0  # sitting down, standing up, raising or lowering the arm, each
MIN_SEAT_M = 0.3  # lower, the knees fold past ~130 deg with the feet where they stood
MIN_HIP_DROP_M = 0.05  # a seat must bring the hips down this much (else it is standing)
SHIN_TILT_RAD = math.radians(10.0)  # seated knees a little ahead of the ankles, as people sit
SIT_LEAN_RAD = math.radians(30.0)  # trunk lean midway down and up: sit-to-stand brings the
# chest over the feet (Schenkman et al. 1990: 30-45 deg of trunk flexion)
HANDS_ON_THIGH = 0.6  # seated hands rest this far along the thigh from hip to knee
PALM_HALF_M = 0.05  # a resting hand joint is this far above the thigh's surface: the hand
# rests on its edge (palm inward, as it hangs), and is 8 cm wide (navenv.humanoid.builder)
HAND_LIFT_M = 0.1  # on their way, the hands pass this much above the straight way
HANDS_FIRST = 0.5  # of the way down, by when the hands are on the thighs
REACH_LEAN_MAX_RAD = math.radians(40.0)  # trunk flexion a reach may add (the spine's range: 90)
SPINE_SHARE = {"spine1": 0.4, "spine2": 0.33, "spine3": 0.27}  # of a lean: their ranges 35:30:25
REACH_SLACK = 0.97  # lean until the target is within this fraction of the arm's reach
LEAN_STEPS = 9  # trunk leans tried between none and the most
REACH_CLEAR_M = 0.12  # the hand comes down onto / in at its target from this far
ELBOW_TUCK = 0.1  # midway a reaching hand is this fraction nearer the shoulder (elbow bent)
_UP = np.array([0.0, 0.0, 1.0])
_SPINE = tuple(JOINT_INDEX[n] for n in SPINE_SHARE)


def min_jerk(x: np.ndarray | float) -> np.ndarray:
    """10x^3 - 15x^4 + 6x^5 on x clipped to [0, 1]: zero speed and acceleration at both ends."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return x**3 * (10.0 + x * (-15.0 + 6.0 * x))


def _check_duration(duration) -> float:
    if not (isinstance(duration, int | float) and math.isfinite(duration) and duration >= 0):
        raise ValueError(f"duration: expected seconds >= 0, got {duration!r}")
    return float(duration)


def _profile(duration: float, fps: float) -> np.ndarray:
    """(T,) weight of the held pose: 0 at both ends (exactly), 1 in the hold, min-jerk between.

    Transitions last TRANSITION_S, shortened so that they take at most two thirds of the time."""
    span = round(duration * fps)  # frame intervals
    k = min(round(TRANSITION_S * fps), span // 3)
    i = np.arange(span + 1)
    if k == 0:
        return np.zeros(span + 1)
    return np.minimum(min_jerk(i / k), min_jerk((span - i) / k))


def _forward(yaw: float) -> np.ndarray:
    """World facing (3,) of heading yaw (rest faces -y)."""
    return np.array([math.sin(yaw), -math.cos(yaw), 0.0])


def _left(yaw: float) -> np.ndarray:
    """World direction (3,) of the body's left at heading yaw (its +x)."""
    return np.array([math.cos(yaw), math.sin(yaw), 0.0])


def _standing(body: Body, xy: np.ndarray, yaw: float, n: int):
    """Idle transl (n, 3), rotations (n, 24, 3, 3), world rotations and positions of frame 0."""
    transl, rots = idle_frames(body, np.tile(xy, (n, 1)), np.full(n, yaw))
    rots_w, pos = global_transforms(body.skeleton.offsets, transl[:1], rots[:1])
    return transl, rots, rots_w[0], pos[0]


def _thigh_radius(body: Body) -> float:
    return SEGMENT_RADIUS_FRACTION["thigh"] * body.skeleton.stature


def _seated_shift(body: Body, pos: np.ndarray, yaw: float, seat_height) -> np.ndarray:
    """(3,) pelvis displacement from standing (joint positions `pos`) to seated at seat_height.

    Per leg: the knee tilts SHIN_TILT_RAD ahead of the planted ankle, the hip is a thigh's length
    behind it at seat height + thigh radius; the pelvis moves by the legs' mean."""
    hips = pos[[leg[0] for leg in LEGS]]  # (2, 3)
    ankles = pos[[leg[2] for leg in LEGS]]
    thigh, shin = leg_lengths(body.skeleton).T  # (2,), (2,)
    radius = _thigh_radius(body)
    hip_z = _seat_value(seat_height, hips[:, 2].mean() - radius) + radius
    f = _forward(yaw)
    knees = ankles + shin[:, None] * (math.sin(SHIN_TILT_RAD) * f + math.cos(SHIN_TILT_RAD) * _UP)
    rise = hip_z - knees[:, 2]
    behind = np.sqrt(np.maximum(thigh**2 - rise**2, 0.0))  # (2,) hip behind knee, on the floor
    back = ((hips - knees) @ f + behind).mean()  # how much further back the hips go
    return -back * f - (hips[:, 2].mean() - hip_z) * _UP


def _seat_value(seat_height, hip_top: float) -> float:
    """The seat height checked against what the legs can lower onto (ValueError naming it)."""
    ok = isinstance(seat_height, int | float | np.floating) and math.isfinite(seat_height)
    if not ok or seat_height < MIN_SEAT_M:
        raise ValueError(f"seat_height: expected metres >= {MIN_SEAT_M}, got {seat_height!r}")
    if seat_height > hip_top - MIN_HIP_DROP_M:
        raise ValueError(
            f"seat_height: {seat_height:.3f} m is at or above the hips (thighs rest at "
            f"{hip_top:.3f} m standing); at most {hip_top - MIN_HIP_DROP_M:.3f} m"
        )
    return float(seat_height)


def sit_back_m(seat_height: float, *, library: MotionLibrary | None = None, betas=None) -> float:
    """How far (m) behind the standing spot (against the facing) `sit` puts the hip joints."""
    body = _body(library, betas)
    _, _, _, pos = _standing(body, np.zeros(2), 0.0, 1)
    shift = _seated_shift(body, pos, 0.0, seat_height)
    hips = pos[[leg[0] for leg in LEGS]].mean(axis=0) + shift
    return float(-(hips[:2] @ _forward(0.0)[:2]))


def sit(
    duration: float,
    pos_xy,
    yaw: float,
    seat_height: float,
    fps: float = 30.0,
    *,
    library: MotionLibrary | None = None,
    betas=None,
) -> Motion:
    """From standing at pos_xy facing yaw, sit down on a seat behind, stay, stand up (duration s)."""
    duration, fps = _check_duration(duration), _check_fps(fps)
    xy, yaw = _check_xy(pos_xy), _check_yaw(yaw, "yaw")
    if yaw is None:
        raise ValueError("yaw: required (radians)")
    body = _body(library, betas)
    w = _profile(duration, fps)
    n = len(w)
    transl, rots, rots_w0, pos0 = _standing(body, xy, yaw, n)
    idle_transl, idle_rots = transl.copy(), rots.copy()
    shift = _seated_shift(body, pos0, yaw, seat_height)
    transl = transl + w[:, None] * shift
    lean = SIT_LEAN_RAD * np.sin(np.pi * w)  # none standing or seated, most midway
    rots[:, 0] = axis_angle_to_matrix(lean[:, None] * _left(yaw)) @ rots[:, 0]  # + leans forward
    motion = Motion(fps, transl, rots[:, 0], rots[:, 1:], body.skeleton.betas)
    ankles = [leg[2] for leg in LEGS]
    motion = solve_legs(
        motion,
        body.skeleton,
        np.broadcast_to(pos0[ankles], (n, 2, 3)),
        np.broadcast_to(rots_w0[ankles], (n, 2, 3, 3)),
    )
    motion = _hands_on_thighs(motion, body, w)
    return _exact_ends(motion, w, idle_transl, idle_rots)


def _hands_on_thighs(motion: Motion, body: Body, w: np.ndarray) -> Motion:
    """Both hands moved from where they hang onto the tops of the thighs, in the first
    HANDS_FIRST of the way down (the last of the way up): on them before the thighs rise."""
    _, pos = global_transforms(body.skeleton.offsets, motion.transl, motion.rotations)
    lift = _thigh_radius(body) + PALM_HALF_M
    a = min_jerk(w / HANDS_FIRST)
    over = 4.0 * a * (1.0 - a) * HAND_LIFT_M  # up and over the thigh, not through it
    for side, (hip, knee, _) in zip(SIDES, LEGS):
        hand = arm_joints(side)[3]
        rest = pos[:, hip] + HANDS_ON_THIGH * (pos[:, knee] - pos[:, hip]) + lift * _UP
        target = pos[:, hand] + a[:, None] * (rest - pos[:, hand]) + over[:, None] * _UP
        motion = solve_arm(motion, body.skeleton, side, target)
    return motion


def _exact_ends(motion: Motion, w: np.ndarray, transl: np.ndarray, rots: np.ndarray) -> Motion:
    """The motion with its standing frames (w == 0) exactly the idle pose (solvers round)."""
    still = w == 0.0
    t, r = motion.transl.copy(), motion.rotations
    t[still], r[still] = transl[still], rots[still]
    return Motion(motion.fps, t, r[:, 0], r[:, 1:], motion.betas)


def _check_target(target_xyz) -> np.ndarray:
    t = np.asarray(target_xyz, dtype=np.float64)
    if t.shape != (3,) or not np.isfinite(t).all():
        raise ValueError(f"target_xyz: expected a finite world point (x, y, z), got {target_xyz!r}")
    return t


def _leaned(rots: np.ndarray, lean: np.ndarray) -> np.ndarray:
    """Rotations (T, 24, 3, 3) with the trunk flexed forward by lean (T,) over the spine."""
    out = rots.copy()
    for j, share in zip(_SPINE, SPINE_SHARE.values()):
        flex = axis_angle_to_matrix(np.outer(share * lean, [1.0, 0.0, 0.0]))
        out[:, j] = flex @ rots[:, j]  # about the parent's x: the spine's flexion hinge
    return out


def _reach_lean(body: Body, transl, rots, side: str, target: np.ndarray) -> float:
    """The least trunk lean that brings the target within REACH_SLACK of the arm (else the
    lean that brings it nearest)."""
    leans = np.linspace(0.0, REACH_LEAN_MAX_RAD, LEAN_STEPS)
    k = len(leans)
    _, pos = global_transforms(
        body.skeleton.offsets,
        np.repeat(transl[:1], k, 0),
        _leaned(np.repeat(rots[:1], k, 0), leans),
    )
    dist = np.linalg.norm(target - pos[:, arm_joints(side)[0]], axis=-1)
    ok = np.flatnonzero(dist <= REACH_SLACK * arm_reach_m(body.skeleton, side))
    return float(leans[ok[0]] if len(ok) else leans[int(np.argmin(dist))])


def _hand_path(
    shoulder: np.ndarray,
    start: np.ndarray,
    target: np.ndarray,
    come_from: np.ndarray,
    w: np.ndarray,
    reach_m: float,
    left: np.ndarray,
) -> np.ndarray:
    """(T, 3) hand targets from where the hand hangs (start, (T, 3)) to the target, by weight w.

    Around the shoulder ((T, 3): it moves as the trunk leans) rather than straight, so the hand
    never passes through it: the direction turns on a great circle, the distance changes evenly
    with the elbow a little bent midway, and an offset toward come_from, fading out as w -> 1,
    makes the hand arrive along -come_from. The target is first brought within reach_m of the
    final shoulder (an unreachable target is reached toward)."""
    to_target = target - shoulder[np.argmax(w)]  # from the shoulder where the reach is held
    dist = float(np.linalg.norm(to_target))
    goal = target if dist <= reach_m else target - to_target * (1.0 - reach_m / dist)
    a, b = start - shoulder, goal - shoulder  # (T, 3)
    ra, rb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(sin, (a * b).sum(-1))
    # straight up from a hanging hand the great circle is any: swing it forward (about the left)
    axis = np.where(sin[:, None] > 1e-9, axis / np.maximum(sin, 1e-12)[:, None], -left)
    turn = axis_angle_to_matrix(axis * (w * angle)[:, None])
    direction = (turn @ (a / ra[:, None])[..., None])[..., 0]
    r = (ra + w * (rb - ra)) * (1.0 - ELBOW_TUCK * np.sin(np.pi * w))
    offset = 4.0 * w * (1.0 - w) * REACH_CLEAR_M  # zero at both ends, falling as it arrives
    return shoulder + r[:, None] * direction + offset[:, None] * come_from


def reach(
    duration: float,
    pos_xy,
    yaw: float,
    target_xyz,
    fps: float = 30.0,
    side: str = "right",
    *,
    from_above: bool | None = None,
    library: MotionLibrary | None = None,
    betas=None,
) -> Motion:
    """From standing at pos_xy facing yaw, raise one hand to target_xyz, hold, lower (duration s).

    from_above: the hand comes down onto the target (a surface) rather than in at it from the
    body's side (a face); None: from above when the target is below the standing elbow. A target
    out of reach is reached toward as far as the arm (and a leaning trunk) goes.
    """
    duration, fps = _check_duration(duration), _check_fps(fps)
    xy, yaw = _check_xy(pos_xy), _check_yaw(yaw, "yaw")
    if yaw is None:
        raise ValueError("yaw: required (radians)")
    target = _check_target(target_xyz)
    shoulder, elbow, _, hand = arm_joints(side)
    body = _body(library, betas)
    w = _profile(duration, fps)
    n = len(w)
    transl, idle_rots, _, pos0 = _standing(body, xy, yaw, n)
    lean = _reach_lean(body, transl, idle_rots, side, target)
    rots = _leaned(idle_rots, lean * w)
    motion = Motion(fps, transl, rots[:, 0], rots[:, 1:], body.skeleton.betas)
    if from_above is None:
        from_above = bool(target[2] < pos0[elbow, 2])
    come_from = _UP if from_above else -_forward(yaw)
    _, pos = global_transforms(body.skeleton.offsets, transl, rots)
    path = _hand_path(
        pos[:, shoulder],
        pos[:, hand],
        target,
        come_from,
        w,
        arm_reach_m(body.skeleton, side),
        _left(yaw),
    )
    motion = solve_arm(motion, body.skeleton, side, path)
    return _exact_ends(motion, w, transl, idle_rots)
