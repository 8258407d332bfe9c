"""The SMPL kinematic tree: joint names and parents, in SMPL order."""

from __future__ import annotations

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)
"""The 24 SMPL joints in SMPL order (index 0 is the root)."""

SMPL_PARENTS: tuple[int, ...] = (
    -1,  # pelvis
    0,  # left_hip
    0,  # right_hip
    0,  # spine1
    1,  # left_knee
    2,  # right_knee
    3,  # spine2
    4,  # left_ankle
    5,  # right_ankle
    6,  # spine3
    7,  # left_foot
    8,  # right_foot
    9,  # neck
    9,  # left_collar
    9,  # right_collar
    12,  # head
    13,  # left_shoulder
    14,  # right_shoulder
    16,  # left_elbow
    17,  # right_elbow
    18,  # left_wrist
    19,  # right_wrist
    20,  # left_hand
    21,  # right_hand
)
"""Parent index of each joint (-1 for the root); parents always precede children."""

NUM_JOINTS = len(SMPL_JOINT_NAMES)  # 24
NUM_BODY_JOINTS = NUM_JOINTS - 1  # 23: every joint but the root
NUM_BETAS = 10
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}

# Mirror pairs (left index, right index), for symmetry checks and left/right flips.
MIRROR_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (JOINT_INDEX[n], JOINT_INDEX["right_" + n[len("left_") :]])
    for n in SMPL_JOINT_NAMES
    if n.startswith("left_")
)


def joint_index(name: str) -> int:
    """Index of an SMPL joint by name (ValueError listing the names otherwise)."""
    try:
        return JOINT_INDEX[name]
    except KeyError:
        raise ValueError(
            f"unknown SMPL joint {name!r}; expected one of {list(SMPL_JOINT_NAMES)}"
        ) from None
