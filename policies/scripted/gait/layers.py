"""Laid-down bodies before the feet are planted: idle, turn-on-the-spot and walk layers.

A `Layer` is a kinematic body (root, 24 rotations), the foot contacts it should have and how
much extra swing lift its steps need. Layers are built on a `Body` (the target skeleton and the
scale of the library's performers to it: lengths scale with leg length), concatenated, and then
planted (`planting.plant_feet`).

Walk layer (see `walk_layer`): the cycle phase advances by distance, one stride per cycle,
``stride(v) = kappa * L * clip(sqrt(v / v_n), STRIDE_RATIO)`` where L and v_n are the cycle's
stride and speed scaled to the body: stride grows with the square root of speed, so cadence
does too (Grieve 1968; Winter 2009): at kappa 1 cadence is 0.7-1.12 of the recording's for
0.6-1.5 m/s, which is about what people do (Winter 2009: 80-125 steps/min). kappa (within `KAPPA`) makes a whole number of steps fit between the ramps, so the
walk starts and ends on a heel strike. Before the start ramp ends and after the end ramp
begins the phase runs by time at the ramp's cadence instead: the first step (right foot) lands
as the body reaches speed, the last step brings the trailing foot alongside as it stops, and
the pose crossfades from and to the idle pose over those steps. The CMU walkers step narrowly
(2-4 cm between planted ankles), so planting widens steps to `STEP_WIDTH_M` (Winter 2009 and
gait-lab norms: 5-13 cm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from navenv.body.kinematics import forward_kinematics
from navenv.body.motion import Motion
from navenv.body.skeleton import Skeleton
from policies.scripted.gait.contacts import ANKLES
from policies.scripted.gait.cycle import GaitCycle, in_stance
from policies.scripted.gait.library import MotionLibrary
from policies.scripted.gait.poses import slerp_matrices, smoothstep, wrap_angle, yaw_matrix
from policies.scripted.gait.timing import PathTiming

STRIDE_RATIO = (0.5, 1.3)  # stride relative to the recording's; cadence does the rest at low speed
KAPPA = (0.85, 1.2)  # stride stretch allowed to fit whole steps between the ramps
HOLD_S = 0.15  # standing still before the first lift-off and after the last touch-down
TURN_STEP_RAD = math.radians(50.0)  # heading a pair of turn steps may cover
MIN_TURN_RAD = math.radians(5.0)  # smaller heading changes need no steps
TURN_SWING_S = 0.35
TURN_DOUBLE_SUPPORT_S = 0.1
MIN_ALIGN_CYCLES = 0.15  # shorter cruises are not stretched to fit: the end rule copes
STEP_WIDTH_M = 0.08  # between planted ankles, for a NOMINAL_LEG_M leg (adults: 0.05-0.13 m)
NOMINAL_LEG_M = 0.9


@dataclass(frozen=True)
class Body:
    """The body being animated and the library it is animated from."""

    skeleton: Skeleton
    library: MotionLibrary

    @property
    def leg_length_m(self) -> float:
        """Hip-to-sole length (m) of the target body."""
        return self.skeleton.leg_length()

    def scale(self, performer_leg_m: float) -> float:
        """Length scale from a performer's body to this one."""
        return self.leg_length_m / performer_leg_m


@dataclass(frozen=True)
class Layer:
    """transl (T, 3), rots (T, 24, 3, 3), contacts (T, 2) bool, lift (T,) extra-lift weight,
    widen (T,) metres added to the step width (see `planting.foot_targets`)."""

    transl: np.ndarray
    rots: np.ndarray
    contacts: np.ndarray
    lift: np.ndarray
    widen: np.ndarray

    @staticmethod
    def concatenate(layers: list[Layer]) -> Layer:
        """The layers one after the other."""
        return Layer(
            *(np.concatenate([getattr(x, k) for x in layers]) for k in Layer.__dataclass_fields__)
        )


