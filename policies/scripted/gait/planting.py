"""Planted feet: pin every stance of every foot to one spot and heading, then re-solve the legs.

A foot stands on its heel (the ankle joint) while the heel is down and on its ball as the heel
rises (`HEEL_RISE_M` above the ball, relative to a flat foot), blending between the two. A
stance (a run of contact frames) pins the floor positions of both points and the foot's
heading at one frame of the laid-down body: its first frame if the stance opens the motion, its
last if it closes it, its middle otherwise (the laid-down foot drifts either way around it).
During stance the foot is moved and turned so the point it stands on stays on its pin; in swing the offset
from the laid-down foot blends smoothly from the last stance's to the next one's, lifting the
foot by up to `LIFT_M` where the pose itself does not lift it (turn steps, first and last steps).
The pelvis comes down where a leg cannot reach its target (`legik.reach_drop`, smoothed), and
`legik.solve_legs` puts the ankles on their targets.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from navenv.body.kinematics import global_transforms
from navenv.body.motion import Motion
from navenv.body.skeleton import Skeleton
from policies.scripted.gait.contacts import ANKLES, BALLS, point_rest_heights
from policies.scripted.gait.legik import LEGS, reach_drop, solve_legs
from policies.scripted.gait.poses import heading_yaw, smoothstep, yaw_matrix

HEEL_RISE_M = 0.03
LIFT_M = 0.06  # toe clearance of a deliberate step (walking swings clear 1-3 cm at mid-swing)
DROP_SMOOTH_S = 0.1


def stance_runs(contact: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) frame ranges of the runs of True in a (T,) bool array."""
    c = np.r_[False, np.asarray(contact, dtype=bool), False].astype(np.int8)
    d = np.diff(c)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _offsets(
    n: int, runs: list[tuple[int, int]], stance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame offsets (T, D) from (T, D) stance values, blended across swings; swing phase.

    Returns the offsets and each frame's swing progress in [0, 1] (0 in stance).
    """
    out = stance.copy()
    tau = np.zeros(n)
    if not runs:
        return np.zeros_like(stance), tau
    first, last = runs[0][0], runs[-1][1] - 1
    out[:first] = stance[first]
    out[last + 1 :] = stance[last]
    for (_, a), (b, _) in itertools.pairwise(runs):
        # a swing: frames a..b-1, between stance frames a-1 and b
        x = (np.arange(a, b) - (a - 1)) / (b - (a - 1))
        w = smoothstep(x)[:, None]
        out[a:b] = stance[a - 1] * (1.0 - w) + stance[b] * w
        tau[a:b] = x
    return out, tau


def _pin_frame(a: int, b: int, n: int) -> int:
    """The frame of a stance [a, b) whose laid-down foot gives the pin."""
    if a == 0:
        return 0
    if b == n:
        return n - 1
    return (a + b - 1) // 2


def foot_targets(
    motion: Motion,
    skeleton: Skeleton,
    contacts: np.ndarray,
    lift: np.ndarray,
    widen: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ankle targets (T, 2, 3) and foot world rotations (T, 2, 3, 3) that keep stances pinned.

    lift: (T,) weight in [0, 1] of the extra swing lift (`LIFT_M`). widen: (T,) metres to add
    to the step width, half to each side of the pelvis's heading (None: 0).
    """
    n = len(motion)
    rots_w, pos = global_transforms(skeleton.offsets, motion.transl, motion.rotations)
    if widen is not None:
        yaw = heading_yaw(motion.global_orient)
        left = np.stack([np.cos(yaw), np.sin(yaw)], axis=1) * (0.5 * widen)[:, None]  # (T, 2)
        for k, sign in ((0, 1.0), (1, -1.0)):
            for j in (ANKLES[k], BALLS[k]):
                pos[:, j, :2] += sign * left
    h_ankle, h_ball = point_rest_heights(skeleton)
    targets = np.empty((n, 2, 3))
    foot_rots = np.empty((n, 2, 3, 3))
    for k in range(2):
        ankle, ball, rot = pos[:, ANKLES[k]], pos[:, BALLS[k]], rots_w[:, ANKLES[k]]
        foot = ball - ankle  # (T, 3)
        rise = (ankle[:, 2] - h_ankle) - (ball[:, 2] - h_ball)
        w = np.clip(rise / HEEL_RISE_M, 0.0, 1.0)  # 0: heel pivot, 1: ball pivot
        yaw = np.unwrap(heading_yaw(rot))
        runs = stance_runs(contacts[:, k])
        stance = np.zeros((n, 3))  # (dx, dy, dyaw) that keep the pinned pivot still
        for a, b in runs:
            f = _pin_frame(a, b, n)
            d_yaw = yaw[f] - yaw[a:b]
            turned = (yaw_matrix(d_yaw) @ foot[a:b, :, None])[..., 0]
            # heel down: the ankle on its pin; heel up: the ball on its pin (the pin frame's ball)
            on_ball = ball[f, :2] - turned[:, :2]
            new_ankle = ankle[f, :2] * (1.0 - w[a:b, None]) + on_ball * w[a:b, None]
            stance[a:b, :2] = new_ankle - ankle[a:b, :2]
            stance[a:b, 2] = d_yaw
        offset, tau = _offsets(n, runs, stance)
        targets[:, k] = ankle
        targets[:, k, :2] += offset[:, :2]
        targets[:, k, 2] += LIFT_M * np.sin(math.pi * tau) * lift
        foot_rots[:, k] = yaw_matrix(offset[:, 2]) @ rot
    return targets, foot_rots


def plant_feet(
    motion: Motion,
    skeleton: Skeleton,
    contacts: np.ndarray,
    lift: np.ndarray | None = None,
    widen: np.ndarray | None = None,
) -> Motion:
    """The motion with every stance of each foot pinned (module docstring); contacts (T, 2).

    lift and widen as in `foot_targets`.
    """
    n = len(motion)
    lift = np.zeros(n) if lift is None else np.asarray(lift, dtype=np.float64)
    c = np.asarray(contacts, dtype=bool)
    targets, foot_rots = foot_targets(motion, skeleton, c, lift, widen)
    _, pos = global_transforms(skeleton.offsets, motion.transl, motion.rotations)
    drop = reach_drop(pos[:, [leg[0] for leg in LEGS]], targets, skeleton)  # (T,)
    width = max(1, round(DROP_SMOOTH_S * motion.fps))
    smooth = gaussian_filter1d(maximum_filter1d(drop, 2 * width + 1), width / 2.0, mode="nearest")
    transl = motion.transl.copy()
    transl[:, 2] -= np.maximum(smooth, drop)
    lowered = Motion(motion.fps, transl, motion.global_orient, motion.body_pose, motion.betas)
    return solve_legs(lowered, skeleton, targets, foot_rots)
