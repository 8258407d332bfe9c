"""The MuJoCo humanoid with SMPL kinematics: builder, names, named accessors, pose conversion."""

from navenv.humanoid import names, tables
from navenv.humanoid.builder import HumanoidConfig, add_humanoid, build_humanoid, configure_options
from navenv.humanoid.dims import climber_dims
from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.pose import (
    body_pose_from_angles,
    joint_angles,
    motion_from_qpos,
    root_qpos,
    set_pose,
)

__all__ = [
    "HumanoidConfig",
    "HumanoidIndex",
    "add_humanoid",
    "body_pose_from_angles",
    "build_humanoid",
    "climber_dims",
    "configure_options",
    "joint_angles",
    "motion_from_qpos",
    "names",
    "root_qpos",
    "set_pose",
    "tables",
]
