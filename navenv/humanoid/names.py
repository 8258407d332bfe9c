"""Every MuJoCo name the humanoid and the environments use: bodies, joints, actuators, sites,
cameras. Code looks things up by these names (see `HumanoidIndex`), never by raw index."""

from __future__ import annotations

from navenv.body.joints import SMPL_JOINT_NAMES

BODY_NAMES: tuple[str, ...] = SMPL_JOINT_NAMES
"""One MuJoCo body per SMPL joint, in SMPL order, named like the joint."""

ROOT_BODY = "pelvis"
ROOT_JOINT = "root"  # the free joint of the pelvis
HINGE_AXES: tuple[str, ...] = ("x", "y", "z")  # nested hinges: R = Rx @ Ry @ Rz (Euler XYZ)


def hinge_name(body: str, axis: str) -> str:
    """Name of the hinge of `body` about `axis` ('x', 'y' or 'z'), e.g. 'left_knee_x'."""
    return f"{body}_{axis}"


HINGE_NAMES: tuple[str, ...] = tuple(hinge_name(b, a) for b in BODY_NAMES[1:] for a in HINGE_AXES)
"""The 69 hinge joints in SMPL order, x, y, z per body; actuators carry the same names."""
ACTUATOR_NAMES: tuple[str, ...] = HINGE_NAMES
NUM_HINGES = len(HINGE_NAMES)  # 69

LIMBS: tuple[str, ...] = ("left_hand", "right_hand", "left_foot", "right_foot")
"""The limbs that can grip, in the order of the grip action channels."""
GRIP_SITES: dict[str, str] = {limb: f"{limb}_grip" for limb in LIMBS}
"""Site at the gripping point of each limb (palm of the hand, ball of the foot)."""
GRIP_BODIES: dict[str, str] = {
    "left_hand": "left_hand",
    "right_hand": "right_hand",
    "left_foot": "left_foot",
    "right_foot": "right_foot",
}
GRIP_EQUALITIES: dict[str, str] = {limb: f"{limb}_grip" for limb in LIMBS}
"""Pre-declared (inactive) connect equalities that hold a limb on a hold."""

EGO_CAMERA = "ego"  # camera on the head, looking where the head looks
EGO_MOUNT_SITE = "ego_mount"
HEAD_BODY = "head"
FEET_BODIES: tuple[str, ...] = ("left_ankle", "right_ankle", "left_foot", "right_foot")
"""Bodies allowed to touch the floor without it counting as a fall."""

TRIPOD_CAMERA = "tripod"  # the scene's camera that films the climber (from scenes.Camera)
