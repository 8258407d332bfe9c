"""Analytic two-bone leg IK on SMPL legs: put each ankle on a target with a given foot rotation.

Per leg and frame (vectorised over frames): (1) bend the knee about the thigh's x axis (SMPL's
knee hinge; +x flexes) until the hip-to-ankle distance equals the target's, from the law of
cosines on the components across that axis; (2) swing the thigh by the smallest rotation that
points the hip-to-ankle line at the target; (3) set the ankle's local rotation so the foot has
the requested world rotation. Targets beyond `REACH_FRACTION` of the leg are reached as far as
that; `reach_drop` says how far the pelvis must come down for them not to be.
"""

from __future__ import annotations

import numpy as np

from navenv.body.joints import JOINT_INDEX
from navenv.body.kinematics import global_transforms
from navenv.body.motion import Motion
from navenv.body.rotations import axis_angle_to_matrix
from navenv.body.skeleton import Skeleton

LEGS = (
    (JOINT_INDEX["left_hip"], JOINT_INDEX["left_knee"], JOINT_INDEX["left_ankle"]),
    (JOINT_INDEX["right_hip"], JOINT_INDEX["right_knee"], JOINT_INDEX["right_ankle"]),
)
REACH_FRACTION = 0.995  # of thigh + shin: a fully straight knee has no flexion left to adjust
MIN_REACH_FRACTION = 0.3  # a closer target would fold the knee past anything human


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, 3, 3) smallest rotations taking directions a (T, 3) onto b (T, 3)."""
    a, b = _unit(a), _unit(b)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(s, (a * b).sum(-1, keepdims=True))
    return axis_angle_to_matrix(axis / np.maximum(s, 1e-12) * angle)


def leg_lengths(skeleton: Skeleton) -> np.ndarray:
    """(2, 2) thigh and shin lengths (m) of the left and right leg."""
    return np.array([[np.linalg.norm(skeleton.offsets[j]) for j in leg[1:]] for leg in LEGS])


def reach_drop(hips: np.ndarray, targets: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T,) how far (m) the pelvis must drop so both ankles (T, 2, 3) reach from hips (T, 2, 3)."""
    reach = REACH_FRACTION * leg_lengths(skeleton).sum(axis=1)  # (2,)
    d = targets - hips
    horizontal = np.linalg.norm(d[..., :2], axis=-1)
    below = np.sqrt(np.maximum(reach**2 - horizontal**2, 0.0))  # deepest reachable ankle
    return np.maximum(-d[..., 2] - below, 0.0).max(axis=1)


def _solve_leg(
    parent_rot: np.ndarray,
    hip: np.ndarray,
    local: list[np.ndarray],
    offsets: tuple[np.ndarray, np.ndarray],
    target: np.ndarray,
    foot_rot: np.ndarray,
) -> list[np.ndarray]:
    """New local rotations (hip, knee, ankle), each (T, 3, 3), for one leg."""
    l_hip, l_knee, _ = local
    o_knee, o_ankle = offsets
    w_hip = parent_rot @ l_hip
    knee = hip + w_hip @ o_knee
    w_knee = w_hip @ l_knee
    ankle = knee + w_knee @ o_ankle
    l1, l2 = np.linalg.norm(o_knee), np.linalg.norm(o_ankle)
    d = np.clip(
        np.linalg.norm(target - hip, axis=-1),
        MIN_REACH_FRACTION * (l1 + l2),
        REACH_FRACTION * (l1 + l2),
    )
    # (1) knee: rotate the shin v about the hinge n through the knee; the distance from the hip
    # depends on the angle between u and v across n only.
    n = w_hip[..., :, 0]
    u, v = hip - knee, ankle - knee
    u_par, v_par = (u * n).sum(-1), (v * n).sum(-1)
    u_perp, v_perp = u - u_par[:, None] * n, v - v_par[:, None] * n
    nu, nv = np.linalg.norm(u_perp, axis=-1), np.linalg.norm(v_perp, axis=-1)
    cos_want = ((u * u).sum(-1) + (v * v).sum(-1) - d**2 - 2.0 * u_par * v_par) / np.maximum(
        2.0 * nu * nv, 1e-12
    )
    want = -np.arccos(np.clip(cos_want, -1.0, 1.0))  # flexed side: u to v about n is negative
    now = np.arctan2((np.cross(u_perp, v_perp) * n).sum(-1), (u_perp * v_perp).sum(-1))
    delta = np.remainder(want - now + np.pi, 2.0 * np.pi) - np.pi
    bend = axis_angle_to_matrix(n * delta[:, None])  # world frame, about the knee
    w_knee = bend @ w_knee
    ankle = knee + (bend @ v[..., None])[..., 0]
    # (2) thigh: point the hip-ankle line at the target
    swing = _min_rotation(ankle - hip, target - hip)
    w_hip = swing @ w_hip
    w_knee = swing @ w_knee
    t = lambda r: np.swapaxes(r, -1, -2)  # noqa: E731
    return [t(parent_rot) @ w_hip, t(w_hip) @ w_knee, t(w_knee) @ foot_rot]


def solve_legs(
    motion: Motion, skeleton: Skeleton, ankle_targets: np.ndarray, foot_rots: np.ndarray
) -> Motion:
    """The motion with both legs re-solved: ankles at (T, 2, 3) targets, feet at (T, 2, 3, 3)."""
    rots_w, pos = global_transforms(skeleton.offsets, motion.transl, motion.rotations)
    body = motion.body_pose.copy()
    for k, (hip, knee, ankle) in enumerate(LEGS):
        local = [motion.rotations[:, j] for j in (hip, knee, ankle)]
        new = _solve_leg(
            rots_w[:, 0],
            pos[:, hip],
            local,
            (skeleton.offsets[knee], skeleton.offsets[ankle]),
            ankle_targets[:, k],
            foot_rots[:, k],
        )
        for j, r in zip((hip, knee, ankle), new):
            body[:, j - 1] = r
    return Motion(motion.fps, motion.transl, motion.global_orient, body, motion.betas)
