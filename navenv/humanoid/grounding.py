"""Put a motion's feet on a level floor, using the humanoid's own foot geometry.

Motion capture floors are rarely level in the data: a calibration tilt of a degree makes a walk
float or sink by centimetres over a few metres, which a physical replay cannot follow (the feet
land early or late). `level_ground` fits the floor the feet actually walk on, as a plane through
the lowest foot points of the frames where a foot is planted, rotates the motion so that plane is
horizontal, and shifts it so the plane is z = 0.
"""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.body.motion import Motion
from navenv.body.rotations import axis_angle_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.humanoid import names
from navenv.humanoid.builder import build_humanoid
from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.pose import joint_angles, set_pose

_CORNERS = np.array(
    [[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)], dtype=np.float64
)


def lowest_foot_points(motion: Motion, skeleton: Skeleton) -> np.ndarray:
    """(T, 3) world position of the lowest point of the humanoid's feet at each frame."""
    model = build_humanoid(skeleton).compile()
    data = mujoco.MjData(model)
    idx = HumanoidIndex.from_model(model)
    feet = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, b) for b in names.FEET_BODIES]
    angles = joint_angles(motion, idx.hinge_range)
    out = np.empty((len(motion), 3))
    for t in range(len(motion)):
        set_pose(model, data, motion, t, skeleton, idx, angles)
        pts = np.concatenate(
            [
                data.geom_xpos[g]
                + (_CORNERS * model.geom_size[g]) @ data.geom_xmat[g].reshape(3, 3).T
                for g in feet
            ]
        )
        out[t] = pts[np.argmin(pts[:, 2])]
    return out


def level_ground(
    motion: Motion, skeleton: Skeleton, planted_fraction: float = 0.5
) -> tuple[Motion, dict]:
    """The motion rotated and shifted so the floor its planted feet touch is z = 0.

    planted_fraction: the share of frames, lowest feet first, taken as planted. Returns the new
    motion and a report: floor tilt (deg) removed and the height shift (m).
    """
    if not 0.0 < planted_fraction <= 1.0:
        raise ValueError(f"planted_fraction must be in (0, 1], got {planted_fraction}")
    low = lowest_foot_points(motion, skeleton)
    # robust plane fit: lowest points relative to the local trend, iteratively
    planted = np.ones(len(low), bool)
    coef = np.zeros(3)
    for _ in range(3):
        A = np.c_[low[planted, 0], low[planted, 1], np.ones(planted.sum())]
        coef, *_ = np.linalg.lstsq(A, low[planted, 2], rcond=None)
        resid = low[:, 2] - np.c_[low[:, 0], low[:, 1], np.ones(len(low))] @ coef
        planted = resid <= np.quantile(resid, planted_fraction)
    normal = np.array([-coef[0], -coef[1], 1.0])
    normal /= np.linalg.norm(normal)
    axis = np.cross(normal, [0.0, 0.0, 1.0])
    angle = float(np.arcsin(np.clip(np.linalg.norm(axis), 0.0, 1.0)))
    rot = (
        axis_angle_to_matrix(axis / max(np.linalg.norm(axis), 1e-12) * angle)
        if angle > 1e-9
        else np.eye(3)
    )
    # rotate the whole motion about the first planted point, then put the plane at z = 0
    pivot = low[np.flatnonzero(planted)[0]]
    pelvis = motion.transl + skeleton.offsets[0]
    new_pelvis = (pelvis - pivot) @ rot.T + pivot
    transl = new_pelvis - skeleton.offsets[0]
    leveled = Motion(
        motion.fps, transl, rot @ motion.global_orient, motion.body_pose.copy(), motion.betas.copy()
    )
    low2 = lowest_foot_points(leveled, skeleton)
    shift = float(np.quantile(low2[:, 2], planted_fraction / 2))  # the typical planted height
    leveled.transl[:, 2] -= shift
    return leveled, {"tilt_deg": float(np.degrees(angle)), "shift_m": shift}
