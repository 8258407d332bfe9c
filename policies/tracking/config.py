"""TrackerConfig: the tracker's gains and its closed-loop switches, one documented field each."""

from __future__ import annotations

from dataclasses import dataclass

from navenv.humanoid.assist import RootGains


@dataclass
class TrackerConfig:
    """Gains of the residual root wrench and the closed-loop grip behaviour."""

    # The wrench is held for a whole policy step (1/30 s), not refreshed every physics step as in
    # navenv.humanoid.replay, so the gains are lower: RootAssist's torque gains make the
    # pelvis ring at this rate.
    kp_force: float = 3000.0
    """N/m of root position error (about a body weight at 24 cm)."""
    kd_force: float = 150.0
    """N s/m of root velocity error."""
    kp_torque: float = 300.0
    """N m/rad of root orientation error."""
    kd_torque: float = 30.0
    """N m s/rad of root angular velocity error."""
    joint_integral: float = 0.0
    """1/s: integral action on the hinge errors seen in the observation (0 = off); makes up for
    the PD joints sagging under the body's weight."""
    integral_limit: float = 0.3
    """rad: largest integral correction of a hinge target."""
    limb_feedback: float = 0.3
    """Share of a free limb's world-position error (reference vs. estimated, from the root state
    and the joint angles) corrected per step through its shoulder/elbow/wrist or hip/knee/ankle
    hinges, so a limb still reaches its hold when the body hangs off the reference (0 = off;
    needs the tracker's model, see Tracker.from_world, and the root state)."""
    limb_correction_limit: float = 0.6
    """rad: largest correction of one hinge by limb feedback."""
    hold_retarget: float = 0.5
    """Share of a holding limb's anchor error (where its grip closed vs. where the reference,
    from the reference root, puts it) corrected per step through its chain (0 = off)."""
    limb_turn_weight: float = 0.0
    """m/rad: how much a limb's turn (toward the reference's) counts against its position in
    the chain corrections (0 = position only)."""
    travel_feedback: float = 0.0
    """Like limb_feedback, for a free limb on its way (0: its old correction fades out)."""
    match_gap_m: float = 0.085
    """m: a hand joining its partner on one hold aims this far beside the partner's grip (a
    palm's width), so the two hands do not collide (0 = follow the plan)."""
    gravity_feedforward: bool = True
    """Add the static hinge torques that hold the reference under gravity, with the holding
    limbs carrying the body, as target offsets (needs the tracker's model and the root state)."""
    velocity_feedforward: bool = True
    """Add (kv/kp) qdot_ref to the PD targets (no lag); False: plain position targets."""
    wait_for_grip: bool = True
    """Hold the reference at a grip frame until the observation shows the grip closed."""
    max_wait_s: float = 1.0
    """Longest wait for one grip (s); then the reference moves on."""
    release_wait_s: float = 3.0
    """Longest wait (s) before letting a limb go while another wanted grip is still open."""
    grip_tolerance: float = 0.03
    """m: a grip is commanded closed only once the limb's grip site is this close to where the
    reference puts it (needs limb feedback; else grips follow the reference)."""
    rearm_after_s: float = 0.3
    """A grip the reference holds but the body has lost this long is re-armed (channel -1 once)."""

    def __post_init__(self) -> None:
        for name in (
            "kp_force",
            "kd_force",
            "kp_torque",
            "kd_torque",
            "max_wait_s",
            "rearm_after_s",
        ):
            if not (getattr(self, name) >= 0):
                raise ValueError(f"TrackerConfig.{name}: expected >= 0, got {getattr(self, name)}")

    @property
    def root_gains(self) -> RootGains:
        """The residual root wrench's PD gains (navenv.humanoid.assist)."""
        return RootGains(self.kp_force, self.kd_force, self.kp_torque, self.kd_torque)


__all__ = ["TrackerConfig"]
