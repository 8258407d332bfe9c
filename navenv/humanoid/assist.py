"""The residual root wrench ("assist"): one PD law on the pelvis toward a reference root pose.

The humanoid's free root has no actuator; a wrench on the pelvis (world frame) makes up for what
the joints cannot do alone. `RootGains.wrench` is the PD law every user shares: the physical
replay (navenv.humanoid.replay.track_motion, with `RootAssist`'s gains and limits, refreshed every
physics step) and the policies' tracker (its own gains, held for a whole policy step, normalised
into ClimbRoute's assist channels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from navenv.body.rotations import matrix_to_axis_angle


@dataclass
class RootGains:
    """Gains of the PD wrench on the pelvis."""

    kp_force: float
    """N/m of root position error."""
    kd_force: float
    """N s/m of root velocity error."""
    kp_torque: float
    """N m/rad of root orientation error."""
    kd_torque: float
    """N m s/rad of root angular velocity error."""

    def __post_init__(self) -> None:
        for name in ("kp_force", "kd_force", "kp_torque", "kd_torque"):
            if not (getattr(self, name) >= 0):
                raise ValueError(
                    f"{type(self).__name__}.{name}: expected >= 0, got {getattr(self, name)}"
                )

    def wrench(
        self,
        *,
        pos: np.ndarray,
        vel: np.ndarray,
        rot: np.ndarray,
        angvel: np.ndarray,
        pos_ref: np.ndarray,
        vel_ref: np.ndarray,
        rot_ref: np.ndarray,
        angvel_ref: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Force (3,) N and torque (3,) N m, world frame, driving the pelvis at `pos` (m),
        `vel` (m/s), `rot` (3, 3), `angvel` (rad/s, world frame) toward the reference pose and
        velocities `*_ref`."""
        rot_err = matrix_to_axis_angle(rot_ref @ rot.T)
        force = self.kp_force * (pos_ref - pos) + self.kd_force * (vel_ref - vel)
        torque = self.kp_torque * rot_err + self.kd_torque * (angvel_ref - angvel)
        return force, torque


@dataclass
class RootAssist(RootGains):
    """Gains and limits of the residual root wrench of a physical replay (track_motion)."""

    kp_force: float = 4000.0
    """N/m: about a body weight (700 N) at 18 cm root position error."""
    kd_force: float = 400.0
    """N s/m."""
    kp_torque: float = 1500.0
    """N m/rad."""
    kd_torque: float = 150.0
    """N m s/rad."""
    max_force: float = 2000.0
    """N: the wrench is clipped to this norm (about three body weights)."""
    max_torque: float = 800.0
    """N m."""

    def __post_init__(self) -> None:
        if (
            min(
                self.kp_force,
                self.kd_force,
                self.kp_torque,
                self.kd_torque,
                self.max_force,
                self.max_torque,
            )
            < 0
        ):
            raise ValueError(f"RootAssist: gains and limits must be >= 0, got {self}")

    def wrench(self, **pose) -> tuple[np.ndarray, np.ndarray]:
        """`RootGains.wrench` (same keyword arguments), each part clipped to its norm limit."""
        force, torque = super().wrench(**pose)
        return _clip_norm(force, self.max_force), _clip_norm(torque, self.max_torque)


def _clip_norm(v: np.ndarray, limit: float) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v if n <= limit else v * (limit / n)


__all__ = ["RootAssist", "RootGains"]
