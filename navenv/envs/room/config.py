"""Configuration of RoomNav-v0: plain dataclasses, validated on creation."""

from __future__ import annotations

from dataclasses import dataclass, field

OBSERVER_MODES: tuple[str, ...] = ("follow", "circle", "stand", "walk_past")
CROP_MODES: tuple[str, ...] = ("height", "voxel")


@dataclass
class RoomRewardWeights:
    """Weights of the named reward terms (see navenv.envs.room.rewards)."""

    progress: float = 1.0
    """Per metre the geodesic distance to the goal shrinks (potential-based shaping)."""
    success: float = 10.0
    """Once, when the pelvis reaches the goal's approach area."""
    collision: float = 0.1
    """Per second the body touches furniture, walls or the observer."""
    energy: float = 2e-6
    """Per (N m)^2 of actuator torque summed over actuators, per second (physics control)."""
    fall: float = 10.0
    """Once, on a fall."""
    assist: float = 1.0
    """Per body weight of residual root force, per second (assist="residual")."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 0:
                raise ValueError(f"RoomRewardWeights.{name}: expected >= 0, got {value}")


@dataclass
class RoomConfig:
    """Everything about RoomNav-v0 that is not the scene."""

    physics_hz: float = 480.0
    """Physics rate (Hz)."""
    policy_hz: float = 30.0
    """Action/observation rate (Hz); physics_hz / policy_hz substeps per env step."""
    history_hz: float = 10.0
    """Rate of the past-path and observer-trajectory observations (ATS: 10 fps)."""
    history_frames: int = 8
    """Frames of past path and observer trajectory (ATS: 8 past frames, 0.8 s)."""
    crop: str = "height"
    """Occupancy crop: "height" (cells x cells max obstacle height, m) or "voxel" (layers of 0/1)."""
    crop_cells: int = 64
    """Cells along each side of the ego-centric crop."""
    crop_cell_m: float = 0.1
    """Cell edge of the crop (m); 64 x 0.1 m = 6.4 m, as ATS."""
    voxel_layers: int = 8
    """Height layers of the voxel crop."""
    voxel_height_m: float = 2.0
    """Height the voxel layers span (m)."""
    success_radius: float = 0.3
    """Success: the pelvis within this geodesic distance (m) of the goal's approach area."""
    approach_reach: float = 0.45
    """An approach point stands within this distance (m) of its region's footprint."""
    fall_height: float = 0.55
    """Fall: pelvis below this height (m), or any body but a foot touching the floor."""
    ego_frames: int = 4
    """Frames stacked in the ego observation."""
    ego_fovy_deg: float = 90.0
    """Vertical field of view of the agent's head camera and the observer's camera."""
    observer_modes: tuple[str, ...] = OBSERVER_MODES
    """Observer behaviours drawn from at each reset (unless reset options name one)."""
    observer_speed: float = 1.0
    """Observer walking speed (m/s)."""
    observer_distance: float = 2.0
    """Distance (m) the observer keeps when following or circling."""
    max_joint_speed: float = 30.0
    """rad/s; joint speeds above this, or MuJoCo warnings, count as a numerical instability."""
    max_assist_force: float = 1.5
    """Residual root force limit in body weights (assist="residual")."""
    max_assist_torque: float = 300.0
    """Residual root torque limit (N m)."""
    root_margin: float = 0.5
    """Kinematic root position actions span the room grown by this (m)."""
    rewards: RoomRewardWeights = field(default_factory=RoomRewardWeights)

    def __post_init__(self) -> None:
        if self.physics_hz <= 0 or self.policy_hz <= 0 or self.history_hz <= 0:
            raise ValueError(
                f"RoomConfig: rates must be positive, got {self.physics_hz}, {self.policy_hz}, "
                f"{self.history_hz}"
            )
        for name, num, den in (
            ("physics_hz / policy_hz", self.physics_hz, self.policy_hz),
            ("policy_hz / history_hz", self.policy_hz, self.history_hz),
        ):
            ratio = num / den
            if abs(ratio - round(ratio)) > 1e-9 or ratio < 1:
                raise ValueError(f"RoomConfig: {name} must be a whole number >= 1, got {ratio}")
        if self.crop not in CROP_MODES:
            raise ValueError(f"RoomConfig.crop={self.crop!r}: expected one of {CROP_MODES}")
        bad = [m for m in self.observer_modes if m not in OBSERVER_MODES]
        if bad or not self.observer_modes:
            raise ValueError(
                f"RoomConfig.observer_modes={self.observer_modes!r}: expected a non-empty "
                f"subset of {OBSERVER_MODES}"
            )
        self.observer_modes = tuple(self.observer_modes)
        for name in ("history_frames", "crop_cells", "voxel_layers", "ego_frames"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"RoomConfig.{name}={getattr(self, name)!r}: expected an int >= 1")
        for name in ("crop_cell_m", "voxel_height_m", "success_radius", "observer_speed"):
            if not getattr(self, name) > 0:
                raise ValueError(f"RoomConfig.{name}={getattr(self, name)!r}: expected > 0")

    @property
    def frame_skip(self) -> int:
        """Physics substeps per env step."""
        return round(self.physics_hz / self.policy_hz)

    @property
    def history_stride(self) -> int:
        """Env steps between two history frames."""
        return round(self.policy_hz / self.history_hz)
