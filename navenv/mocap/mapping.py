"""Joint-name maps from mocap skeletons onto SMPL-24, and detection of a file's naming dialect.

A mapping is ``{smpl_joint_name: source_joint_name or None}``. SMPL joints it leaves out (or maps
to None) get no position target and start from the identity local rotation; the retarget fit
then places them from their neighbours. Source names match exactly, else case-insensitively
ignoring a namespace prefix ("mixamorig:LeftArm" matches "LeftArm").

Each dialect lists, per SMPL joint, candidate source names (first present wins). Left-side names
are written out; right-side ones are derived by each dialect's mirror rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from navenv.body.joints import SMPL_JOINT_NAMES
from navenv.mocap.source import MocapError, normalize_name

REQUIRED_JOINTS: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "head",
)
"""SMPL joints every mapping must cover: enough to fix units, facing and the limbs."""


@dataclass(frozen=True)
class Dialect:
    """A naming convention: candidate source names for each SMPL joint."""

    name: str
    description: str
    candidates: dict[str, tuple[str, ...]]

    def resolve(self, source_names: Sequence[str]) -> dict[str, str]:
        """{smpl: source} for the SMPL joints whose candidates occur in source_names."""
        lookup = _lookup(source_names)
        out: dict[str, str] = {}
        for smpl, names in self.candidates.items():
            for n in names:
                hit = lookup.get(n) or lookup.get(normalize_name(n))
                if hit is not None:
                    out[smpl] = hit
                    break
        return out


def _sided(
    center: dict[str, tuple[str, ...]],
    left: dict[str, tuple[str, ...]],
    mirror: Callable[[str], str],
) -> dict[str, tuple[str, ...]]:
    """Candidates for all SMPL joints from the centre and left ones, mirroring left to right."""
    out = dict(center)
    for joint, names in left.items():
        out[joint] = names
        out["right_" + joint[len("left_") :]] = tuple(mirror(n) for n in names)
    return {j: out[j] for j in SMPL_JOINT_NAMES if j in out}


def _mirror_left_right(name: str) -> str:
    """LeftArm -> RightArm, LThumb -> RThumb, lhand -> rhand, LHipJoint -> RHipJoint."""
    if name.startswith("Left"):
        return "Right" + name[4:]
    if name[:1] in ("L", "l"):
        return ("R" if name[0] == "L" else "r") + name[1:]
    return name


CMU_ASF = Dialect(
    "cmu_asf",
    "CMU/VICON ASF bones (root, lfemur, ltibia, lowerback, thorax, lclavicle, lhumerus, ...)",
    _sided(
        {
            "pelvis": ("root",),
            "spine1": ("upperback",),
            "spine2": ("thorax",),
            "spine3": ("lowerneck",),
            "neck": ("upperneck",),
            "head": ("head",),
        },
        {
            "left_hip": ("lfemur",),
            "left_knee": ("ltibia",),
            "left_ankle": ("lfoot",),
            "left_foot": ("ltoes",),
            "left_collar": ("lclavicle",),
            "left_shoulder": ("lhumerus",),
            "left_elbow": ("lradius",),
            "left_wrist": ("lwrist",),
            "left_hand": ("lhand",),
        },
        _mirror_left_right,
    ),
)

CGSPEED_3DSMAX = Dialect(
    "cgspeed_3dsmax",
    "cgspeed's 3dsMax-friendly CMU BVH (Hips, LeftHip, LeftKnee, Chest, Chest2, LeftCollar, ...)",
    _sided(
        {
            "pelvis": ("Hips",),
            "spine1": ("Chest",),
            "spine2": ("Chest2",),
            "spine3": ("lowerneck", "Chest3"),
            "neck": ("Neck",),
            "head": ("Head",),
        },
        {
            "left_hip": ("LeftHip",),
            "left_knee": ("LeftKnee",),
            "left_ankle": ("LeftAnkle",),
            "left_foot": ("LeftToe",),
            "left_collar": ("LeftCollar",),
            "left_shoulder": ("LeftShoulder",),
            "left_elbow": ("LeftElbow",),
            "left_wrist": ("LeftWrist",),
            "left_hand": ("LFingers", "lhand"),
        },
        _mirror_left_right,
    ),
)

CGSPEED_MOTIONBUILDER = Dialect(
    "cgspeed_motionbuilder",
    "cgspeed's MotionBuilder-friendly CMU BVH (Hips, LHipJoint, LeftUpLeg, LowerBack, Spine, "
    "Spine1, Neck1, LeftFingerBase, ...)",
    _sided(
        {
            "pelvis": ("Hips",),
            "spine1": ("Spine",),
            "spine2": ("Spine1",),
            "spine3": ("Neck",),
            "neck": ("Neck1",),
            "head": ("Head",),
        },
        {
            "left_hip": ("LeftUpLeg",),
            "left_knee": ("LeftLeg",),
            "left_ankle": ("LeftFoot",),
            "left_foot": ("LeftToeBase",),
            "left_collar": ("LeftShoulder",),
            "left_shoulder": ("LeftArm",),
            "left_elbow": ("LeftForeArm",),
            "left_wrist": ("LeftHand",),
            "left_hand": ("LeftHandIndex1", "LeftFingerBase"),
        },
        _mirror_left_right,
    ),
)

MIXAMO = Dialect(
    "mixamo",
    "Mixamo-like rigs (Hips, Spine, Spine1, Spine2, Neck, Head, LeftUpLeg, LeftLeg, LeftFoot, "
    "LeftToeBase, LeftShoulder, LeftArm, LeftForeArm, LeftHand; 'mixamorig:' prefixes allowed)",
    _sided(
        {
            "pelvis": ("Hips",),
            "spine1": ("Spine",),
            "spine2": ("Spine1",),
            "spine3": ("Spine2",),
            "neck": ("Neck",),
            "head": ("Head",),
        },
        {
            "left_hip": ("LeftUpLeg",),
            "left_knee": ("LeftLeg",),
            "left_ankle": ("LeftFoot",),
            "left_foot": ("LeftToeBase", "LeftToe"),
            "left_collar": ("LeftShoulder",),
            "left_shoulder": ("LeftArm",),
            "left_elbow": ("LeftForeArm",),
            "left_wrist": ("LeftHand",),
            "left_hand": ("LeftHandMiddle1", "LeftHandIndex1", "LeftHand_End"),
        },
        _mirror_left_right,
    ),
)

DIALECTS: tuple[Dialect, ...] = (CMU_ASF, CGSPEED_3DSMAX, CGSPEED_MOTIONBUILDER, MIXAMO)
"""Known dialects, most specific first (ties in coverage go to the earlier one)."""


def _lookup(source_names: Sequence[str]) -> dict[str, str]:
    """Exact names, plus normalised keys that identify a single source joint."""
    table: dict[str, str] = {n: n for n in source_names}
    counts: dict[str, int] = {}
    for n in source_names:
        counts[normalize_name(n)] = counts.get(normalize_name(n), 0) + 1
    for n in source_names:
        if counts[normalize_name(n)] == 1:
            table.setdefault(normalize_name(n), n)
    return table


def detect_dialect(source_names: Sequence[str], *, where: str = "<source>") -> Dialect:
    """The dialect covering the most SMPL joints, all required ones included, else MocapError."""
    best, best_cover = None, -1
    for d in DIALECTS:
        resolved = d.resolve(source_names)
        if all(j in resolved for j in REQUIRED_JOINTS) and len(resolved) > best_cover:
            best, best_cover = d, len(resolved)
    if best is None:
        raise MocapError(
            f"{where}: joint names match no known dialect ({[d.name for d in DIALECTS]}); pass "
            f"mapping={{smpl_joint: source_joint}} covering at least {list(REQUIRED_JOINTS)}. "
            f"The source joints are {list(source_names)}"
        )
    return best


def resolve_mapping(
    source_names: Sequence[str],
    mapping: dict[str, str | None] | None = None,
    *,
    where: str = "<source>",
) -> tuple[dict[str, str], str]:
    """({smpl: source joint name}, dialect name or 'custom') for a source skeleton.

    With ``mapping`` None the dialect is detected; otherwise every key must be an SMPL joint
    name, every non-None value a source joint, and the required joints must be covered.
    """
    if mapping is None:
        dialect = detect_dialect(source_names, where=where)
        return dialect.resolve(source_names), dialect.name
    if not isinstance(mapping, dict):
        raise MocapError(
            f"{where}: mapping must be a dict {{smpl_joint: source_joint}}, got {type(mapping).__name__}"
        )
    unknown = [k for k in mapping if k not in SMPL_JOINT_NAMES]
    if unknown:
        raise MocapError(
            f"{where}: mapping keys {unknown} are not SMPL joints; expected names from {list(SMPL_JOINT_NAMES)}"
        )
    lookup = _lookup(source_names)
    out: dict[str, str] = {}
    for smpl, src in mapping.items():
        if src is None:
            continue
        hit = lookup.get(src) or lookup.get(normalize_name(str(src)))
        if hit is None:
            raise MocapError(
                f"{where}: mapping[{smpl!r}] = {src!r} is not a source joint; the source joints are {list(source_names)}"
            )
        out[smpl] = hit
    missing = [j for j in REQUIRED_JOINTS if j not in out]
    if missing:
        raise MocapError(
            f"{where}: mapping lacks required SMPL joints {missing} (required: {list(REQUIRED_JOINTS)})"
        )
    return {j: out[j] for j in SMPL_JOINT_NAMES if j in out}, "custom"
