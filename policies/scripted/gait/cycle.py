"""`GaitCycle` (one periodic walk cycle in a canonical frame) and `IdlePose` (a standing pose).

Canonical frame of a cycle: it starts at a left heel strike with the root's xy at (0, 0) and
walks along -y, navenv's rest facing (yaw 0), so the next left heel strike (frame N, not stored:
frame 0 moved by (0, -stride_m, 0)) is at (0, -stride_m). Frame i is at phase i / N of the cycle
(0 = left heel strike, 1 = the next one); time is phase * duration_s. Rotations and the root
height are periodic (frame N equals frame 0), so the cycle can be played at any phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from navenv.body.joints import MIRROR_PAIRS, NUM_BODY_JOINTS, NUM_JOINTS
from policies.scripted.gait.poses import sample_frames

_REFLECT = np.diag([-1.0, 1.0, 1.0])  # x -> -x: navenv's body frame has its left at +x


def _mirror_permutation() -> np.ndarray:
    perm = np.arange(NUM_JOINTS)
    for a, b in MIRROR_PAIRS:
        perm[a], perm[b] = b, a
    return perm


def in_stance(events: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """(..., 2) bool: whether each foot (left, right) is planted at cycle phases (...,).

    events: (2, 2) per foot (heel-strike phase, lift-off phase) in [0, 1]; a foot is planted
    from its strike until its lift-off, wrapping around the end of the cycle.
    """
    p = np.asarray(phase, dtype=np.float64)[..., None]  # (..., 1)
    strike, lift = events[:, 0], events[:, 1]
    return (p - strike) % 1.0 < (lift - strike) % 1.0


@dataclass(frozen=True, eq=False)
class GaitCycle:
    """One walk cycle, left heel strike to left heel strike, in the canonical frame (module doc).

    transl: (N, 3) root translation, metres, of the performer's body.
    global_orient: (N, 3, 3); body_pose: (N, 23, 3, 3), SMPL order.
    events: (2, 2) phases of (heel strike, lift-off) of the left and right foot (left strike 0).
    stride_m: root displacement over the cycle (two steps); duration_s: its length in seconds.
    leg_length_m: the performer's hip-to-sole length, to scale the cycle to another body.
    """

    name: str
    transl: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    events: np.ndarray
    stride_m: float
    duration_s: float
    leg_length_m: float

    def __post_init__(self) -> None:
        n = self.transl.shape[0]
        if self.transl.shape != (n, 3) or n < 2:
            raise ValueError(
                f"GaitCycle {self.name}: transl must be (N >= 2, 3), got {self.transl.shape}"
            )
        if self.global_orient.shape != (n, 3, 3) or self.body_pose.shape != (
            n,
            NUM_BODY_JOINTS,
            3,
            3,
        ):
            raise ValueError(f"GaitCycle {self.name}: rotations do not match {n} frames")
        if self.events.shape != (2, 2) or not (self.stride_m > 0 and self.duration_s > 0):
            raise ValueError(f"GaitCycle {self.name}: bad events, stride or duration")

    @property
    def num_frames(self) -> int:
        """Frames stored, N (the cycle's frame N is frame 0 moved by one stride)."""
        return self.transl.shape[0]

    @property
    def speed_m_s(self) -> float:
        """Walking speed of the recording, stride / duration (m/s)."""
        return self.stride_m / self.duration_s

    @property
    def contacts(self) -> np.ndarray:
        """(N, 2) bool per-frame foot contacts (left, right)."""
        return in_stance(self.events, np.arange(self.num_frames) / self.num_frames)

    def residual_transl(self) -> np.ndarray:
        """(N, 3) root translation minus the steady advance along -y: periodic sway and bounce."""
        t = self.transl.copy()
        t[:, 1] += self.stride_m * np.arange(self.num_frames) / self.num_frames
        return t

    def sample(self, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residual root translation (M, 3) and rotations (M, 24, 3, 3) at phases (M,), any real.

        Rotations are slerped between stored frames; phase wraps around (the cycle is periodic).
        """
        n = self.num_frames
        res = self.residual_transl()
        rots = np.concatenate([self.global_orient[:, None], self.body_pose], axis=1)
        res = np.concatenate([res, res[:1]])  # frame N = frame 0 (periodic)
        rots = np.concatenate([rots, rots[:1]])
        return sample_frames(res, rots, (np.asarray(phase, dtype=np.float64) % 1.0) * n)

    def mirrored(self) -> GaitCycle:
        """The same cycle with left and right swapped (reflected in the body's midplane).

        The mirror starts at the original's right heel strike (its new left strike), so it is
        resampled at the original's phases shifted by that strike's phase.
        """
        n, shift = self.num_frames, float(self.events[1, 0])
        phase = np.arange(n) / n
        res, rots = self.sample(phase + shift)
        transl = res - res[0] * np.array([1.0, 1.0, 0.0])
        transl[:, 1] -= self.stride_m * phase
        transl[:, 0] *= -1.0
        rots = _REFLECT @ rots[:, _mirror_permutation()] @ _REFLECT
        events = (self.events[::-1] - shift) % 1.0  # new left = old right, from phase 0
        events[0, 0] = 0.0
        return GaitCycle(
            name=f"{self.name} mirrored",
            transl=transl,
            global_orient=rots[:, 0],
            body_pose=rots[:, 1:],
            events=events,
            stride_m=self.stride_m,
            duration_s=self.duration_s,
            leg_length_m=self.leg_length_m,
        )


@dataclass(frozen=True, eq=False)
class IdlePose:
    """A quiet standing pose: heading removed (faces about -y), root xy at 0.

    global_orient: (3, 3); body_pose: (23, 3, 3); height_m: root translation z that puts the feet
    on the floor for the performer's body (leg_length_m).
    """

    name: str
    global_orient: np.ndarray
    body_pose: np.ndarray
    height_m: float
    leg_length_m: float

    @property
    def rotations(self) -> np.ndarray:
        """(24, 3, 3) global orient then the 23 body joints."""
        return np.concatenate([self.global_orient[None], self.body_pose], axis=0)
