"""Tracker: reference frames (a Motion or humanoid qpos, plus grip channels) -> ClimbRoute actions.

Generic: it knows the env's action layout and the humanoid, nothing about where the reference came
from (the scripted planner now, a diffusion policy's Motion chunks later).

Physics actions (see navenv.envs.climb.env): the hinges get PD targets with velocity feed-forward.
MuJoCo's position actuator applies ``kp (ctrl - q) - kv qdot``; ``ctrl = q_ref + (kv / kp)
qdot_ref`` makes that ``kp (q_ref - q) + kv (qdot_ref - qdot)`` (see navenv.humanoid.replay),
normalised to [-1, 1] over each hinge's range. The grip channels come from the reference, gated
on the observation (policies.tracking.gating). With assist="residual", the PD wrench on the pelvis
toward the reference root pose (navenv.humanoid.assist, the law navenv's replay uses), normalised
by the env's limits (max_assist_force body weights, max_assist_torque N m) and clipped.

Closed loop, on what the observation shows (each part can be switched off in TrackerConfig):
- joint integral: the PD joints sag under the body's weight; an integral of the hinge errors
  (clipped) is added to the targets;
- limb feedback (policies.tracking.limbs; needs the tracker's model, see `Tracker.from_world`,
  and the root state, see policies.tracking.estimator);
- gravity feed-forward (policies.tracking.support);
- grip gating and waiting (policies.tracking.gating).

The tracker's action and observation layouts come from its own settings (assist mode, route
lookahead) through navenv.envs.climb.layout, so it runs without an env.
"""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.body.rotations import matrix_to_axis_angle
from navenv.envs.climb.layout import ASSIST_MODES, action_layout
from navenv.envs.grips import Grips
from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.names import NUM_HINGES
from policies.tracking.actions import physics_action
from policies.tracking.config import TrackerConfig
from policies.tracking.estimator import DEFAULT_LOOKAHEAD, RootState, state_layout
from policies.tracking.gating import GripGate
from policies.tracking.limbs import LimbFeedback
from policies.tracking.reference import Reference, next_contacts
from policies.tracking.support import GravitySupport


