"""Forward kinematics of the SMPL kinematic tree (numpy or torch)."""

from __future__ import annotations

import numpy as np

from navenv.body.joints import NUM_JOINTS, SMPL_PARENTS
from navenv.body.motion import Motion
from navenv.body.skeleton import Skeleton


def global_transforms(offsets, transl, rotations):
    """World rotations (..., 24, 3, 3) and positions (..., 24, 3) of every joint.

    offsets: (24, 3) or (..., 24, 3) skeleton offsets (metres); transl: (..., 3);
    rotations: (..., 24, 3, 3) local rotations (global orient first). numpy or torch.
    """
    is_torch = type(rotations).__module__.startswith("torch")
    if is_torch:
        import torch
    stack = (lambda xs: torch.stack(xs, dim=-3)) if is_torch else (lambda xs: np.stack(xs, axis=-3))
    stack_p = (
        (lambda xs: torch.stack(xs, dim=-2)) if is_torch else (lambda xs: np.stack(xs, axis=-2))
    )
    rot_w: list = [rotations[..., 0, :, :]]
    pos_w: list = [transl + offsets[..., 0, :]]
    for i in range(1, NUM_JOINTS):
        p = SMPL_PARENTS[i]
        rot_w.append(rot_w[p] @ rotations[..., i, :, :])
        pos_w.append(pos_w[p] + (rot_w[p] @ offsets[..., i, :, None])[..., 0])
    return stack(rot_w), stack_p(pos_w)


def forward_kinematics(skeleton: Skeleton, motion: Motion) -> np.ndarray:
    """(T, 24, 3) joint positions in metres, world frame (z up), for a motion on a skeleton."""
    _, pos = global_transforms(skeleton.offsets, motion.transl, motion.rotations)
    return pos


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """(..., 23) distances (m) from each non-root joint to its parent, for (..., 24, 3) joints."""
    parents = np.asarray(SMPL_PARENTS[1:])
    return np.linalg.norm(joints[..., 1:, :] - joints[..., parents, :], axis=-1)
