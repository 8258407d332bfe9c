"""Skeletons: SMPL joint rest offsets for given body-shape parameters (betas).

navenv's body frame (used by every Skeleton, Motion and the MuJoCo humanoid): z is up, the body
faces -y and its left side is +x. This is SMPL's canonical frame (y up, facing +z, left +x)
rotated by +90 degrees about x, so an identity root orientation means "standing upright".

Two sources of skeletons:

- ``Skeleton.builtin(betas)``: our own anthropometric skeleton, needing no licensed file. Joint
  positions come from segment proportions of stature from Drillis & Contini (1966), as
  tabulated in D. A. Winter, *Biomechanics and Motor Control of Human Movement*, 4th ed. (2009),
  Fig. 4.1 (heights of shoulder 0.818 H, elbow 0.630 H, wrist 0.485 H, hip 0.530 H, knee 0.285 H,
  ankle 0.039 H, chin 0.870 H; biacromial breadth 0.259 H, foot length 0.152 H), with hip joint
  centres 0.05 H either side of the midline (Bell, Pedersen & Brand 1990: about 36% of the
  inter-ASIS breadth). Stature is 1.70 m at betas = 0. The shape basis is ours and linear in
  betas (see ``BUILTIN_BETA_MEANING``): each beta is a z-score of one proportion, so beta 0 = +1
  makes the body 1 SD (0.09 m, sexes pooled) taller and beta 1 = +1 gives 5% longer arms.
  At betas = 0 the soles are on z = 0 when transl = 0.
- ``Skeleton.from_smplx(path, ...)`` (navenv.body.smpl_files): joints regressed by the real SMPL /
  SMPL-H / SMPL-X model through the smplx package, rotated into navenv's frame, with the rest
  mesh. There betas are the model's own PCA shape coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from navenv.body.joints import JOINT_INDEX, NUM_BETAS, NUM_JOINTS, SMPL_JOINT_NAMES, SMPL_PARENTS

MEAN_STATURE_M = 1.70
STATURE_SD_M = 0.09

# Rest joint positions (T-pose, arms horizontal) as fractions of stature H, in the body frame
# (x left, y back, z up; the body faces -y). Right-side joints mirror x.
_REST_FRACTIONS: dict[str, tuple[float, float, float]] = {
    "pelvis": (0.0, 0.0, 0.575),
    "left_hip": (0.05, 0.0, 0.525),
    "spine1": (0.0, 0.005, 0.635),
    "left_knee": (0.048, -0.004, 0.285),
    "spine2": (0.0, 0.010, 0.695),
    "left_ankle": (0.046, 0.010, 0.039),
    "spine3": (0.0, 0.006, 0.735),
    "left_foot": (0.050, -0.080, 0.012),  # ball of the foot (SMPL's "foot" joint)
    "neck": (0.0, 0.010, 0.835),
    "left_collar": (0.035, 0.004, 0.800),
    "head": (0.0, -0.004, 0.895),
    "left_shoulder": (0.105, 0.010, 0.800),
    "left_elbow": (0.293, 0.010, 0.800),  # upper arm 0.188 H
    "left_wrist": (0.438, 0.010, 0.800),  # forearm 0.145 H
    "left_hand": (0.488, 0.010, 0.800),  # knuckles; fingertip at 0.546 H (hand 0.108 H)
}

# What each builtin beta does: (description, per-unit relative change, joints whose offsets scale).
BUILTIN_BETA_MEANING: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("stature (uniform scale, 1 SD = 0.09 m)", STATURE_SD_M / MEAN_STATURE_M, ("*",)),
    ("arm length", 0.05, ("shoulder>elbow", "elbow>wrist", "wrist>hand")),
    ("leg length (pelvis height follows)", 0.04, ("hip>knee", "knee>ankle")),
    ("shoulder breadth", 0.06, ("spine3>collar", "collar>shoulder")),
    ("hip breadth", 0.06, ("pelvis>hip",)),
    ("torso length", 0.04, ("pelvis>spine1", "spine1>spine2", "spine2>spine3")),
    ("neck length", 0.08, ("spine3>neck", "neck>head")),
    ("foot length", 0.05, ("ankle>foot",)),
    ("hand length", 0.05, ("wrist>hand",)),
    ("head size", 0.04, ("neck>head",)),
)

_SEGMENT_CHILDREN: dict[str, tuple[str, ...]] = {
    "shoulder>elbow": ("left_elbow", "right_elbow"),
    "elbow>wrist": ("left_wrist", "right_wrist"),
    "wrist>hand": ("left_hand", "right_hand"),
    "hip>knee": ("left_knee", "right_knee"),
    "knee>ankle": ("left_ankle", "right_ankle"),
    "spine3>collar": ("left_collar", "right_collar"),
    "collar>shoulder": ("left_shoulder", "right_shoulder"),
    "pelvis>hip": ("left_hip", "right_hip"),
    "pelvis>spine1": ("spine1",),
    "spine1>spine2": ("spine2",),
    "spine2>spine3": ("spine3",),
    "spine3>neck": ("neck",),
    "neck>head": ("head",),
    "ankle>foot": ("left_foot", "right_foot"),
}


def _rest_joints_mean() -> np.ndarray:
    """(24, 3) absolute rest joint positions of the mean builtin body, metres."""
    joints = np.zeros((NUM_JOINTS, 3))
    for name in SMPL_JOINT_NAMES:
        side = name.split("_")[0]
        base = name if side not in ("left", "right") else "left_" + name.split("_", 1)[1]
        fx, fy, fz = _REST_FRACTIONS[base]
        if side == "right":
            fx = -fx
        joints[JOINT_INDEX[name]] = np.array([fx, fy, fz]) * MEAN_STATURE_M
    return joints


def offsets_from_joints(joints: np.ndarray) -> np.ndarray:
    """(..., 24, 3) offsets: joint 0 absolute, others relative to their parent."""
    offsets = joints.copy()
    for i in range(1, NUM_JOINTS):
        offsets[..., i, :] = joints[..., i, :] - joints[..., SMPL_PARENTS[i], :]
    return offsets


def _builtin_basis() -> tuple[np.ndarray, np.ndarray]:
    """Mean offsets (24, 3) and the linear shape basis (10, 24, 3) of the builtin skeleton."""
    mean = offsets_from_joints(_rest_joints_mean())
    basis = np.zeros((NUM_BETAS, NUM_JOINTS, 3))
    for k, (_, rate, segments) in enumerate(BUILTIN_BETA_MEANING):
        if segments == ("*",):
            basis[k] = rate * mean
            continue
        for seg in segments:
            for child in _SEGMENT_CHILDREN[seg]:
                basis[k, JOINT_INDEX[child]] += rate * mean[JOINT_INDEX[child]]
        if k == 2:  # longer legs raise the pelvis so the soles stay on the floor
            leg = mean[JOINT_INDEX["left_knee"], 2] + mean[JOINT_INDEX["left_ankle"], 2]
            basis[k, 0, 2] -= rate * leg  # leg offsets point down (negative z)
    return mean, basis


BUILTIN_MEAN_OFFSETS, BUILTIN_SHAPE_BASIS = _builtin_basis()


def _as_betas(betas) -> np.ndarray:
    if betas is None:
        return np.zeros(NUM_BETAS)
    b = np.asarray(betas, dtype=np.float64).reshape(-1)
    if b.shape[0] > NUM_BETAS or not np.isfinite(b).all():
        raise ValueError(f"betas: expected up to {NUM_BETAS} finite numbers, got {b.tolist()}")
    return np.pad(b, (0, NUM_BETAS - b.shape[0]))


@dataclass(frozen=True, eq=False)
class Skeleton:
    """Joint rest offsets of one body: ``offsets[0]`` is the pelvis rest position (metres, body
    frame, transl = 0), ``offsets[i]`` the rest vector from joint i's parent to joint i.
    """

    offsets: np.ndarray  # (24, 3) metres
    betas: np.ndarray  # (10,)
    source: str = "builtin"
    vertices: np.ndarray | None = field(default=None, repr=False)  # (V, 3) rest mesh, body frame
    faces: np.ndarray | None = field(default=None, repr=False)  # (F, 3) int
    skin_weights: np.ndarray | None = field(default=None, repr=False)  # (V, 24)

    def __post_init__(self) -> None:
        off = np.asarray(self.offsets, dtype=np.float64)
        if off.shape != (NUM_JOINTS, 3) or not np.isfinite(off).all():
            raise ValueError(f"Skeleton.offsets: expected finite (24, 3), got {off.shape}")
        object.__setattr__(self, "offsets", off)
        object.__setattr__(self, "betas", _as_betas(self.betas))

    @classmethod
    def builtin(cls, betas=None) -> Skeleton:
        """The anthropometric skeleton for navenv's own betas (see BUILTIN_BETA_MEANING)."""
        b = _as_betas(betas)
        offsets = BUILTIN_MEAN_OFFSETS + np.tensordot(b, BUILTIN_SHAPE_BASIS, axes=1)
        if np.any(np.linalg.norm(offsets[1:], axis=-1) <= 1e-4):
            raise ValueError(f"betas {b.tolist()} collapse a bone to zero length; use |beta| < ~5")
        return cls(offsets=offsets, betas=b, source="builtin")

    @classmethod
    def from_smplx(cls, model_path=None, gender: str = "neutral", betas=None) -> Skeleton:
        """Skeleton (and rest mesh) from user-supplied SMPL/SMPL-H/SMPL-X files via smplx."""
        from navenv.body.smpl_files import load_smplx_body

        body = load_smplx_body(model_path, gender=gender, betas=betas)
        return cls(
            offsets=offsets_from_joints(body.joints),
            betas=body.betas,
            source=body.source,
            vertices=body.vertices,
            faces=body.faces,
            skin_weights=body.skin_weights,
        )

    @property
    def rest_joints(self) -> np.ndarray:
        """(24, 3) absolute joint positions in the rest pose, metres."""
        joints = self.offsets.copy()
        for i in range(1, NUM_JOINTS):
            joints[i] = joints[SMPL_PARENTS[i]] + self.offsets[i]
        return joints

    def bone_length(self, joint: str) -> float:
        """Length (m) of the bone from ``joint``'s parent to ``joint``."""
        return float(np.linalg.norm(self.offsets[JOINT_INDEX[joint]]))

    @property
    def stature(self) -> float:
        """Approximate standing height (m) from the head-to-ankle height of the rest pose.

        Uses the builtin proportions (head joint 0.895 H, ankle 0.039 H above the sole), so it is
        exact for builtin skeletons and an estimate for SMPL ones.
        """
        rest = self.rest_joints
        ankle = 0.5 * (rest[JOINT_INDEX["left_ankle"], 2] + rest[JOINT_INDEX["right_ankle"], 2])
        return float((rest[JOINT_INDEX["head"], 2] - ankle) / (0.895 - 0.039))

    @property
    def sole_height(self) -> float:
        """Height (m) of the soles in the rest pose with transl = 0."""
        rest = self.rest_joints
        ankle = 0.5 * (rest[JOINT_INDEX["left_ankle"], 2] + rest[JOINT_INDEX["right_ankle"], 2])
        return float(ankle - 0.039 * self.stature)

    def arm_length(self) -> float:
        """Shoulder to fingertip (m): the three arm bones plus the fingers beyond the hand joint."""
        bones = sum(self.bone_length(j) for j in ("left_elbow", "left_wrist", "left_hand"))
        return bones + 0.058 * self.stature

    def leg_length(self) -> float:
        """Hip joint to sole (m)."""
        return self.bone_length("left_knee") + self.bone_length("left_ankle") + 0.039 * self.stature
