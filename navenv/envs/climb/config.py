"""Configuration of the climbing environment: plain dataclasses, validated on creation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RewardWeights:
    """Weights of the named reward terms (see navenv.envs.climb.rewards)."""

    progress: float = 10.0
    """Per route hold newly reached by a hand, scaled by 1 / (number of route holds - 1)."""
    reach: float = 2.0
    """Per metre the free hand moves toward its next hold (potential-based shaping)."""
    hold: float = 0.05
    """Per step, times the fraction of limbs gripping a hold (staying on the wall)."""
    success: float = 50.0
    """Once, when the top hold is held with both hands."""
    energy: float = 2e-6
    """Per (N m)^2 of actuator torque, summed over actuators, per second (~0.02 per step hanging)."""
    fall: float = 20.0
    """Once, on a fall."""
    assist: float = 1.0
    """Per body weight of residual root force, per second."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 0:
                raise ValueError(f"RewardWeights.{name}: expected >= 0, got {value}")


@dataclass
class ClimbConfig:
    """Everything about ClimbRoute-v0 that is not the scene or the route."""

    physics_hz: float = 480.0
    """Physics rate (Hz)."""
    policy_hz: float = 30.0
    """Action/observation rate (Hz); physics_hz / policy_hz substeps per env step."""
    capture_radius: float = 0.06
    """A grip closes only if the limb's gripping geom is within this distance (m) of a hold's surface."""
    hand_grip_force_limit: float = 1200.0
    """A hand grip breaks above this constraint force (N), about 1.7 body weights."""
    foot_grip_force_limit: float = 1500.0
    """A foot grip breaks above this constraint force (N)."""
    fall_margin: float = 0.3
    """Fall: no grip and pelvis this far (m) below its start height."""
    max_assist_force: float = 1.5
    """Residual root force limit in body weights (assist="residual")."""
    max_assist_torque: float = 300.0
    """Residual root torque limit (N m)."""
    ego_frames: int = 4
    """Frames stacked in the ego observation."""
    ego_fovy_deg: float = 90.0
    """Vertical field of view of the ego camera."""
    route_lookahead: int = 4
    """Route holds (after the highest one reached) given in the route observation."""
    max_joint_speed: float = 30.0
    """rad/s; joint speeds above this, or MuJoCo warnings, count as a numerical instability."""
    kinematic_root_margin: float = 1.5
    """Kinematic root position actions span the scene's climbing box grown by this (m)."""
    rewards: RewardWeights = field(default_factory=RewardWeights)

    def __post_init__(self) -> None:
        if self.physics_hz <= 0 or self.policy_hz <= 0:
            raise ValueError(
                f"ClimbConfig: rates must be positive, got {self.physics_hz}, {self.policy_hz}"
            )
        ratio = self.physics_hz / self.policy_hz
        if abs(ratio - round(ratio)) > 1e-9 or ratio < 1:
            raise ValueError(
                f"ClimbConfig: physics_hz / policy_hz must be a whole number >= 1, got {self.physics_hz} / {self.policy_hz}"
            )
        if self.capture_radius <= 0 or self.ego_frames < 1 or self.route_lookahead < 1:
            raise ValueError(
                "ClimbConfig: capture_radius > 0, ego_frames >= 1 and route_lookahead >= 1 required"
            )

    @property
    def frame_skip(self) -> int:
        """Physics substeps per env step."""
        return round(self.physics_hz / self.policy_hz)
