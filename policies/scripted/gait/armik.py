"""Analytic two-bone arm IK on SMPL arms: put a hand joint on a target, elbow bending as a hinge.

Per frame (vectorised over frames), like the leg IK (`legik`): (1) bend the elbow about its own
local z axis, SMPL's elbow flexion axis (the humanoid's elbow flexes about z: `tables`), until
the shoulder-to-hand distance equals the target's, by the law of cosines on the components
across that axis; (2) swing the upper arm by the smallest rotation that points the
shoulder-to-hand line at the target. The wrist keeps its local rotation, so the hand joint is a
fixed point of the forearm's frame. Both steps change nothing when the hand is already on its
target, so an arm solved for its own hand position is the arm it was (motions stay continuous
with the pose they start from). Targets beyond `REACH_FRACTION` of the arm are reached as far as
that, along the line to them.
"""

from __future__ import annotations

import numpy as np

from navenv.body.joints import JOINT_INDEX, SMPL_PARENTS
from navenv.body.kinematics import global_transforms
from navenv.body.motion import Motion
from navenv.body.rotations import axis_angle_to_matrix
from navenv.body.skeleton import Skeleton
from policies.scripted.gait.legik import _min_rotation

SIDES = ("left", "right")
REACH_FRACTION = 0.99  # of upper arm + forearm-to-hand: a locked elbow has no bend left to adjust
MIN_REACH_FRACTION = 0.3  # closer would fold the elbow past its 150 degrees of flexion
# The flexed side of each elbow: flexion is -z for the left arm and +z for the right
# (`navenv.humanoid.tables`), i.e. the signed angle from upper arm to forearm about z.
FLEX_SIGN = {"left": 1.0, "right": -1.0}


def arm_joints(side: str) -> tuple[int, int, int, int]:
    """SMPL indices (shoulder, elbow, wrist, hand) of one arm."""
    if side not in SIDES:
        raise ValueError(f"side: expected one of {SIDES}, got {side!r}")
    return tuple(JOINT_INDEX[f"{side}_{j}"] for j in ("shoulder", "elbow", "wrist", "hand"))


def arm_reach_m(skeleton: Skeleton, side: str = "right") -> float:
    """Longest shoulder-to-hand-joint distance (m) the IK reaches with this arm."""
    _, elbow, wrist, hand = arm_joints(side)
    o = skeleton.offsets
    return REACH_FRACTION * float(np.linalg.norm(o[elbow]) + np.linalg.norm(o[wrist] + o[hand]))


def solve_arm(motion: Motion, skeleton: Skeleton, side: str, targets: np.ndarray) -> Motion:
    """The motion with one arm re-solved so its hand joint is at the (T, 3) world targets."""
    shoulder, elbow, wrist, hand = arm_joints(side)
    targets = np.asarray(targets, dtype=np.float64)
    if targets.shape != (len(motion), 3):
        raise ValueError(f"targets: expected ({len(motion)}, 3), got {targets.shape}")
    rots_w, pos = global_transforms(skeleton.offsets, motion.transl, motion.rotations)
    o = skeleton.offsets
    w_sh, w_el = rots_w[:, shoulder], rots_w[:, elbow]
    s, e = pos[:, shoulder], pos[:, elbow]
    local_wrist = motion.rotations[:, wrist]
    # The hand joint in the elbow's frame: the forearm plus the (unchanged) wrist's lever.
    fore = o[wrist] + (local_wrist @ o[hand][:, None])[..., 0]  # (T, 3)
    h = e + (w_el @ fore[..., None])[..., 0]
    l1 = float(np.linalg.norm(o[elbow]))
    l2 = np.linalg.norm(fore, axis=-1)
    reach = l1 + l2
    d = np.clip(
        np.linalg.norm(targets - s, axis=-1), MIN_REACH_FRACTION * reach, REACH_FRACTION * reach
    )
    # (1) elbow: rotate the forearm v about the hinge n through the elbow; the distance from the
    # shoulder depends on the angle between u and v across n only.
    n = w_el[..., :, 2]
    u, v = s - e, h - e
    u_par, v_par = (u * n).sum(-1), (v * n).sum(-1)
    u_perp, v_perp = u - u_par[:, None] * n, v - v_par[:, None] * n
    nu, nv = np.linalg.norm(u_perp, axis=-1), np.linalg.norm(v_perp, axis=-1)
    cos_want = ((u * u).sum(-1) + (v * v).sum(-1) - d**2 - 2.0 * u_par * v_par) / np.maximum(
        2.0 * nu * nv, 1e-12
    )
    want = FLEX_SIGN[side] * np.arccos(np.clip(cos_want, -1.0, 1.0))
    now = np.arctan2((np.cross(u_perp, v_perp) * n).sum(-1), (u_perp * v_perp).sum(-1))
    delta = np.remainder(want - now + np.pi, 2.0 * np.pi) - np.pi
    bend = axis_angle_to_matrix(n * delta[:, None])  # world frame, about the elbow
    w_el = bend @ w_el
    h = e + (bend @ v[..., None])[..., 0]
    # (2) upper arm: point the shoulder-hand line at the target
    swing = _min_rotation(h - s, targets - s)
    w_sh, w_el = swing @ w_sh, swing @ w_el
    t = lambda r: np.swapaxes(r, -1, -2)  # noqa: E731
    body = motion.body_pose.copy()
    body[:, shoulder - 1] = t(rots_w[:, SMPL_PARENTS[shoulder]]) @ w_sh
    body[:, elbow - 1] = t(w_sh) @ w_el
    return Motion(motion.fps, motion.transl, motion.global_orient, body, motion.betas)
