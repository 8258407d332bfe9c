"""The SMPL body model: joints, rotations, skeletons, motions and forward kinematics."""

from navenv.body import rotations
from navenv.body.joints import (
    JOINT_INDEX,
    MIRROR_PAIRS,
    NUM_BETAS,
    NUM_BODY_JOINTS,
    NUM_JOINTS,
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
    joint_index,
)
from navenv.body.kinematics import bone_lengths, forward_kinematics, global_transforms
from navenv.body.motion import FEATURE_DIM, FEATURE_LAYOUT, Motion, MotionError
from navenv.body.skeleton import BUILTIN_BETA_MEANING, Skeleton
from navenv.body.smpl_files import SMPLFileError, SMPLFileNotFoundError

__all__ = [
    "BUILTIN_BETA_MEANING",
    "FEATURE_DIM",
    "FEATURE_LAYOUT",
    "JOINT_INDEX",
    "MIRROR_PAIRS",
    "NUM_BETAS",
    "NUM_BODY_JOINTS",
    "NUM_JOINTS",
    "SMPL_JOINT_NAMES",
    "SMPL_PARENTS",
    "Motion",
    "MotionError",
    "SMPLFileError",
    "SMPLFileNotFoundError",
    "Skeleton",
    "bone_lengths",
    "forward_kinematics",
    "global_transforms",
    "joint_index",
    "rotations",
]
