"""Joint positions of feature clips (batched FK on the builtin skeleton), for scoring samples."""

from __future__ import annotations

import numpy as np

from navenv.body.joints import NUM_JOINTS
from navenv.body.kinematics import global_transforms
from navenv.body.rotations import rot6d_to_matrix
from navenv.body.skeleton import Skeleton


def feature_joints(features: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """(..., T, 24, 3) joint positions (m, world) of features (..., T, 147) for betas (10,)."""
    f = np.asarray(features, dtype=np.float64)
    rots = rot6d_to_matrix(f[..., 3:].reshape(*f.shape[:-1], NUM_JOINTS, 6))  # (..., T, 24, 3, 3)
    offsets = Skeleton.builtin(np.asarray(betas, dtype=np.float64)).offsets
    _, pos = global_transforms(offsets, f[..., :3], rots)
    return pos


def global_mpjpe_mm(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-clip global MPJPE (mm) of joints (..., T, J, 3) against (..., T, J, 3)."""
    return np.linalg.norm(pred - gt, axis=-1).mean(axis=(-1, -2)) * 1000.0


def feature_joints_torch(features, offsets):
    """(..., T, 24, 3) joint positions (m, world) of torch features (..., T, 147) for skeleton
    offsets (24, 3) or broadcastable (..., 1, 24, 3): differentiable, for sampling guidance."""
    from navenv.body.rotations import rot6d_to_matrix as r6

    rots = r6(features[..., 3:].reshape(*features.shape[:-1], NUM_JOINTS, 6))
    _, pos = global_transforms(offsets, features[..., :3], rots)
    return pos
