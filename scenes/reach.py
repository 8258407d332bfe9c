"""The body the route setter designs for, and when it can hold four holds at once.

The reach model (`stance_reachable`): a stance puts each limb on a hold. The climber is a rigid
upright torso: hip joints `hip_width` apart, shoulder joints `shoulder_width` apart and
`torso_length` above the hips, with the body facing the wall (the wall's local outward direction
is the mean of the four holds' normals, made horizontal). A stance is reachable if some pelvis
position in front of the wall puts each foot within `leg_length` of its hip and each hand within
`hand_reach` (92 % of `arm_length`: the palm, not the fingertip, closes on a hold) of its
shoulder, with no foot more than 0.15 m above the pelvis and no hand more than 0.1 m below it
(climbing, not mantling). Pelvis positions are searched on a fixed grid around the holds, so the
answer is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from scenes.placement import unit_rows, up_vector
from scenes.types import LIMBS, Hold

HAND_REACH_FRACTION = 0.92
MAX_FOOT_ABOVE_PELVIS_M = 0.15
MAX_HAND_BELOW_PELVIS_M = 0.1


@dataclass(frozen=True)
class ClimberDims:
    """Body dimensions the route setter designs for (metres; joint-centre distances).

    Defaults are a 1.75 m adult from anthropometric ratios of stature: arm 0.44, leg 0.53,
    shoulder joints 0.20, hip joints 0.10, hip-to-shoulder height 0.29.
    """

    stature: float = 1.75
    arm_length: float = 0.44 * 1.75  # shoulder joint to fingertip
    leg_length: float = 0.53 * 1.75  # hip joint to sole
    shoulder_width: float = 0.20 * 1.75  # between shoulder joints
    hip_width: float = 0.10 * 1.75  # between hip joints
    torso_length: float = 0.29 * 1.75  # hip joints to shoulder joints, vertically

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(
                    f"ClimberDims.{f.name}: expected a positive finite number, got {v!r}"
                )
        if self.leg_length + self.torso_length >= self.stature:
            raise ValueError(
                f"ClimberDims: leg_length + torso_length ({self.leg_length + self.torso_length:.3f} m)"
                f" must be below stature ({self.stature} m)"
            )
        if self.arm_length >= self.stature:
            raise ValueError(f"ClimberDims.arm_length {self.arm_length} must be below stature")

    @classmethod
    def from_stature(cls, stature: float) -> ClimberDims:
        """A climber of this height (metres) with the default body proportions."""
        if not (isinstance(stature, int | float) and 0.5 <= stature <= 2.5):
            raise ValueError(f"ClimberDims.from_stature: expected 0.5 .. 2.5 m, got {stature!r}")
        return cls(
            stature=stature,
            arm_length=0.44 * stature,
            leg_length=0.53 * stature,
            shoulder_width=0.20 * stature,
            hip_width=0.10 * stature,
            torso_length=0.29 * stature,
        )

    @property
    def hand_reach(self) -> float:
        """Shoulder joint to the centre of a gripping hand, metres."""
        return HAND_REACH_FRACTION * self.arm_length

    @property
    def shoulder_height(self) -> float:
        """Height of the shoulder joints above the soles when standing, metres."""
        return self.leg_length + self.torso_length

    def to_dict(self) -> dict:
        """Plain JSON-compatible dict of the fields."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


DEFAULT_CLIMBER = ClimberDims()
"""The default 1.75 m climber (frozen, so safe to share as a default argument)."""


# --- reach model ---------------------------------------------------------------------------------

# Pelvis search grid in the stance frame: lateral, vertical offset from the holds' centroid, and
# depth in front of the wall (interpolated between the feet's and the hands' depth by height).
_GA, _GB, _GC = (
    g.ravel()
    for g in np.meshgrid(
        np.linspace(-0.5, 0.5, 9), np.linspace(-1.1, 0.5, 17), np.array([0.12, 0.25, 0.4, 0.55])
    )
)


def reach_ok(cl: ClimberDims, pos: np.ndarray, nrm: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(S,) bool: is each stance reachable? pos, nrm: (S, 4, 3) in LIMBS order; up: (3,) unit."""
    horiz = nrm.sum(1) - (nrm.sum(1) @ up)[:, None] * up  # (S, 3)
    fallback = np.cross(up, [1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.cross(up, [0.0, 1.0, 0.0])
    out = unit_rows(horiz, fallback / np.linalg.norm(fallback))
    left = np.cross(out, up)  # the climber faces -out, so n x up points to their left
    # (S, 4, 3) coordinates in the stance frame (left, up, out)
    q = np.stack(
        [np.einsum("sij,sj->si", pos, left), pos @ up, np.einsum("sij,sj->si", pos, out)], -1
    )
    hands, feet = q[:, :2].mean(1), q[:, 2:].mean(1)
    centre = (hands + feet) / 2
    span = np.maximum(hands[:, 1] - feet[:, 1], 1e-6)
    ph = centre[:, 1:2] + _GB  # (S, G) pelvis height
    t = np.clip((ph - feet[:, 1:2]) / span[:, None], 0.0, 1.0)
    pd = feet[:, 2:3] + t * (hands[:, 2:3] - feet[:, 2:3]) + _GC
    pl = centre[:, 0:1] + _GA
    pelvis = np.stack([pl, ph, pd], -1)  # (S, G, 3)
    hw, sw = cl.hip_width / 2, cl.shoulder_width / 2
    shoulders = pelvis + np.array([0.0, cl.torso_length, 0.0])
    side = np.array([1.0, 0.0, 0.0])

    def within(point: np.ndarray, joint: np.ndarray, r: float) -> np.ndarray:
        return np.sum((point[:, None, :] - joint) ** 2, -1) <= r * r

    ok = within(q[:, 0], shoulders + sw * side, cl.hand_reach)
    ok &= within(q[:, 1], shoulders - sw * side, cl.hand_reach)
    ok &= within(q[:, 2], pelvis + hw * side, cl.leg_length)
    ok &= within(q[:, 3], pelvis - hw * side, cl.leg_length)
    ok &= q[:, 2:3, 1] <= ph + MAX_FOOT_ABOVE_PELVIS_M
    ok &= q[:, 3:4, 1] <= ph + MAX_FOOT_ABOVE_PELVIS_M
    ok &= q[:, 0:1, 1] >= ph - MAX_HAND_BELOW_PELVIS_M
    ok &= q[:, 1:2, 1] >= ph - MAX_HAND_BELOW_PELVIS_M
    return ok.any(1)


def stance_reachable(
    climber: ClimberDims, stance: Mapping[str, Hold], *, up: Sequence[float] = (0.0, 0.0, 1.0)
) -> bool:
    """Can the climber hold all four holds at once (one per limb in LIMBS)? See the module doc."""
    missing = [limb for limb in LIMBS if limb not in stance]
    if missing:
        raise ValueError(
            f"stance_reachable: stance lacks limbs {missing}; accepted: all of {LIMBS}"
        )
    pos = np.array([[stance[limb].position for limb in LIMBS]], dtype=float)
    nrm = np.array([[stance[limb].normal for limb in LIMBS]], dtype=float)
    return bool(reach_ok(climber, pos, nrm, up_vector(up))[0])
