"""Proprioception every navenv env shares: the body's own joint and root state.

`BODY_FIELDS` are the fields of the body part (145 values, all in the pelvis frame but root
height); an env's proprio layout is these plus its own (ClimbRoute adds the grips).
`fill_body` writes them from MjData into a preallocated vector, so an env allocates nothing per
step.
"""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.names import NUM_HINGES

BODY_FIELDS: list[tuple] = [
    ("joint_angles", NUM_HINGES, -np.pi, np.pi, "rad", "hinge angles, SMPL order, x y z per joint"),
    (
        "joint_velocities",
        NUM_HINGES,
        -np.inf,
        np.inf,
        "rad/s",
        "hinge speeds, clipped to max_joint_speed",
    ),
    ("root_height", 1, -np.inf, np.inf, "m", "pelvis above z = 0"),
    ("root_linvel", 3, -np.inf, np.inf, "m/s", "pelvis velocity, pelvis frame"),
    ("root_angvel", 3, -np.inf, np.inf, "rad/s", "pelvis angular velocity, pelvis frame"),
    ("gravity", 3, -1.0, 1.0, "", "unit vector of world -z in the pelvis frame"),
]
"""The body part of every env's proprio layout, in this order."""


def fill_body(
    data: mujoco.MjData,
    index: HumanoidIndex,
    max_joint_speed: float,
    out: np.ndarray,
    slices: dict[str, slice],
) -> None:
    """Write the BODY_FIELDS of `data` into `out` at `slices` (field name -> slice)."""
    pelvis = index.bodies[0]
    rot = data.xmat[pelvis].reshape(3, 3)
    qvel_root = data.qvel[index.root_qvel]
    out[slices["joint_angles"]] = data.qpos[index.hinge_qpos]
    out[slices["joint_velocities"]] = np.clip(
        data.qvel[index.hinge_qvel], -max_joint_speed, max_joint_speed
    )
    out[slices["root_height"]] = data.xpos[pelvis, 2]
    # free joint linear velocity is in the world frame, its angular velocity in the body frame
    out[slices["root_linvel"]] = rot.T @ qvel_root[0:3]
    out[slices["root_angvel"]] = qvel_root[3:6]
    out[slices["gravity"]] = -rot[2, :]  # world -z expressed in the pelvis frame
