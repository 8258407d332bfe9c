"""Tracker: reference frames (a Motion or humanoid qpos, plus grip channels) -> ClimbRoute actions.

Generic: it knows the env's action layout and the humanoid, nothing about where the reference came
from (the scripted planner now, a diffusion policy's Motion chunks later).

Physics actions (see navenv.envs.climb.env): the hinges get PD targets with velocity feed-forward.
MuJoCo's position actuator applies ``kp (ctrl - q) - kv qdot``; ``ctrl = q_ref + (kv / kp)
qdot_ref`` makes that ``kp (q_ref - q) + kv (qdot_ref - qdot)`` (see navenv.humanoid.replay),
normalised to [-1, 1] over each hinge's range. The grip channels come from the reference (the env
closes a grip only when the limb is within its capture radius). With assist="residual", a PD
wrench on the pelvis toward the reference root pose (like navenv.humanoid.replay.RootAssist),
normalised by the env's limits (max_assist_force body weights, max_assist_torque N m) and clipped.

Closed loop, on what the observation shows (each part can be switched off in TrackerConfig):
- joint integral: the PD joints sag under the body's weight; an integral of the hinge errors
  (clipped) is added to the targets;
- limb feedback (needs the tracker's model, see `Tracker.from_world`, and the root state): a limb
  the reference wants on a hold but that has not gripped yet is steered, through its shoulder/
  elbow/wrist or hip/knee/ankle hinges, to where the reference puts it in the world, so it still
  arrives when the body hangs a few cm off the reference;
- grips: at a frame where the reference closes a grip the tracker waits (holds the reference
  there) until the observation shows it closed, up to `max_wait_s`; while the reference names the
  hold (`Reference.contacts`) the channel opens only when the env would close the grip on that
  hold (the env takes the nearest hold in its capture radius); a grip the reference holds but the
  body lost is re-armed by opening its channel for one step.

The root pose the assist and the limb feedback need comes from the observation alone
(`RootEstimator`): the pelvis orientation from gravity and the route holds' normals seen in the
pelvis frame, its position from the holds' positions seen in the pelvis frame, both matched
against the route's known holds (exact up to float32 rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from navenv.body.motion import Motion
from navenv.body.rotations import matrix_to_axis_angle, matrix_to_quat, quat_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.envs.climb.observations import (
    HOLD_FEATURES,
    LIMB_FEATURES,
    PROPRIO_DIM,
    PROPRIO_LAYOUT,
    RouteView,
)
from navenv.envs.grips import Grips
from navenv.humanoid import names
from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.names import NUM_HINGES
from navenv.humanoid.pose import joint_angles, root_qpos

ASSIST_MODES = ("none", "residual")
# the hinges limb feedback moves, per limb (names.LIMBS order)
LIMB_CHAINS: dict[str, tuple[str, ...]] = {
    "left_hand": ("left_shoulder", "left_elbow", "left_wrist"),
    "right_hand": ("right_shoulder", "right_elbow", "right_wrist"),
    "left_foot": ("left_hip", "left_knee", "left_ankle"),
    "right_foot": ("right_hip", "right_knee", "right_ankle"),
}
LIMB_DAMPING = 1e-2  # m^2, damped least squares of limb feedback
LIMB_FADE = 0.9  # per step: how a free limb's old correction fades while it travels
SUPPORT_DAMPING = 1e-4  # damping of the support force distribution (m^2 per unit share)


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


@dataclass
class Reference:
    """Reference frames at `fps`: pelvis position (T, 3) m and rotation (T, 3, 3), hinge angles
    (T, 69) rad, grip channels (T, 4) bool (names.LIMBS order) and optionally the scene hold
    index each limb should be on (T, 4), -1 for none: then a grip closes only on that hold."""

    root_pos: np.ndarray
    root_rot: np.ndarray
    hinges: np.ndarray
    grips: np.ndarray
    fps: float
    contacts: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = len(self.root_pos)
        shapes = {
            "root_pos": (t, 3),
            "root_rot": (t, 3, 3),
            "hinges": (t, NUM_HINGES),
            "grips": (t, 4),
        }
        for name, shape in shapes.items():
            value = np.asarray(getattr(self, name))
            if value.shape != shape:
                raise ValueError(f"Reference.{name}: expected shape {shape}, got {value.shape}")
        if self.contacts is not None:
            self.contacts = np.asarray(self.contacts, dtype=int)
            if self.contacts.shape != (t, 4):
                raise ValueError(
                    f"Reference.contacts: expected shape {(t, 4)}, got {self.contacts.shape}"
                )
        if t < 1 or not (self.fps > 0):
            raise ValueError(f"Reference: needs >= 1 frame and fps > 0, got {t} frames, {self.fps}")
        self.grips = np.asarray(self.grips, dtype=bool)

    def __len__(self) -> int:
        return len(self.root_pos)

    @classmethod
    def from_qpos(
        cls,
        qpos: np.ndarray,
        index: HumanoidIndex,
        grips: np.ndarray,
        fps: float,
        contacts: np.ndarray | None = None,
    ) -> Reference:
        """From (T, nq) humanoid configurations (e.g. a ClimbPlan's qpos and contacts)."""
        q = np.atleast_2d(qpos)
        root = q[:, index.root_qpos]
        rot = quat_to_matrix(root[:, 3:])
        return cls(root[:, :3], rot, q[:, index.hinge_qpos], grips, fps, contacts)

    @classmethod
    def from_motion(
        cls, motion: Motion, skeleton: Skeleton, hinge_range: np.ndarray, grips: np.ndarray
    ) -> Reference:
        """From a Motion (its fps); hinge angles by `joint_angles` near the hinge ranges."""
        root = root_qpos(skeleton, motion.transl, motion.global_orient)
        hinges = joint_angles(motion, hinge_range)
        return cls(root[:, :3], motion.global_orient, hinges, grips, motion.fps)


@dataclass
class RootState:
    """The pelvis in the world: position (m), rotation (3, 3), linear (m/s) and angular (rad/s)
    velocity, both world frame."""

    pos: np.ndarray
    rot: np.ndarray
    linvel: np.ndarray
    angvel: np.ndarray


class RootEstimator:
    """The pelvis pose and velocity from a ClimbRoute observation ("state" vector or "ego" dict),
    using the route's holds (a RouteView of the env's scene and route)."""

    def __init__(self, view: RouteView) -> None:
        self.view = view
        k, n = view.lookahead, len(view.hand_seq)
        # every window of `k` hand-sequence holds the observation can show (top repeated)
        self.windows = np.array(
            [view.hand_seq[np.minimum(np.arange(r + 1, r + 1 + k), n - 1)] for r in range(-1, n)]
        )

    def estimate(self, obs) -> RootState:
        """Root state from `obs`: orientation by a weighted Kabsch fit of gravity, hold normals
        and hold offsets (seen in the pelvis frame) to their world values over every window of
        route holds the observation may show; position from the holds, velocities rotated out of
        the pelvis frame."""
        proprio, route = split_obs(obs)
        k = self.view.lookahead
        holds = route[: k * HOLD_FEATURES].reshape(k, HOLD_FEATURES).astype(np.float64)
        rel, normals = holds[:, 0:3], holds[:, 3:6]
        gravity = proprio[PROPRIO_LAYOUT["gravity"]].astype(np.float64)
        best = None
        for window in self.windows:
            p_w, n_w = self.view.all_pos[window], self.view.all_normal[window]
            # body-frame vectors b_i = R^T w_i: gravity, normals, offsets between holds
            w = [np.array([0.0, 0.0, -1.0]), *n_w, *(p_w[1:] - p_w[:1])]
            b = [gravity, *normals, *(rel[1:] - rel[:1])]
            weights = [4.0] + [1.0] * k + [2.0] * (k - 1)
            rot = _kabsch(np.array(b), np.array(w), np.array(weights))
            pos = (p_w - rel @ rot.T).mean(axis=0)
            resid = float(np.abs(p_w - (pos + rel @ rot.T)).sum())
            resid += float(np.abs(n_w - normals @ rot.T).sum())
            if best is None or resid < best[0]:
                best = (resid, rot, pos)
        _, rot, pos = best
        linvel = rot @ proprio[PROPRIO_LAYOUT["root_linvel"]].astype(np.float64)
        angvel = rot @ proprio[PROPRIO_LAYOUT["root_angvel"]].astype(np.float64)
        return RootState(pos, rot, linvel, angvel)


def split_obs(obs) -> tuple[np.ndarray, np.ndarray]:
    """(proprio, route) vectors of a ClimbRoute observation (dict with "proprio" and "route", or
    the flat "state" vector)."""
    if isinstance(obs, dict):
        return np.asarray(obs["proprio"]), np.asarray(obs["route"])
    flat = np.asarray(obs).reshape(-1)
    if flat.shape[0] <= PROPRIO_DIM + 4 * LIMB_FEATURES:
        raise ValueError(
            f"obs: a state vector needs more than {PROPRIO_DIM + 4 * LIMB_FEATURES} values, "
            f"got {flat.shape[0]}"
        )
    return flat[:PROPRIO_DIM], flat[PROPRIO_DIM:]


def gripping(obs) -> np.ndarray:
    """(4,) bool: which limbs grip, from the observation's proprioception."""
    proprio, _ = split_obs(obs)
    return proprio[PROPRIO_LAYOUT["grips"]] > 0.5


def _kabsch(body: np.ndarray, world: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rotation R minimising sum w_i |R b_i - w_i|^2 (Wahba's problem by SVD)."""
    h = (weights[:, None] * world).T @ body
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    return u @ np.diag([1.0, 1.0, d]) @ vt


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
        self.force_scale = max_assist_force * body_weight  # N per unit action
        self.torque_scale = float(max_assist_torque)  # N m per unit action
        self.config = config or TrackerConfig()
        self.ref: Reference | None = None
        self.time = 0.0  # s along the reference
        self.waited = 0.0
        self.lost = np.zeros(4)  # s each planned grip has been missing
        self.integral = np.zeros(NUM_HINGES)  # rad, hinge target correction
        self.limb_offset = np.zeros(NUM_HINGES)  # rad, limb feedback correction
        self.feedforward = np.zeros(NUM_HINGES)  # rad, static support torque / kp
        self._ref_hinges = np.zeros(NUM_HINGES)  # rad, this step's reference (limb feedback)
        self.site_error = np.zeros(4)  # m, grip sites from the reference (0 without feedback)
        self.anchors = np.full((4, 3), np.nan)  # world point where each held grip closed
        self._next_hold: np.ndarray | None = None  # (T, 4) next hold of each limb per frame
        self.pending = np.zeros(4)  # s each wanted grip has been open
        self._estimated = False  # self._data holds this step's estimated configuration
        self.model, self.index, self.grips = model, index, grips
        if model is not None:
            if index is None:
                raise ValueError("Tracker: pass the model's HumanoidIndex with the model")
            self._data = mujoco.MjData(model)
            self._jacp = np.zeros((3, model.nv))
            self._jacr = np.zeros((3, model.nv))
            self._bias = np.zeros(model.nv)
            self._kp = model.actuator_gainprm[index.actuators, 0].copy()
            self._peak = model.actuator_forcerange[index.actuators, 1].copy()
            # each limb's share of the body's support, by its grip's force limit
            limits = grips.force_limits if grips is not None else np.ones(4)
            self._grip_share = np.where(np.isfinite(limits), limits, 1.0) / 1000.0
            self._ref_data = mujoco.MjData(model)
            self._chains = [
                np.array([names.HINGE_NAMES.index(f"{b}_{a}") for b in bodies for a in "xyz"])
                for bodies in LIMB_CHAINS.values()
            ]

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
            config=config,
            model=m,
            index=idx,
            grips=Grips(m, idx, world.hold_geoms, env_config.capture_radius, limits),
        )

    @property
    def action_dim(self) -> int:
        """Length of the actions this tracker returns."""
        return NUM_HINGES + 4 + (6 if self.assist == "residual" else 0)

    @property
    def done(self) -> bool:
        """The reference has been played to its last frame."""
        return self.ref is None or self.time >= (len(self.ref) - 1) / self.ref.fps - 1e-9

    def set_reference(self, reference: Reference, start_time: float = 0.0) -> None:
        """Follow `reference` from `start_time` (s)."""
        self.ref = reference
        self.time = float(start_time)
        self.waited = 0.0
        self.lost[:] = 0.0
        self.integral[:] = 0.0
        self.limb_offset[:] = 0.0
        self.feedforward[:] = 0.0
        self.site_error[:] = 0.0
        self.anchors[:] = np.nan
        self.pending[:] = 0.0
        self._next_hold = (
            _next_contacts(reference.contacts) if reference.contacts is not None else None
        )

    def act(self, obs, state: RootState | None = None) -> np.ndarray:
        """The action for this step (float32, in [-1, 1]); advances along the reference.

        `state` (the root's world pose and velocity) is needed with assist="residual".
        """
        if self.ref is None:
            raise RuntimeError("Tracker.act: call set_reference first")
        ref, cfg = self.ref, self.config
        held = gripping(obs)
        proprio, _ = split_obs(obs)
        angles = proprio[PROPRIO_LAYOUT["joint_angles"]].astype(np.float64)
        if cfg.joint_integral > 0:  # integral of the error the last target left
            error = self._sample(self.time)[0] + self.limb_offset - angles
            self.integral = np.clip(
                self.integral + cfg.joint_integral * self.dt * error,
                -cfg.integral_limit,
                cfg.integral_limit,
            )
        self._estimated = self.model is not None and state is not None
        if self._estimated:  # compare with where the last action sent the body, not the next
            self._limb_feedback(self.time, state, angles, held)
            if cfg.gravity_feedforward:
                self._support_torques(held)
        # wait at a grip frame until the grip has closed (closed loop on the observation)
        frame = self._frame(self.time)
        want = ref.grips[frame]
        new = want & ~held & (~ref.grips[frame - 1] if frame > 0 else True)
        if cfg.wait_for_grip and new.any() and self.waited < cfg.max_wait_s - 1e-9:
            self.waited += self.dt
            return self._action(self.time, state, self._gate(want, held))
        # let no limb go while another the reference holds is still off its hold: three
        # points of contact (up to release_wait_s, then the plan goes on)
        nxt = self._frame(self.time + self.dt)
        lets_go = want & ~ref.grips[nxt] & held
        if (
            cfg.wait_for_grip
            and lets_go.any()
            and (want & ~held).any()
            and self.waited < cfg.release_wait_s - 1e-9
        ):
            self.waited += self.dt
            return self._action(self.time, state, self._gate(want, held))
        self.waited = 0.0
        self.time = min(self.time + self.dt, (len(ref) - 1) / ref.fps)
        channels = self._gate(ref.grips[self._frame(self.time)], held)
        # re-arm a grip the reference holds but the body lost (broken or never closed)
        self.lost = np.where(channels & ~held, self.lost + self.dt, 0.0)
        rearm = self.lost > cfg.rearm_after_s
        channels[rearm] = False
        self.lost[rearm] = 0.0
        return self._action(self.time, state, channels)

    def _gate(self, want: np.ndarray, held: np.ndarray) -> np.ndarray:
        """Grip channels: a wanted grip that is not closed yet opens only once the limb is within
        `grip_tolerance` of where the reference puts it (or after `max_wait_s`): the env closes a
        grip anywhere within its capture radius, and a grip closed off the reference drags the
        rest of the climb off it."""
        self.pending = np.where(want & ~held, self.pending + self.dt, 0.0)
        late = self.pending >= self.config.max_wait_s - 1e-9
        ready = (self.site_error < self.config.grip_tolerance) | late
        if self.ref.contacts is not None and self.grips is not None and self._estimated:
            # the env closes on the nearest hold in reach: only let it when that is the one
            # meant, even after the wait (a grip on another hold drags the rest off the plan)
            meant = self.ref.contacts[self._frame(self.time)]
            for limb in np.flatnonzero(want & ~held & ready & (meant >= 0)):
                ready[limb] = self.grips.nearest_hold(self._data, int(limb)) == meant[limb]
        return want & (held | ready)

    @property
    def frame(self) -> int:
        """The reference frame the last action tracked."""
        return self._frame(self.time) if self.ref is not None else 0

    def _limb_feedback(
        self, time: float, state: RootState, angles: np.ndarray, held: np.ndarray
    ) -> None:
        """Move each free limb's hinge corrections so its grip site heads for where the
        reference puts it in the world (one damped least-squares step on the site Jacobian)."""
        m, idx, d, rd = self.model, self.index, self._data, self._ref_data
        start = idx.root_qpos.start
        d.qpos[start : start + 3] = state.pos
        d.qpos[start + 3 : start + 7] = matrix_to_quat(state.rot)
        d.qpos[idx.hinge_qpos] = angles
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        hinges, _, pos, _ = self._sample(time)
        self._ref_hinges = hinges
        rd.qpos[start : start + 3] = pos
        rd.qpos[start + 3 : start + 7] = matrix_to_quat(self.ref.root_rot[self._frame(time)])
        rd.qpos[idx.hinge_qpos] = hinges
        mujoco.mj_kinematics(m, rd)
        site_rot = rd.site_xmat[idx.grip_sites].reshape(4, 3, 3).copy()
        goals = rd.site_xpos[idx.grip_sites] + self._match_shift(time, held)
        errors = goals - d.site_xpos[idx.grip_sites]
        self.site_error = np.linalg.norm(errors, axis=1)
        pending = self.ref.grips[self._frame(time)] & ~held
        self.anchors[~held] = np.nan
        new = held & np.isnan(self.anchors[:, 0])
        self.anchors[new] = d.site_xpos[idx.grip_sites[new]]
        if self.config.hold_retarget > 0 and held.any():
            self._retarget_held(held, site_rot)
        if self.config.limb_feedback <= 0:
            return
        for limb in np.flatnonzero(~held):
            if not pending[limb] and self.config.travel_feedback <= 0:
                self.limb_offset[self._chains[limb]] *= LIMB_FADE
                continue
            # reaching for a grip the reference already holds: close the remaining gap; a
            # travelling limb follows its path in the world, which the plan kept off the wall
            gain = self.config.limb_feedback if pending[limb] else self.config.travel_feedback
            self._chain_step(d, limb, errors[limb], site_rot[limb], gain)

    def _match_shift(self, time: float, held: np.ndarray) -> np.ndarray:
        """(4, 3) world shift of each limb's reference site: a hand heading for the hold its
        partner hand already holds goes at least `match_gap_m` beside the partner's actual
        anchor (along the hold's horizontal axis, on its own side), not where the plan put the
        partner."""
        shift = np.zeros((4, 3))
        if self._next_hold is None or self.grips is None or self.config.match_gap_m <= 0:
            return shift
        frame = self._frame(time)
        rd = self._ref_data
        for limb, partner, sign in ((0, 1, -1.0), (1, 0, 1.0)):
            hold = self._next_hold[frame, limb]
            if hold < 0 or held[limb] or not held[partner]:
                continue
            if self.ref.contacts[frame, partner] != hold or np.isnan(self.anchors[partner, 0]):
                continue
            geom = self.grips.hold_geoms[hold]
            right = rd.geom_xmat[geom].reshape(3, 3)[:, 0]  # hold frame x: the climber's right
            centre = rd.geom_xpos[geom]
            planned = float(np.dot(rd.site_xpos[self.index.grip_sites[limb]] - centre, right))
            other = float(np.dot(self.anchors[partner] - centre, right))
            gap = self.config.match_gap_m
            if abs(planned - other) >= gap:
                continue
            # beside the partner on the hand's own side (the partner's arm blocks the other)
            shift[limb] = right * (other + sign * gap - planned)
        return shift

    def _retarget_held(self, held: np.ndarray, site_rot: np.ndarray) -> None:
        """Bend each holding limb's chain so that, from the reference root, its grip site lies
        where the grip actually closed (its anchor), turned as the reference turns it
        (`site_rot`, (4, 3, 3)): the hinge targets then agree with the closed chain the grips
        make, instead of pulling the body against its own holds."""
        m, idx, rd = self.model, self.index, self._ref_data
        rd.qpos[idx.hinge_qpos] += self.limb_offset
        mujoco.mj_kinematics(m, rd)
        mujoco.mj_comPos(m, rd)
        for limb in np.flatnonzero(held):
            err = self.anchors[limb] - rd.site_xpos[self.index.grip_sites[limb]]
            self._chain_step(rd, limb, err, site_rot[limb], self.config.hold_retarget)

    def _support_torques(self, held: np.ndarray) -> None:
        """Static feed-forward: the hinge torques that hold the reference configuration (with
        the limb corrections) still under gravity while the holding limbs carry the body,
        written as target offsets tau / kp (so the PD joints do not sag by tau / kp).

        MuJoCo's static balance is ``qfrc_bias = qfrc_actuator + J^T f``: the grip forces f
        (3 per holding limb, at its grip site) must cancel the root's 6 bias components (the
        root has no actuator); f is the weighted least-norm solution (each limb's share
        proportional to its grip force limit) and the hinges make up the rest."""
        m, idx, rd = self.model, self.index, self._ref_data
        self.feedforward[:] = 0.0
        limbs = np.flatnonzero(held)
        if len(limbs) == 0:
            return
        rd.qpos[idx.hinge_qpos] = self._ref_hinges + self.limb_offset  # as _limb_feedback left it
        rd.qvel[:] = 0.0
        mujoco.mj_kinematics(m, rd)
        mujoco.mj_comPos(m, rd)
        mujoco.mj_comVel(m, rd)
        bias = self._bias
        mujoco.mj_rne(m, rd, 0, bias)
        jac = np.empty((3 * len(limbs), m.nv))
        for k, limb in enumerate(limbs):
            mujoco.mj_jacSite(m, rd, jac[3 * k : 3 * k + 3], None, idx.grip_sites[limb])
        root = slice(idx.root_qvel.start, idx.root_qvel.stop)
        a = jac[:, root].T  # (6, 3k)
        w = np.repeat(self._grip_share[limbs], 3)
        # weighted least norm with a little damping: one or two limbs cannot cancel every
        # root component (the rest is the residual the assist and the dynamics take)
        aw = a * w
        f = w * (a.T @ np.linalg.solve(aw @ a.T + SUPPORT_DAMPING * np.eye(6), bias[root]))
        tau = bias[idx.hinge_qvel] - jac[:, idx.hinge_qvel].T @ f
        self.feedforward[:] = np.clip(tau, -self._peak, self._peak) / self._kp

    def _chain_step(
        self, data: mujoco.MjData, limb: int, err: np.ndarray, rot: np.ndarray | None, gain: float
    ) -> None:
        """One damped least-squares step of `limb`'s chain corrections toward moving its grip
        site by `err` (m) and (if `rot` is given) turning it to the world rotation `rot`."""
        m, idx = self.model, self.index
        chain = self._chains[limb]
        site = idx.grip_sites[limb]
        jacp, jacr = self._jacp, self._jacr
        mujoco.mj_jacSite(m, data, jacp, jacr, site)
        cols = idx.hinge_qvel[chain]
        j, e = jacp[:, cols], err
        w = self.config.limb_turn_weight
        if rot is not None and w > 0:
            turn = matrix_to_axis_angle(rot @ data.site_xmat[site].reshape(3, 3).T)
            j = np.concatenate([j, w * jacr[:, cols]])
            e = np.concatenate([err, w * turn])
        # hinges whose target sits at a range limit and that the step would push further out
        # are left out (once): a correction there only winds up, the joint cannot follow it
        lo, hi = self.hinge_range[chain, 0], self.hinge_range[chain, 1]
        target = self._ref_hinges[chain] + self.limb_offset[chain]
        free = np.ones(len(chain), bool)
        for _ in range(2):
            jf = j[:, free]
            step = np.zeros(len(chain))
            step[free] = jf.T @ np.linalg.solve(jf @ jf.T + LIMB_DAMPING * np.eye(len(e)), e)
            pushing = ((target <= lo + 1e-6) & (step < 0)) | ((target >= hi - 1e-6) & (step > 0))
            if not pushing.any():
                break
            free &= ~pushing
        lim = self.config.limb_correction_limit
        moved = np.clip(target + gain * step, lo, hi) - self._ref_hinges[chain]
        self.limb_offset[chain] = np.clip(moved, -lim, lim)

    def _frame(self, time: float) -> int:
        return int(min(round(time * self.ref.fps), len(self.ref) - 1))

    def _sample(self, time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Reference hinges, hinge velocities, root position and velocity at `time` (linear)."""
        ref = self.ref
        x = min(max(time * ref.fps, 0.0), len(ref) - 1)
        i = min(int(x), len(ref) - 2) if len(ref) > 1 else 0
        a = x - i
        j = min(i + 1, len(ref) - 1)
        hinges = (1 - a) * ref.hinges[i] + a * ref.hinges[j]
        pos = (1 - a) * ref.root_pos[i] + a * ref.root_pos[j]
        qd = (ref.hinges[j] - ref.hinges[i]) * ref.fps
        vel = (ref.root_pos[j] - ref.root_pos[i]) * ref.fps
        return hinges, qd, pos, vel

    def _action(self, time: float, state: RootState | None, channels: np.ndarray) -> np.ndarray:
        hinges, qd, pos, vel = self._sample(time)
        ctrl = hinges + (self.kv_over_kp * qd if self.config.velocity_feedforward else 0.0)
        ctrl = ctrl + self.integral + self.limb_offset + self.feedforward
        lo, hi = self.hinge_range[:, 0], self.hinge_range[:, 1]
        parts = [2.0 * (ctrl - lo) / (hi - lo) - 1.0, np.where(channels, 1.0, -1.0)]
        if self.assist == "residual":
            if state is None:
                raise ValueError("Tracker.act: assist='residual' needs the root state")
            parts.append(self._wrench(time, state, pos, vel))
        return np.clip(np.concatenate(parts), -1.0, 1.0).astype(np.float32)

    def _wrench(self, time: float, state: RootState, pos: np.ndarray, vel: np.ndarray):
        """Normalised residual wrench (6,): PD toward the reference root pose."""
        ref, cfg = self.ref, self.config
        frame = self._frame(time)
        nxt = min(frame + 1, len(ref) - 1)
        rot_ref = ref.root_rot[frame]
        rot_err = matrix_to_axis_angle(rot_ref @ state.rot.T)
        w_ref = matrix_to_axis_angle(ref.root_rot[nxt] @ rot_ref.T) * ref.fps
        force = cfg.kp_force * (pos - state.pos) + cfg.kd_force * (vel - state.linvel)
        torque = cfg.kp_torque * rot_err + cfg.kd_torque * (w_ref - state.angvel)
        return np.concatenate([force / self.force_scale, torque / self.torque_scale])


def _next_contacts(contacts: np.ndarray) -> np.ndarray:
    """(T, 4): for each frame and limb, the next hold (>= that frame) the limb is on, or -1."""
    out = np.full_like(contacts, -1)
    nxt = np.full(contacts.shape[1], -1)
    for t in range(len(contacts) - 1, -1, -1):
        nxt = np.where(contacts[t] >= 0, contacts[t], nxt)
        out[t] = nxt
    return out


def kinematic_action(
    qpos: np.ndarray,
    grips: np.ndarray,
    index: HumanoidIndex,
    climb_box: tuple[np.ndarray, np.ndarray],
    hinge_range: np.ndarray | None = None,
) -> np.ndarray:
    """The control="kinematic" action (82,) that puts the humanoid at `qpos` with grip channels
    `grips` (4,) bool: hinges normalised over `hinge_range` (default the index's), grips, root
    position over the climb box (centre, half extents), root orientation as 6D."""
    rng = index.hinge_range if hinge_range is None else hinge_range
    lo, hi = rng[:, 0], rng[:, 1]
    hinges = 2.0 * (qpos[index.hinge_qpos] - lo) / (hi - lo) - 1.0
    centre, half = climb_box
    root = qpos[index.root_qpos]
    rot = quat_to_matrix(root[3:])
    parts = [
        hinges,
        np.where(grips, 1.0, -1.0),
        (root[:3] - centre) / half,
        np.concatenate([rot[:, 0], rot[:, 1]]),
    ]
    out = np.concatenate(parts)
    if np.abs(out[NUM_HINGES + 4 : NUM_HINGES + 7]).max() > 1.0:
        raise ValueError(
            f"kinematic_action: root position {root[:3]} is outside the climb box "
            f"(centre {centre}, half extents {half})"
        )
    return np.clip(out, -1.0, 1.0).astype(np.float32)


__all__ = [
    "ASSIST_MODES",
    "Reference",
    "RootEstimator",
    "RootState",
    "Tracker",
    "TrackerConfig",
    "gripping",
    "kinematic_action",
    "split_obs",
]
