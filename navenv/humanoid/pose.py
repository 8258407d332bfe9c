"""Between SMPL motions and the humanoid's generalized coordinates."""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.body.motion import Motion
from navenv.body.rotations import (
    euler_xyz_to_matrix,
    matrix_to_euler_xyz,
    matrix_to_quat,
    quat_to_matrix,
)
from navenv.body.skeleton import Skeleton
from navenv.humanoid.index import HumanoidIndex


def joint_angles(motion: Motion, hinge_range: np.ndarray | None = None) -> np.ndarray:
    """(T, 69) hinge angles (rad) that reproduce the motion's body pose, SMPL order, x y z per joint.

    Each rotation has two Euler XYZ solutions, (a, b, c) and (a + pi, pi - b, c + pi). Frame by
    frame we keep the one closest to the previous frame (the first frame: closest to the middle
    of `hinge_range` if given, else the one with |b| <= pi/2), wrapping angles by 2 pi so the
    trajectory is continuous and stays near the joint ranges.
    """
    e1 = matrix_to_euler_xyz(motion.body_pose)  # (T, 23, 3)
    e2 = np.stack([e1[..., 0] + np.pi, np.pi - e1[..., 1], e1[..., 2] + np.pi], -1)
    e1, e2 = _wrap(e1), _wrap(e2)
    t = len(motion)
    out = np.empty_like(e1)
    ref = np.zeros_like(e1[0])
    if hinge_range is not None:
        ref = hinge_range.reshape(-1, 3, 2).mean(-1)
    for i in range(t):
        c1 = ref + _wrap(e1[i] - ref)
        c2 = ref + _wrap(e2[i] - ref)
        use2 = np.abs(c2 - ref).sum(-1) < np.abs(c1 - ref).sum(-1)
        out[i] = np.where(use2[:, None], c2, c1)
        ref = out[i]
    return out.reshape(t, -1)


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
