"""Between SMPL motions and the humanoid's generalized coordinates."""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.body.motion import Motion
from navenv.body.rotations import (
    euler_xyz_to_matrix,
    matrix_to_axis_angle,
    matrix_to_euler_xyz,
    matrix_to_quat,
    quat_to_matrix,
)
from navenv.body.skeleton import Skeleton
from navenv.humanoid.index import HumanoidIndex

GIMBAL_COS = 0.35  # |cos b| below this (|b| > ~70 deg): the x/z split is ill-conditioned
_EYE3 = np.eye(3)


def joint_angles(
    motion: Motion | np.ndarray,
    hinge_range: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """(T, 69) hinge angles (rad) that reproduce the motion's body pose, SMPL order, x y z per joint.

    `motion`: a Motion, or its body pose (T, 23, 3, 3) alone (a player converting a motion a
    piece at a time passes slices of it, sparing a checked Motion per piece).

    Each rotation has two Euler XYZ solutions, (a, b, c) and (a + pi, pi - b, c + pi). Frame by
    frame we keep the one closest to the previous frame (the first frame: closest to the middle
    of `hinge_range` if given, else the one with |b| <= pi/2), wrapping angles by 2 pi so the
    trajectory is continuous and stays near the joint ranges. Near gimbal lock (|b| near pi/2,
    e.g. an arm hanging at the side) the split between a and c swings wildly from frame to
    frame; there the angles are instead found by damped Gauss-Newton from the previous frame,
    which reproduces the rotation while changing the angles least.

    `start` (69,): the angles of the frame before the motion's first (a motion converted in
    pieces, or continued from another): the first frame then continues from it.
    """
    targets = motion.body_pose if isinstance(motion, Motion) else np.asarray(motion)
    e1 = matrix_to_euler_xyz(targets)  # (T, 23, 3) from (T, 23, 3, 3)
    e2 = np.stack([e1[..., 0] + np.pi, np.pi - e1[..., 1], e1[..., 2] + np.pi], -1)
    e1, e2 = _wrap(e1), _wrap(e2)
    t = len(targets)
    out = np.empty_like(e1)
    ref = np.zeros_like(e1[0])
    if hinge_range is not None:
        ref = hinge_range.reshape(-1, 3, 2).mean(-1)
    if start is not None:
        ref = np.asarray(start, dtype=np.float64).reshape(-1, 3)
    for i in range(t):
        c1 = ref + _wrap(e1[i] - ref)
        c2 = ref + _wrap(e2[i] - ref)
        use2 = np.abs(c2 - ref).sum(-1) < np.abs(c1 - ref).sum(-1)
        pick = np.where(use2[:, None], c2, c1)
        if i > 0 or start is not None:
            locked = np.abs(np.cos(pick[:, 1])) < GIMBAL_COS
            if locked.any():
                pick[locked] = _track_angles(ref[locked], targets[i, locked])
        out[i] = pick
        ref = out[i]
    return out.reshape(t, -1)


def _track_angles(
    start: np.ndarray, target: np.ndarray, iterations: int = 30, damping: float = 1e-2
) -> np.ndarray:
    """(J, 3) Euler XYZ angles near `start` whose rotation is `target` (J, 3, 3), by
    Levenberg-Marquardt on the body-frame rotation error: the damping (shrunk every iteration)
    makes the first steps prefer the least change of angles, the last ones exact."""
    theta = start.copy()
    lam = damping
    for _ in range(iterations):
        rot = euler_xyz_to_matrix(theta)
        err = matrix_to_axis_angle(np.swapaxes(rot, -1, -2) @ target)  # (J, 3), body frame
        if np.abs(err).max() < 1e-12:
            break
        jac = _euler_body_jacobian(theta, rot)  # (J, 3, 3): body angular velocity per angle rate
        jt = np.swapaxes(jac, -1, -2)
        lhs = jt @ jac + lam * _EYE3
        theta = theta + np.linalg.solve(lhs, (jt @ err[..., None]))[..., 0]
        lam *= 0.3
    return theta


def _euler_body_jacobian(theta: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """(J, 3, 3) columns: body angular velocity of unit rates of a, b, c for R = Rx Ry Rz, given
    R = euler_xyz_to_matrix(theta) (J, 3, 3)."""
    jac = np.zeros((len(theta), 3, 3))
    jac[:, :, 0] = rot[:, 0]  # Rz^T Ry^T e_x = (cb cc, -cb sc, sb): R's first row
    jac[:, 0, 1] = np.sin(theta[:, 2])  # Rz^T e_y = (sc, cc, 0)
    jac[:, 1, 1] = np.cos(theta[:, 2])
    jac[:, 2, 2] = 1.0  # e_z
    return jac


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def body_pose_from_angles(angles: np.ndarray) -> np.ndarray:
    """(..., 23, 3, 3) local rotations from (..., 69) hinge angles."""
    a = np.asarray(angles, dtype=np.float64)
    return euler_xyz_to_matrix(a.reshape(*a.shape[:-1], 23, 3))


def root_qpos(skeleton: Skeleton, transl: np.ndarray, global_orient: np.ndarray) -> np.ndarray:
    """(..., 7) free-joint qpos: pelvis position (transl + pelvis rest offset) and quaternion."""
    pos = np.asarray(transl) + skeleton.offsets[0]
    return np.concatenate([pos, matrix_to_quat(np.asarray(global_orient))], axis=-1)


def set_pose(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    motion: Motion,
    t: int,
    skeleton: Skeleton | None = None,
    index: HumanoidIndex | None = None,
    angles: np.ndarray | None = None,
) -> None:
    """Write frame t of `motion` into data.qpos (zero velocities) and run forward kinematics.

    `skeleton` gives the pelvis rest offset (default: the builtin one for the motion's betas);
    pass precomputed `angles` (T, 69) from `joint_angles` when replaying many frames.
    """
    if not -len(motion) <= t < len(motion):
        raise IndexError(f"frame {t} out of range for a {len(motion)}-frame motion")
    skeleton = skeleton or Skeleton.builtin(motion.betas)
    index = index or HumanoidIndex.from_model(model)
    data.qpos[index.root_qpos] = root_qpos(skeleton, motion.transl[t], motion.global_orient[t])
    if angles is None:
        data.qpos[index.hinge_qpos] = joint_angles(motion.slice(t, t + 1 if t != -1 else None))[0]
    else:
        data.qpos[index.hinge_qpos] = angles[t]
    data.qvel[index.root_qvel] = 0.0
    data.qvel[index.hinge_qvel] = 0.0
    mujoco.mj_kinematics(model, data)


def motion_from_qpos(
    qpos: np.ndarray, index: HumanoidIndex, skeleton: Skeleton, fps: float
) -> Motion:
    """A Motion from a (T, nq) array of humanoid configurations (inverse of set_pose)."""
    qpos = np.atleast_2d(qpos)
    root = qpos[:, index.root_qpos]
    return Motion(
        fps=fps,
        transl=root[:, :3] - skeleton.offsets[0],
        global_orient=quat_to_matrix(root[:, 3:]),
        body_pose=body_pose_from_angles(qpos[:, index.hinge_qpos]),
        betas=skeleton.betas,
    )
