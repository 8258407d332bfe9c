"""The humanoid's body as the route setter sees it (scenes.ClimberDims)."""

from __future__ import annotations

import numpy as np

from navenv.body.joints import JOINT_INDEX
from navenv.body.skeleton import Skeleton
from scenes.reach import ClimberDims


def climber_dims(skeleton: Skeleton) -> ClimberDims:
    """ClimberDims measured on a skeleton, so generated routes fit that humanoid's reach:
    `scenes.generate_wall(seed, climber=climber_dims(skeleton))`."""
    rest = skeleton.rest_joints
    left, right = JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"]
    lhip, rhip = JOINT_INDEX["left_hip"], JOINT_INDEX["right_hip"]
    shoulders_z = 0.5 * (rest[left, 2] + rest[right, 2])
    hips_z = 0.5 * (rest[lhip, 2] + rest[rhip, 2])
    return ClimberDims(
        stature=skeleton.stature,
        arm_length=skeleton.arm_length(),
        leg_length=skeleton.leg_length(),
        shoulder_width=float(np.linalg.norm(rest[left] - rest[right])),
        hip_width=float(np.linalg.norm(rest[lhip] - rest[rhip])),
        torso_length=float(shoulders_z - hips_z),
    )