def idle_frames(body: Body, xy: np.ndarray, yaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root (T, 3) and rotations (T, 24, 3, 3) of the idle pose at floor points (T, 2), yaws (T,)."""
    idle = body.library.idle
    n = len(yaw)
    transl = np.c_[xy, np.full(n, idle.height_m * body.scale(idle.leg_length_m))]
    rots = np.repeat(idle.rotations[None], n, axis=0)
    rots[:, 0] = yaw_matrix(yaw) @ idle.global_orient
    return transl, rots


def idle_layer(body: Body, xy, yaw: float, n_frames: int) -> Layer:
    """Standing still for n_frames."""
    transl, rots = idle_frames(
        body, np.tile(np.asarray(xy, float), (n_frames, 1)), np.full(n_frames, yaw)
    )
    return Layer(transl, rots, np.ones((n_frames, 2), bool), np.zeros(n_frames), np.zeros(n_frames))


def turn_layer(body: Body, xy, yaw0: float, yaw1: float, fps: float) -> Layer:
    """Turning on the spot from yaw0 by the shortest way to yaw1, stepping foot by foot.

    The foot on the turning side leads; each pair of steps turns at most `TURN_STEP_RAD`.
    """
    delta = float(wrap_angle(yaw1 - yaw0))
    pairs = math.ceil(abs(delta) / TURN_STEP_RAD) if abs(delta) >= MIN_TURN_RAD else 0
    step = TURN_SWING_S + TURN_DOUBLE_SUPPORT_S
    total = TURN_DOUBLE_SUPPORT_S + 2 * pairs * step
    n = round(total * fps) + 1
    t = np.arange(n) / fps
    span = max(total - 2 * TURN_DOUBLE_SUPPORT_S, 1e-9)
    yaw = yaw0 + delta * smoothstep((t - TURN_DOUBLE_SUPPORT_S) / span)
    transl, rots = idle_frames(body, np.tile(np.asarray(xy, float), (n, 1)), yaw)
    contacts = np.ones((n, 2), bool)
    lead = 0 if delta > 0 else 1  # a left turn (yaw increasing) opens with the left foot
    for k in range(2 * pairs):
        t0 = TURN_DOUBLE_SUPPORT_S + k * step
        contacts[(t >= t0) & (t < t0 + TURN_SWING_S), lead if k % 2 == 0 else 1 - lead] = False
    return Layer(transl, rots, contacts, np.ones(n), np.zeros(n))


def _extra_width(body: Body, cycle: GaitCycle) -> float:
    """Metres to add to the cycle's step width on this body to reach `STEP_WIDTH_M`."""
    m = Motion(1.0, cycle.transl, cycle.global_orient, cycle.body_pose, body.skeleton.betas)
    joints = forward_kinematics(body.skeleton, m)
    c = cycle.contacts
    width = joints[c[:, 0], ANKLES[0], 0].mean() - joints[c[:, 1], ANKLES[1], 0].mean()
    return max(0.0, STEP_WIDTH_M * body.scale(NOMINAL_LEG_M) - float(width))


def _stride(cycle: GaitCycle, scale: float, v: np.ndarray, kappa: float) -> np.ndarray:
    """Stride length (m) at speeds v (module docstring)."""
    length = cycle.stride_m * scale
    v_n = length / cycle.duration_s
    return kappa * length * np.clip(np.sqrt(np.maximum(v, 0.0) / v_n), *STRIDE_RATIO)


def _fit_kappa(cycles: float, right_strike: float) -> float:
    """Stride stretch so a heel strike ends a cruise that starts on the right strike.

    cycles: the cruise's length in cycles at kappa 1; strikes are at phases 0 (left) and
    right_strike, so the cruise must span k - right_strike or k cycles (k integer).
    """
    if cycles < MIN_ALIGN_CYCLES:
        return 1.0
    wanted = [k + s for k in range(math.ceil(cycles) + 3) for s in (-right_strike, 0.0)]
    wanted = [w for w in wanted if w > 0]
    kappas = np.clip([cycles / w for w in wanted], *KAPPA)
    errors = [abs(cycles / kp - w) for kp, w in zip(kappas, wanted)]
    best = min(range(len(wanted)), key=lambda i: (round(errors[i], 6), abs(math.log(kappas[i]))))
    return float(kappas[best])


def _next_strike(phase0: float, strike: float) -> float:
    """Phase increment from phase0 to the next strike phase (mod 1), in [0, 1)."""
    return (strike - phase0) % 1.0


@dataclass(frozen=True)
class _Schedule:
    """When a walk's steps happen; times are walk time (0 when the root sets off), seconds.

    cruise: (T,) cycle phase gained by distance at each path frame (kappa applied). The first
    step (right) lifts off at t_lift and lands at t_accel; at the end foot `first` lands at t1
    and the other one beside it at t2. f_accel / f_decel: cadence (cycles/s) of the ramps.
    """

    kappa: float
    cruise: np.ndarray
    t_accel: float
    t_decel: float
    f_accel: float
    f_decel: float
    t_lift: float
    t1: float
    t2: float
    first: int
    phase_decel: float


def _schedule(timing: PathTiming, cycle: GaitCycle, scale: float) -> _Schedule:
    """The step timing of a walk along a timed path (module docstring)."""
    fps = timing.fps
    strike_r, lift_r = cycle.events[1]
    i_acc, i_dec = round(timing.t_accel * fps), round(timing.t_decel * fps)
    v_mid = 0.5 * (timing.v[1:] + timing.v[:-1])
    per_m = np.r_[0.0, np.cumsum(np.diff(timing.s) / _stride(cycle, scale, v_mid, 1.0))]
    kappa = _fit_kappa(float(per_m[i_dec] - per_m[i_acc]), strike_r)
    cruise = per_m / kappa

    def cadence(i: int) -> float:
        return float(timing.v[i] / _stride(cycle, scale, timing.v[i : i + 1], kappa)[0])

    f_acc, f_dec = cadence(i_acc), cadence(i_dec)
    t_acc, t_dec = i_acc / fps, i_dec / fps
    phase_dec = strike_r + cruise[i_dec] - cruise[i_acc]
    # a strike that has just passed counts as landing now (that foot is already down)
    to_strike = [_next_strike(phase_dec, s) for s in (0.0, strike_r)]
    to_strike = [d - 1.0 if d > 1.0 - MIN_ALIGN_CYCLES else d for d in to_strike]
    first = int(np.argmin(to_strike))
    d2 = to_strike[first] + (strike_r if first == 0 else 1.0 - strike_r)
    return _Schedule(
        kappa=kappa,
        cruise=cruise - cruise[i_acc],
        t_accel=t_acc,
        t_decel=t_dec,
        f_accel=f_acc,
        f_decel=f_dec,
        t_lift=t_acc - _next_strike(lift_r, strike_r) / f_acc,
        t1=t_dec + to_strike[first] / f_dec,
        t2=t_dec + d2 / f_dec,
        first=first,
        phase_decel=float(phase_dec),
    )


def walk_layer(body: Body, timing: PathTiming, cycle: GaitCycle) -> Layer:
    """The walk along a timed path, from standing to standing (module docstring)."""
    fps = timing.fps
    scale = body.scale(cycle.leg_length_m)
    strike_r = cycle.events[1, 0]
    sc = _schedule(timing, cycle, scale)
    # stand still HOLD_S before the first lift-off and after the last touch-down
    pre = max(0, math.ceil((HOLD_S - sc.t_lift) * fps))
    post = max(0, math.ceil((sc.t2 + HOLD_S - timing.t[-1]) * fps))
    n = pre + len(timing.t) + post
    t = (np.arange(n) - pre) / fps  # walk time
    idx = np.clip(np.arange(n) - pre, 0, len(timing.t) - 1)  # path frame
    phase = np.where(
        t < sc.t_accel,
        strike_r - sc.f_accel * (sc.t_accel - t),
        np.where(
            t <= sc.t_decel,
            strike_r + sc.cruise[idx],
            sc.phase_decel + sc.f_decel * (np.minimum(t, sc.t2) - sc.t_decel),
        ),
    )
    w = np.where(  # weight of the walk cycle against the idle pose
        t < sc.t_accel,
        smoothstep((t - sc.t_lift) / max(sc.t_accel - sc.t_lift, 1e-9)),
        1.0 - smoothstep((t - sc.t1) / max(sc.t2 - sc.t1, 1e-9)),
    )
    contacts = in_stance(cycle.events, phase)
    contacts[t < sc.t_accel, 0] = True
    contacts[t < sc.t_lift, 1] = True
    contacts[t >= sc.t1, sc.first] = True
    contacts[t >= sc.t2, 1 - sc.first] = True
    res, cycle_rots = cycle.sample(phase)  # (T, 3), (T, 24, 3, 3)
    xy, turn = timing.xy[idx], yaw_matrix(timing.yaw[idx])
    idle_transl, idle_rots = idle_frames(body, xy, np.zeros(n))
    transl = np.empty((n, 3))
    sway = scale * w[:, None] * res[:, :2]  # the cycle's root sway and surge, in the body frame
    transl[:, :2] = xy + (turn[:, :2, :2] @ sway[..., None])[..., 0]
    transl[:, 2] = idle_transl[:, 2] * (1.0 - w) + scale * res[:, 2] * w
    rots = slerp_matrices(idle_rots, cycle_rots, w[:, None])
    rots[:, 0] = turn @ rots[:, 0]
    return Layer(transl, rots, contacts, 1.0 - w, w * _extra_width(body, cycle))
