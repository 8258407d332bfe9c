"""What a plan is made of: its IK keyframes (`Keyframe`) and the planned ascent (`ClimbPlan`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from navenv.body.motion import Motion


@dataclass
class Keyframe:
    """One IK keyframe of the plan."""

    label: str  # "start", "shift", "lift", "via", "approach", "grip" or "clear"
    qpos: np.ndarray  # (nq,)
    rest: bool  # the body is still here (releases and grips happen at rest)
    holds: dict[str, str]  # limb -> hold id of the limbs on holds at this keyframe
    limb: str | None = None  # the limb moving in this move
    error: float = 0.0  # m, worst distance of a limb on a hold from its target
    penetration: float = 0.0  # m, deepest contact left by the IK
    frame: int = -1  # frame index in the timed motion
    grip_ok: bool = True  # a grip keyframe: the env's grip would close on the intended hold
    pins: dict = field(default_factory=dict, repr=False)  # limb -> (site pos, site rot) held


def common_limbs(k0: Keyframe, k1: Keyframe) -> list[str]:
    """Limbs on the same hold at both keyframes."""
    return [l for l in k0.holds if k1.holds.get(l) == k0.holds[l]]


@dataclass
class ClimbPlan:
    """A planned ascent: the motion, its contact timeline and how good it is."""

    motion: Motion  # SMPL motion at `fps`
    qpos: np.ndarray  # (T, nq) configurations of the planning model (= the env's model)
    contacts: np.ndarray  # (T, 4) int scene-hold index per limb (names.LIMBS order), -1 off
    grip: np.ndarray  # (T, 4) bool: the grip channel to send (True = close)
    stances: list[Keyframe]  # the keyframes, in order (for debugging and tests)
    moves: list[tuple[str, str]]  # (limb, hold id) in the order climbed
    success: bool  # both hands reach the top hold, every grip within tolerance
    max_ik_error: float  # m, worst keyframe distance of a holding limb from its target
    max_penetration: float  # m, deepest point over every frame (navenv.sinking.DepthGauge)
    fps: float
    # > 1: the speed bounds were raised by this (accelerations by its square) to fit the plan
    # into PlannerConfig.max_duration_s
    speed_scale: float = 1.0
    attempts: int = 1  # plans drawn in all, this the best of them (PlannerConfig.attempts)
    clean: bool = True  # no frame deeper than PlannerConfig.clean_depth_m

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return len(self.qpos)

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return (len(self.qpos) - 1) / self.fps
