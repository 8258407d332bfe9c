"""PlannerConfig: how the scripted climber plans; (low, high) pairs are ranges a seed draws from.

The keyframe IK's weights are nested (`ik`, `policies.scripted.keyframes.IKWeights`) as the timing
bounds (`limits`) and the clearance pass (`clearance`) are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.scripted.clearance import ClearanceConfig
from policies.scripted.keyframes import IKWeights
from policies.scripted.trajectory import TimingLimits


@dataclass
class PlannerConfig:
    """How the scripted climber plans; (low, high) pairs are ranges a seed draws from."""

    limits: TimingLimits = field(default_factory=TimingLimits)
    """Speed/acceleration bounds of the output motion and its frame rate."""
    ik: IKWeights = field(default_factory=IKWeights)
    """The keyframe IK: row weights, iterations, tolerances (`policies.scripted.keyframes`)."""
    shift_duration_s: tuple[float, float] = (0.4, 0.7)
    """Shortest time to shift the body before a move."""
    hand_move_duration_s: tuple[float, float] = (0.7, 1.1)
    """Shortest time from release to grip of a hand move."""
    foot_move_duration_s: tuple[float, float] = (0.5, 0.8)
    """Shortest time from release to grip of a foot move."""
    shift_fraction: tuple[float, float] = (0.35, 0.75)
    """How far the pelvis moves toward the next stance's hang before the limb lets go."""
    lift_off_m: tuple[float, float] = (0.08, 0.12)
    """How far a limb lifts off its hold (along the hold normal) before travelling."""
    hip_turn_rad: float = 0.15
    """Largest seeded turn of the pelvis about the vertical during a move."""
    style_scale: float = 1.0
    """Scale of the seeded posture-prior perturbations (STYLE_JOINTS); 0 = one fixed style."""
    swap_probability: float = 0.35
    """Chance to swap two consecutive independent moves (when the swap stays reachable)."""
    drift_tolerance_m: float = 0.015
    """A limb on a hold may drift this far (m) between keyframes before one is inserted."""
    repair_rounds: int = 6
    """Rounds of inserting contact-free keyframes where interpolation penetrates."""
    retime_rounds: int = 2
    """Rounds of slowing the keyframe segments still sunk after the clearance pass (each by
    `retime_factor`) and clearing again."""
    retime_factor: float = 2.0
    """How much longer a still-sunk segment is made in a retime round."""
    clearance: ClearanceConfig = field(default_factory=ClearanceConfig)
    """The last pass pushing still-sunk frames clear (`policies.scripted.clearance`)."""
    max_duration_s: float = 58.0
    """Timing is compressed (toward the speed bounds) to fit the plan in this many seconds."""
    attempts: int = 3
    """Plans drawn per call, each a further draw of the seeded variation, until one reaches the
    top with no frame deeper than `clean_depth_m`; the best is returned. Against one draw, 3 cut
    the routes deeper than 2 cm from 18 to 12 of 165 (5 cm: 9 to 4) at about twice the mean
    planning time; dataset generation draws once and moves on to another route instead
    (`GenerateConfig.max_penetration_m`)."""
    clean_depth_m: float = 0.02
    """The planner's penetration tolerance (m): a plan whose deepest frame (wall, volume, hold or
    body) is this shallow is clean (`ClimbPlan.clean`) and needs no redraw."""

    def __post_init__(self) -> None:
        for name in ("shift_duration_s", "hand_move_duration_s", "foot_move_duration_s"):
            lo, hi = getattr(self, name)
            if not (0 < lo <= hi):
                raise ValueError(f"PlannerConfig.{name}: expected 0 < low <= high, got {lo, hi}")
        for name in ("shift_fraction", "lift_off_m"):
            lo, hi = getattr(self, name)
            if not (0 <= lo <= hi):
                raise ValueError(f"PlannerConfig.{name}: expected 0 <= low <= high, got {lo, hi}")
        if self.shift_fraction[1] > 1:
            raise ValueError(
                f"PlannerConfig.shift_fraction: expected <= 1, got {self.shift_fraction}"
            )
        if self.retime_rounds < 0 or self.retime_factor < 1:
            raise ValueError(
                f"PlannerConfig: retime_rounds >= 0 and retime_factor >= 1 required, got "
                f"{self.retime_rounds}, {self.retime_factor}"
            )
        if self.repair_rounds < 0 or not (self.drift_tolerance_m > 0):
            raise ValueError(
                f"PlannerConfig: repair_rounds >= 0 and drift_tolerance_m > 0 required, got "
                f"{self.repair_rounds}, {self.drift_tolerance_m}"
            )
        if self.attempts < 1:
            raise ValueError(f"PlannerConfig.attempts: expected >= 1, got {self.attempts}")
        if not (0 <= self.swap_probability <= 1):
            raise ValueError(
                f"PlannerConfig.swap_probability: expected 0..1, got {self.swap_probability}"
            )
        if not isinstance(self.ik, IKWeights):
            raise TypeError(f"PlannerConfig.ik: expected IKWeights, got {type(self.ik).__name__}")
        for name in ("hip_turn_rad", "style_scale", "max_duration_s", "clean_depth_m"):
            if not (getattr(self, name) >= 0):
                raise ValueError(f"PlannerConfig.{name}: expected >= 0, got {getattr(self, name)}")