class Tracker:
    """Steps through a Reference, one env action per call (see the module doc)."""

    def __init__(
        self,
        hinge_range: np.ndarray,
        kv_over_kp: np.ndarray,
        *,
        dt: float,
        assist: str = "none",
        body_weight: float = 1.0,
        max_assist_force: float = 1.5,
        max_assist_torque: float = 300.0,
        lookahead: int = DEFAULT_LOOKAHEAD,
        config: TrackerConfig | None = None,
        model: mujoco.MjModel | None = None,
        index: HumanoidIndex | None = None,
        grips: Grips | None = None,
    ) -> None:
        if assist not in ASSIST_MODES:
            raise ValueError(f"assist={assist!r}: expected one of {ASSIST_MODES}")
        self.hinge_range = np.asarray(hinge_range, dtype=np.float64)
        if self.hinge_range.shape != (NUM_HINGES, 2):
            raise ValueError(
                f"hinge_range: expected ({NUM_HINGES}, 2), got {self.hinge_range.shape}"
            )
        self.kv_over_kp = np.asarray(kv_over_kp, dtype=np.float64)
        if not (dt > 0 and body_weight > 0 and max_assist_force > 0 and max_assist_torque > 0):
            raise ValueError("Tracker: dt, body_weight and the assist limits must be positive")
        self.dt, self.assist = float(dt), assist
        self.action_layout = action_layout("physics", assist)
        self.obs_layout = state_layout(lookahead)
        self.force_scale = max_assist_force * body_weight  # N per unit action
        self.torque_scale = float(max_assist_torque)  # N m per unit action
        self.config = config or TrackerConfig()
        self.ref: Reference | None = None
        self.time = 0.0  # s along the reference
        self.integral = np.zeros(NUM_HINGES)  # rad, hinge target correction
        self.feedforward = np.zeros(NUM_HINGES)  # rad, static support torque / kp
        self.gate = GripGate(self.config, self.dt)
        self._next_hold: np.ndarray | None = None  # (T, 4) next hold of each limb per frame
        self._estimated = False  # self.limbs.data holds this step's estimated configuration
        self.model, self.index, self.grips = model, index, grips
        self.limbs: LimbFeedback | None = None
        self.support: GravitySupport | None = None
        if model is not None:
            if index is None:
                raise ValueError("Tracker: pass the model's HumanoidIndex with the model")
            self.limbs = LimbFeedback(model, index, self.hinge_range, self.config, grips)
            self.support = GravitySupport(
                model, index, grips.force_limits if grips is not None else None
            )

    @classmethod
    def from_world(cls, world, env_config, assist: str = "none", config=None) -> Tracker:
        """A tracker for the env built on `world` (navenv CompiledWorld) with `env_config`."""
        m, idx = world.model, world.index
        kp = m.actuator_gainprm[idx.actuators, 0]
        kv = -m.actuator_biasprm[idx.actuators, 2]
        hand, foot = env_config.hand_grip_force_limit, env_config.foot_grip_force_limit
        limits = np.array([hand, hand, foot, foot])  # N, names.LIMBS order
        return cls(
            idx.hinge_range,
            kv / kp,
            dt=env_config.frame_skip * m.opt.timestep,
            assist=assist,
            body_weight=world.body_weight,
            max_assist_force=env_config.max_assist_force,
            max_assist_torque=env_config.max_assist_torque,
            lookahead=env_config.route_lookahead,
            config=config,
            model=m,
            index=idx,
            grips=Grips(m, idx, world.hold_geoms, env_config.capture_radius, limits),
        )

    @property
    def action_dim(self) -> int:
        """Length of the actions this tracker returns."""
        return self.action_layout.size

    @property
    def done(self) -> bool:
        """The reference has been played to its last frame."""
        return self.ref is None or self.time >= self.ref.duration - 1e-9

    @property
    def frame(self) -> int:
        """The reference frame the last action tracked."""
        return self.ref.frame_at(self.time) if self.ref is not None else 0

    @property
    def limb_offset(self) -> np.ndarray:
        """(69,) rad: limb feedback's hinge target corrections (zeros without a model)."""
        return self.limbs.offset if self.limbs is not None else np.zeros(NUM_HINGES)

    @property
    def site_error(self) -> np.ndarray:
        """(4,) m: grip sites from the reference (zeros without limb feedback)."""
        return self.limbs.site_error if self.limbs is not None else np.zeros(4)

    def set_reference(self, reference: Reference, start_time: float = 0.0) -> None:
        """Follow `reference` from `start_time` (s)."""
        self.ref = reference
        self.time = float(start_time)
        self.gate.reset()
        self.integral[:] = 0.0
        self.feedforward[:] = 0.0
        if self.limbs is not None:
            self.limbs.reset()
        self._next_hold = (
            next_contacts(reference.contacts) if reference.contacts is not None else None
        )

    def act(self, obs, state: RootState | None = None) -> np.ndarray:
        """The action for this step (float32, in [-1, 1]); advances along the reference.

        `state` (the root's world pose and velocity) is needed with assist="residual".
        """
        if self.ref is None:
            raise RuntimeError("Tracker.act: call set_reference first")
        ref, cfg = self.ref, self.config
        held = self.obs_layout.get(obs, "grips") > 0.5
        angles = self.obs_layout.get(obs, "joint_angles").astype(np.float64)
        if cfg.joint_integral > 0:  # integral of the error the last target left
            error = ref.sample(self.time)[0] + self.limb_offset - angles
            self.integral = np.clip(
                self.integral + cfg.joint_integral * self.dt * error,
                -cfg.integral_limit,
                cfg.integral_limit,
            )
        self._estimated = self.model is not None and state is not None
        if self._estimated:  # compare with where the last action sent the body, not the next
            limbs = self.limbs
            limbs.update(ref, self.time, state, angles, held, self._next_hold)
            if cfg.gravity_feedforward:
                hinges = limbs.ref_hinges + limbs.offset
                self.feedforward[:] = self.support.offsets(limbs.ref_data, hinges, held)
        # wait at a grip frame until the grip has closed (closed loop on the observation)
        if self.gate.hold(ref, self.time, held):
            return self._action(self.time, state, self._channels(held))
        self.time = min(self.time + self.dt, ref.duration)
        channels = self.gate.rearm(self._channels(held), held)
        return self._action(self.time, state, channels)

    def _channels(self, held: np.ndarray) -> np.ndarray:
        """Grip channels of the current frame, gated on the observation (GripGate.channels)."""
        ref, frame = self.ref, self.ref.frame_at(self.time)
        meant = nearest = None
        if ref.contacts is not None and self.grips is not None and self._estimated:
            meant = ref.contacts[frame]

            def nearest(limb: int) -> int:
                return self.grips.nearest_hold(self.limbs.data, limb)

        return self.gate.channels(ref.grips[frame], held, self.site_error, meant, nearest)

    def _action(self, time: float, state: RootState | None, channels: np.ndarray) -> np.ndarray:
        hinges, qd, pos, vel = self.ref.sample(time)
        ctrl = hinges + (self.kv_over_kp * qd if self.config.velocity_feedforward else 0.0)
        ctrl = ctrl + self.integral + self.limb_offset + self.feedforward
        wrench = None
        if self.assist == "residual":
            if state is None:
                raise ValueError("Tracker.act: assist='residual' needs the root state")
            wrench = self._wrench(time, state, pos, vel)
        return physics_action(self.action_layout, ctrl, self.hinge_range, channels, wrench)

    def _wrench(
        self, time: float, state: RootState, pos: np.ndarray, vel: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Normalised residual force and torque (3,) each: PD toward the reference root pose."""
        ref = self.ref
        frame = ref.frame_at(time)
        nxt = min(frame + 1, len(ref) - 1)
        rot_ref = ref.root_rot[frame]
        w_ref = matrix_to_axis_angle(ref.root_rot[nxt] @ rot_ref.T) * ref.fps
        force, torque = self.config.root_gains.wrench(
            pos=state.pos,
            vel=state.linvel,
            rot=state.rot,
            angvel=state.angvel,
            pos_ref=pos,
            vel_ref=vel,
            rot_ref=rot_ref,
            angvel_ref=w_ref,
        )
        return force / self.force_scale, torque / self.torque_scale


__all__ = ["Tracker"]
