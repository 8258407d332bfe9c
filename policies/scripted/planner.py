"""Plan a climb: stances, whole-body IK keyframes, then a timed, smooth motion with its contacts.

`plan_climb(scene, route, seed=...)` starts from the env's own start stance (`start_stance` on a
`compile_world` of the same skeleton and ClimbConfig, so the kinematics match the env exactly) and
follows the route's moves (`Route.moves`, see `policies.scripted.sequence`). Every move is a few
IK keyframes (`policies.scripted.keyframes`), each warm-started from the previous one, with the
limbs that stay on their holds pinned where (and as turned as) they gripped:

1. shift: all four limbs on their holds while the pelvis moves part of the way (a seeded
   fraction) from where the current stance hangs it toward where the next stance will, kept
   clear of the wall and volumes behind it, with a seeded hip turn;
2. release, lift the limb off its hold along the hold's normal, carry it (through a via point
   pushed out from the wall on long moves) to a point in front of the new hold;
3. grip: the limb on the new hold's grip point, turned for it (`limb_axes`); hands sharing a
   hold sit side by side.
Only the moving limb is ever off a hold, so three points of contact hold at every frame.

Keyframes are then timed (`policies.scripted.trajectory`: quintic segments within speed and
acceleration bounds, fitted into `max_duration_s`) and the frames checked: where interpolation
between two keyframes sinks more than twice `penetration_tol` into the wall, a hold or the body,
or lets a holding limb drift more than `drift_tolerance_m`, a keyframe is solved at the worst
frame and the plan re-timed (`repair_rounds` rounds; a travelling keyframe that itself sinks is
solved again with its travelling limb let free). Frames still sunk in after that are pushed
clear by a last pass of per-frame contact IK whose corrections are fitted smoothly within the
speed bounds (`policies.scripted.clearance`); keyframes at rest stay as they are. Segments the
pass cannot bend within the bounds are slowed down and cleared again (`retime_rounds`). Depth is
measured everywhere by `navenv.sinking.DepthGauge` with the scene's rays, so a limb right through
a panel (a graze to MuJoCo's contacts) counts.

A plan still deeper than `clean_depth_m` (2 cm) somewhere, or one that misses a grip, is drawn
again, up to `attempts` (3) times in all, each draw taking further values from the seed's
generator, and the best draw is kept (success first, then clean, then the shallowest deepest
frame): where one draw's hip turn or move order crosses the legs or drives a thigh into an arm,
another's often does not. `ClimbPlan.clean` says whether the returned plan keeps within 2 cm.

Seeded variation (`PlannerConfig` ranges): move timing, how far the body shifts, hip turn, arm,
leg and back bend of the posture prior, how far a limb lifts off the wall, and the order of
consecutive independent moves (swapped when the stance in between stays reachable); the same seed
always gives the same arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mujoco
import numpy as np

from navenv.body.motion import Motion
from navenv.body.rotations import quat_to_matrix, rotation_z
from navenv.body.skeleton import Skeleton
from navenv.envs.climb.compiled import CompiledWorld, compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.spawn import (
    PELVIS_OFF_WALL,
    facing_quat,
    grip_point,
    posture_qpos,
    start_stance,
)
from navenv.envs.grips import Grips
from navenv.humanoid import names
from navenv.humanoid.pose import motion_from_qpos
from navenv.world import hold_frame
from policies.scripted.clearance import ClearanceConfig, clear_frames
from policies.scripted.keyframes import (
    IKWeights,
    KeyframeSolver,
    WallClearance,
    frame_quality,
)
from policies.scripted.sequence import climb_sequence
from policies.scripted.trajectory import (
    TimingLimits,
    fit_timing,
    from_coords,
    sample,
    scaled,
    to_coords,
)
from scenes.types import Route, Scene

LIMBS = names.LIMBS
PARTNER = {
    "left_hand": "right_hand",
    "right_hand": "left_hand",
    "left_foot": "right_foot",
    "right_foot": "left_foot",
}
# posture-prior hinges the seeded style perturbs, with the half-range of each (rad)
STYLE_JOINTS: dict[str, float] = {
    "left_elbow_z": 0.3,
    "right_elbow_z": 0.3,
    "left_knee_x": 0.3,
    "right_knee_x": 0.3,
    "left_hip_y": 0.15,
    "right_hip_y": 0.15,
    "spine1_x": 0.1,
    "spine2_x": 0.1,
}
MATCH_OFFSET_M = 0.05  # m each side of a shared hold's centre: two hands fit side by side
REPAIR_GAIN = 0.8  # a repair keyframe must bring its frame's badness below this share of it
LIMB_CLEARANCE_M = 0.06  # m: a travelling grip site keeps this far in front of any surface


@dataclass
class PlannerConfig:
    """How the scripted climber plans; (low, high) pairs are ranges a seed draws from."""

    limits: TimingLimits = field(default_factory=TimingLimits)
    """Speed/acceleration bounds of the output motion and its frame rate."""
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
    ik_iterations: int = 40
    """Iterations of an IK pass (a keyframe takes one to three, see keyframes.py)."""
    hold_weight: float = 5.0
    """IK weight of a limb on a hold (the travelling limb has 1), so posture never drags it off."""
    axis_weight: float = 0.3
    """IK weight (per radian) of a limb's orientation on its hold (palm to the wall, toes in)."""
    contact_weight: float = 10.0
    """IK weight of a contact-avoidance row: contacts win over targets."""
    ik_damping: float = 1e-3
    """Levenberg-Marquardt damping of the IK steps (m^2)."""
    clear_max_step: float = 0.05
    """Largest joint step (rad or m) per iteration while resolving contacts."""
    ik_tolerance_m: float = 0.002
    """An IK pass stops when every target is this close (m)."""
    held_axis_weight: float = 1.0
    """IK weight (per radian) that keeps a holding limb turned as it was when it gripped."""
    root_prior_weight: float = 0.1
    """Pull of the pelvis toward its planned place in the first IK pass (per m and rad)."""
    penetration_tol: float = 0.005
    """Contacts shallower than this (m) are allowed on keyframes holding holds."""
    success_tolerance_m: float = 0.03
    """A plan succeeds when every grip lands within this distance of its target."""
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

    def ik_weights(self) -> IKWeights:
        """The keyframe IK's settings."""
        return IKWeights(
            iterations=self.ik_iterations,
            hold_weight=self.hold_weight,
            held_axis_weight=self.held_axis_weight,
            contact_weight=self.contact_weight,
            damping=self.ik_damping,
            clear_max_step=self.clear_max_step,
            tolerance_m=self.ik_tolerance_m,
            root_prior_weight=self.root_prior_weight,
            penetration_tol=self.penetration_tol,
            good_error_m=self.success_tolerance_m / 3,
        )

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
        if self.attempts < 1:
            raise ValueError(f"PlannerConfig.attempts: expected >= 1, got {self.attempts}")
        if not (0 <= self.swap_probability <= 1):
            raise ValueError(
                f"PlannerConfig.swap_probability: expected 0..1, got {self.swap_probability}"
            )
        if self.ik_iterations < 1:
            raise ValueError(
                f"PlannerConfig.ik_iterations: expected >= 1, got {self.ik_iterations}"
            )
        for name in (
            "hip_turn_rad",
            "style_scale",
            "root_prior_weight",
            "penetration_tol",
            "success_tolerance_m",
            "max_duration_s",
            "clean_depth_m",
        ):
            if not (getattr(self, name) >= 0):
                raise ValueError(f"PlannerConfig.{name}: expected >= 0, got {getattr(self, name)}")


@dataclass
class Keyframe:
    """One IK keyframe of the plan."""

    label: str  # "start", "shift", "lift", "via", "approach" or "grip"
    qpos: np.ndarray  # (nq,)
    rest: bool  # the body is still here (releases and grips happen at rest)
    holds: dict[str, str]  # limb -> hold id of the limbs on holds at this keyframe
    limb: str | None = None  # the limb moving in this move
    error: float = 0.0  # m, worst distance of a limb on a hold from its target
    penetration: float = 0.0  # m, deepest contact left by the IK
    frame: int = -1  # frame index in the timed motion
    grip_ok: bool = True  # a grip keyframe: the env's grip would close on the intended hold
    pins: dict = field(default_factory=dict, repr=False)  # limb -> (site pos, site rot) held


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


def plan_climb(
    scene: Scene,
    route: Route,
    *,
    seed: int | np.random.Generator | None,
    skeleton: Skeleton | None = None,
    config: PlannerConfig | None = None,
    env_config: ClimbConfig | None = None,
    world: CompiledWorld | None = None,
) -> ClimbPlan:
    """Plan `route` on `scene` (a pure function of its inputs; the same seed gives the same arrays).

    `skeleton` and `env_config` must be the env's (defaults: the builtin skeleton, ClimbConfig());
    pass an already compiled `world` of them to skip compiling (its data is not touched).
    """
    if route not in scene.routes:
        raise ValueError(f"route {route.id!r} is not one of scene {scene.name!r}'s routes")
    cfg = config or PlannerConfig()
    skeleton, env_cfg = skeleton or Skeleton.builtin(), env_config or ClimbConfig()
    if world is None:
        world = compile_world(scene, skeleton, env_cfg)
    elif world.scene is not scene and world.scene.name != scene.name:
        raise ValueError(f"world is compiled for scene {world.scene.name!r}, not {scene.name!r}")
    rng = np.random.default_rng(seed)
    clearance = WallClearance(scene)  # the scene's rays, shared by every draw
    best, drawn = None, 0
    while drawn < cfg.attempts:
        drawn += 1
        # each draw takes further values from the same generator: still the seed's own plan
        plan = _Planner(world, scene, route, rng, cfg, skeleton, env_cfg, clearance).run()
        if best is None or _rank(plan, cfg) > _rank(best, cfg):
            best = plan
        if best.success and _clean(best, cfg):
            break
    best.attempts, best.clean = drawn, _clean(best, cfg)
    return best


def _clean(plan: ClimbPlan, cfg: PlannerConfig) -> bool:
    """No frame of `plan` deeper than `cfg.clean_depth_m`."""
    return plan.max_penetration <= cfg.clean_depth_m


def _rank(plan: ClimbPlan, cfg: PlannerConfig) -> tuple[bool, bool, float]:
    """Order of preference among a route's plans: success, then clean, then shallower."""
    return (plan.success, _clean(plan, cfg), -plan.max_penetration)


class _Planner:
    """The state of one planning run: current stance, where each holding limb is pinned, the
    keyframes so far."""

    def __init__(self, world, scene, route, rng, cfg: PlannerConfig, skeleton, env_cfg, clearance):
        self.world, self.scene, self.route, self.rng, self.cfg = world, scene, route, rng, cfg
        self.skeleton = skeleton
        self.capture_radius = env_cfg.capture_radius
        self.m, self.idx = world.model, world.index
        self.holds = {h.id: h for h in scene.holds}
        prior = posture_qpos(self.m, self.idx)
        for hinge, half in STYLE_JOINTS.items():
            i = names.HINGE_NAMES.index(hinge)
            lo, hi = self.idx.hinge_range[i]
            q = prior[self.idx.hinge_qpos[i]] + cfg.style_scale * half * rng.uniform(-1, 1)
            prior[self.idx.hinge_qpos[i]] = np.clip(q, lo, hi)
        self.clearance = clearance
        self.ik = KeyframeSolver(
            self.m, self.idx, self.holds, prior, cfg.ik_weights(), rays=self.clearance
        )
        self.d = self.ik.d
        self.keyframes: list[Keyframe] = []
        self.stance: dict[str, str] = {}
        self.pins: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # limb -> (site pos, rot)
        self.speed_scale = 1.0

    # ------------------------------------------------------------------ top level
    def run(self) -> ClimbPlan:
        result = start_stance(self.m, self.d, self.idx, self.scene, self.route, rays=self.clearance)
        self.stance = dict(self.route.start)
        self.pins = {limb: self.ik.site(limb) for limb in self.stance}
        kinds = {h.id: h.kind for h in self.scene.holds}
        moves = climb_sequence(self.route, kinds, self.holds, self.rng, self.cfg.swap_probability)
        error = float(result.errors.max(initial=0.0))
        self._add("start", self.d.qpos, True, None, error, result.max_penetration)
        min_durations: list[float] = []
        for k, (limb, hold_id) in enumerate(moves):
            min_durations += self._move(limb, hold_id, moves[k + 1 :])
        return self._finish(moves, min_durations)

    # ------------------------------------------------------------------ one move
    def _move(self, limb: str, hold_id: str, later: list) -> list[float]:
        """Keyframes of one move (appended); returns the minimum duration of each new segment."""
        cfg, rng, stance = self.cfg, self.rng, self.stance
        target = self._limb_target(limb, hold_id, later)
        old, new = self.holds[stance[limb]], self.holds[hold_id]
        points = {l: p for l, (p, _) in self.pins.items()}
        p_now, rot_now = self._hang(points, stance)
        p_next, rot_next = self._hang({**points, limb: target}, {**stance, limb: hold_id})
        f = rng.uniform(*cfg.shift_fraction)
        turn = rng.uniform(-cfg.hip_turn_rad, cfg.hip_turn_rad)

        def root_at(frac: float) -> tuple[np.ndarray, np.ndarray]:
            rot = rot_next if frac >= 0.5 else rot_now
            return p_now + frac * (p_next - p_now), rot @ rotation_z(
                turn * math.sin(math.pi * frac)
            )

        support = {l: pin for l, pin in self.pins.items() if l != limb}
        # 1. shift with every limb still on its hold
        self._key("shift", True, limb, self.ik.solve(self.pins, root_at(f)))
        # 2. release, lift off, travel, approach
        off = rng.uniform(*cfg.lift_off_m)
        n_old, n_new = np.asarray(old.normal), np.asarray(new.normal)
        lift = self.pins[limb][0] + n_old * off
        approach = target + n_new * (0.6 * off)
        waypoints = [("lift", lift, f + 0.25 * (1 - f))]
        if np.linalg.norm(approach - lift) > 0.3:  # long move: arc out from the wall
            out = n_old + n_new
            out /= max(np.linalg.norm(out), 1e-9)
            waypoints.append(("via", 0.5 * (lift + approach) + out * 0.5 * off, f + 0.5 * (1 - f)))
        waypoints.append(("approach", approach, f + 0.75 * (1 - f)))
        del self.pins[limb]
        del stance[limb]
        for label, point, frac in waypoints:
            free = (limb, point, hold_id, 0.5 * cfg.axis_weight)
            self._key(label, False, limb, self.ik.solve(support, root_at(frac), free=free))
        # 3. grip
        sol = self.ik.solve(support, root_at(1.0), free=(limb, target, hold_id, cfg.axis_weight))
        sol.held_error = max(sol.held_error, sol.free_error)
        stance[limb] = hold_id
        self.pins[limb] = self.ik.site(limb)
        self._key("grip", True, limb, sol)
        shift_t = rng.uniform(*cfg.shift_duration_s)
        span = cfg.hand_move_duration_s if limb.endswith("hand") else cfg.foot_move_duration_s
        n_seg = len(waypoints) + 1
        return [shift_t] + [rng.uniform(*span) / n_seg] * n_seg

    def _limb_target(self, limb: str, hold_id: str, later: list) -> np.ndarray:
        """Grip point of the new hold, offset sideways when the partner limb shares the hold now
        or will before this limb moves again."""
        hold, stance = self.holds[hold_id], self.stance
        point = grip_point(hold)
        partner = PARTNER[limb]
        shared = stance.get(partner) == hold_id
        for l, h in later:
            if l == limb:
                break
            shared |= l == partner and h == hold_id
        if not shared:
            return point
        right = hold_frame(hold.normal)[:, 0]  # the hold frame's x axis: the climber's right
        sign = -1.0 if limb.startswith("left") else 1.0
        offset = max(0.5 * hold.size, MATCH_OFFSET_M)
        if stance.get(partner) == hold_id:
            partner_at = self.pins[partner][0]
            side = float(np.dot(partner_at - point, right))
            if side * sign > -0.5 * offset:  # the partner is not on its own side: sit beside it
                return partner_at + right * sign * 2.0 * offset
        return point + right * sign * offset

    def _normal(self, holds: dict) -> np.ndarray:
        """Unit mean normal of a stance's holds (limb -> hold id): the way out from the wall."""
        normal = np.mean([self.holds[h].normal for h in holds.values()], axis=0)
        return normal / max(np.linalg.norm(normal), 1e-9)

    def _hang(self, points: dict, holds: dict) -> tuple[np.ndarray, np.ndarray]:
        """Where a stance hangs the pelvis (as start_stance places it, then pushed clear of the
        wall and volumes) and the wall-facing rotation."""
        normal = self._normal(holds)
        centre = np.mean(list(points.values()), axis=0)
        hands = [points[l] for l in ("left_hand", "right_hand") if l in points]
        feet = [points[l] for l in ("left_foot", "right_foot") if l in points]
        z = centre[2]
        if hands and feet:  # a bit below the middle between hands and feet, as climbers hang
            z = 0.45 * np.mean(hands, axis=0)[2] + 0.55 * np.mean(feet, axis=0)[2]
        pelvis = np.array([centre[0], centre[1], z]) + normal * PELVIS_OFF_WALL
        return self.clearance.push_out(pelvis, normal), quat_to_matrix(facing_quat(normal))

    def _key(self, label: str, rest: bool, limb: str | None, sol) -> None:
        self._add(label, sol.qpos, rest, limb, sol.held_error, sol.penetration)

    def _add(self, label, qpos, rest, limb, error, penetration) -> None:
        pins = {l: (p.copy(), r.copy()) for l, (p, r) in self.pins.items()}
        kf = Keyframe(label, np.array(qpos), rest, dict(self.stance), limb, error, penetration)
        kf.pins = pins
        self.keyframes.append(kf)

    # ------------------------------------------------------------------ timing and output
    def _finish(self, moves, min_durations: list[float]) -> ClimbPlan:
        cfg, idx = self.cfg, self.idx
        for round_ in range(cfg.repair_rounds + 1):
            qpos, at = self._timing(np.asarray(min_durations))
            if round_ == cfg.repair_rounds or not self._repair(qpos, at, min_durations):
                break
        best = self._cleared(qpos, at)
        for _ in range(cfg.retime_rounds):
            if not best.sunk:
                break
            # more frames give the clearance fit room to bend the motion within the bounds
            for i in best.sunk:
                duration = (best.at[i + 1] - best.at[i]) / cfg.limits.fps
                min_durations[i] = max(min_durations[i], cfg.retime_factor * duration)
            timed = self._cleared(*self._timing(np.asarray(min_durations)))
            if timed.excess >= best.excess:
                break
            best = timed
        qpos, contacts, grip = best.qpos, best.contacts, best.grip
        for k, f in zip(self.keyframes, best.at):
            k.frame = int(f)
        self._check_grips(qpos)
        top, final = self.route.top, self.keyframes[-1].holds
        success = (
            final.get("left_hand") == top
            and final.get("right_hand") == top
            and all(k.grip_ok for k in self.keyframes)
        )
        return ClimbPlan(
            motion=motion_from_qpos(qpos, idx, self.skeleton, cfg.limits.fps),
            qpos=qpos,
            contacts=contacts,
            grip=grip,
            stances=self.keyframes,
            moves=list(moves),
            success=bool(success),
            max_ik_error=float(max(k.error for k in self.keyframes)),
            max_penetration=best.deepest,
            fps=cfg.limits.fps,
            speed_scale=self.speed_scale,
        )

    def _cleared(self, qpos: np.ndarray, at: np.ndarray) -> _Timed:
        """The timed frames (keyframes at frames `at`) after the clearance pass."""
        cfg = self.cfg
        for k, f in zip(self.keyframes, at):
            k.frame = int(f)
            qpos[f] = k.qpos  # keyframes exactly (the rotation round trip is ~1e-16 off)
        contacts, grip = self._timeline(len(qpos))
        if cfg.clearance.rounds > 0:
            qpos, _ = clear_frames(
                self.m,
                self.idx,
                qpos,
                contacts >= 0,
                np.array([k.frame for k in self.keyframes if k.rest], dtype=int),
                2.0 * cfg.penetration_tol,
                cfg.drift_tolerance_m,
                scaled(cfg.limits, max(self.speed_scale, 1.0)),  # as the timing was allowed
                cfg.clearance,
                rays=self.clearance,
            )
        pen = frame_quality(self.m, qpos, self.ik.own, np.zeros(0, int), self.clearance)[0]
        limit = 2.0 * cfg.penetration_tol
        sunk = [i for i in range(len(at) - 1) if pen[at[i] : at[i + 1] + 1].max() > limit]
        excess = float(np.maximum(pen - limit, 0.0).sum())
        return _Timed(qpos, np.asarray(at).copy(), contacts, grip, sunk, excess, float(pen.max()))

    def _timing(self, min_durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T, nq) frames through the keyframes and (K,) keyframe frame indices."""
        cfg, idx = self.cfg, self.idx
        kq = np.array([k.qpos for k in self.keyframes])
        frame_rot = quat_to_matrix(kq[0, idx.root_qpos][3:])
        coords = to_coords(kq, idx, frame_rot)
        rest = np.array([k.rest for k in self.keyframes])
        durations, vel, self.speed_scale = fit_timing(
            coords, rest, min_durations, cfg.limits, cfg.max_duration_s
        )
        frames, at = sample(coords, vel, durations, cfg.limits.fps)
        return from_coords(frames, idx, frame_rot, kq[0]), at

    def _repair(self, qpos: np.ndarray, at: np.ndarray, min_durations: list) -> bool:
        """Insert a keyframe where interpolation between two keyframes sinks into the wall, a
        hold or the body, or lets a holding limb drift off its hold; returns whether it did."""
        cfg = self.cfg
        pen, sites = frame_quality(self.m, qpos, self.ik.own, self.idx.grip_sites, self.clearance)
        inserts = []
        for i in range(len(self.keyframes) - 1):
            a, b = int(at[i]), int(at[i + 1])
            if b - a < 4:
                continue
            k0, k1 = self.keyframes[i], self.keyframes[i + 1]
            bad = pen[a + 1 : b] / (2.0 * cfg.penetration_tol)
            for l in _common(k0, k1):
                drift = np.linalg.norm(sites[a + 1 : b, LIMBS.index(l)] - k0.pins[l][0], axis=1)
                bad = np.maximum(bad, drift / cfg.drift_tolerance_m)
            if bad.max() > 1.0:
                inserts.append((i, a + 1 + int(np.argmax(bad)), float(bad.max())))
        resolved = self._resolve_sunk_keyframes(pen, at)
        inserted = False
        for i, f, worst in reversed(inserts):
            k0, k1 = self.keyframes[i], self.keyframes[i + 1]
            pins = {l: k0.pins[l] for l in _common(k0, k1)}
            self.d.qpos[:] = qpos[f]
            mujoco.mj_kinematics(self.m, self.d)
            free = None
            moving = [l for l in LIMBS if l not in pins]
            if moving:  # the travelling limb keeps its place, out past any face it sank into
                point = self.clearance.clear_point(
                    self.ik.site(moving[0])[0], self._normal(k0.holds), LIMB_CLEARANCE_M
                )
                free = (moving[0], point, None, 0.0)
            root = (qpos[f, :3].copy(), quat_to_matrix(qpos[f, 3:7]))
            # from the frame itself, then from either (clear) keyframe around it
            sol = self.ik.solve(
                pins,
                root,
                free=free,
                posture=qpos[f],
                fallback=False,
                warm_starts=(k0.qpos, k1.qpos),
            )
            if free is not None and sol.penetration > 2.0 * cfg.penetration_tol:
                sol = self._unpinned(sol, pins, root, qpos[f], k0.qpos, k1.qpos)
            badness = max(
                sol.penetration / (2.0 * cfg.penetration_tol),
                sol.held_error / cfg.drift_tolerance_m,
            )
            if badness > REPAIR_GAIN * worst:
                continue  # no better than the frame it would replace: it would only stall there
            holds = {l: k0.holds[l] for l in pins}
            kf = Keyframe("clear", sol.qpos, False, holds, k1.limb, sol.held_error, sol.penetration)
            kf.pins = pins
            self.keyframes.insert(i + 1, kf)
            min_durations[i : i + 1] = [0.5 * min_durations[i]] * 2
            inserted = True
        return inserted or resolved

    def _resolve_sunk_keyframes(self, pen: np.ndarray, at: np.ndarray) -> bool:
        """Re-solve each travelling keyframe (lift, via, approach, clear) that sinks in more than
        twice the tolerance with its travelling limb let free (it only passes through), from
        itself and from the keyframes either side; returns whether any got better."""
        limit = 2.0 * self.cfg.penetration_tol
        better = False
        for i in range(1, len(self.keyframes) - 1):
            k = self.keyframes[i]
            if k.rest or pen[at[i]] <= limit:
                continue
            self.d.qpos[:] = k.qpos
            mujoco.mj_kinematics(self.m, self.d)
            root = (k.qpos[:3].copy(), quat_to_matrix(k.qpos[3:7]))
            sol = self.ik.solve(
                k.pins,
                root,
                posture=k.qpos,
                fallback=False,
                warm_starts=(self.keyframes[i - 1].qpos, self.keyframes[i + 1].qpos),
            )
            if sol.penetration < min(k.penetration, float(pen[at[i]])) and sol.held_error <= max(
                k.error, self.cfg.drift_tolerance_m
            ):
                k.qpos, k.penetration, k.error = sol.qpos, sol.penetration, sol.held_error
                better = True
        return better

    def _unpinned(self, sol, pins: dict, root, posture: np.ndarray, q0, q1):
        """A repair keyframe between q0 and q1 solved again without its travelling limb's
        target (the better of the two)."""
        again = self.ik.solve(pins, root, posture=posture, fallback=False, warm_starts=(q0, q1))
        return again if again.score < sol.score else sol

    def _check_grips(self, qpos: np.ndarray) -> None:
        """Mark each grip keyframe with whether the env's grip logic (`Grips.nearest_hold`, on
        the frame before, as the env closes a grip before it moves to the next pose) would close
        on the intended hold."""
        w = self.world
        grips = Grips(self.m, self.idx, w.hold_geoms, self.capture_radius, np.full(4, np.inf))
        d = mujoco.MjData(self.m)
        for kf in self.keyframes:
            if kf.label != "grip":
                continue
            d.qpos[:] = qpos[max(kf.frame - 1, 0)]
            mujoco.mj_kinematics(self.m, d)
            hold = grips.nearest_hold(d, LIMBS.index(kf.limb))
            kf.grip_ok = hold == w.hold_slot[kf.holds[kf.limb]]

    def _timeline(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Contacts (T, 4): the hold from the frame a limb grips to the frame it lets go."""
        slot = self.world.hold_slot
        contacts = np.full((n, 4), -1, dtype=int)
        prev = self.keyframes[0]
        for kf in self.keyframes[1:]:
            for j, limb in enumerate(LIMBS):
                if limb in prev.holds and limb in kf.holds and prev.holds[limb] == kf.holds[limb]:
                    contacts[prev.frame : kf.frame + 1, j] = slot[kf.holds[limb]]
                elif limb in prev.holds:  # lets go at the previous keyframe
                    contacts[prev.frame, j] = slot[prev.holds[limb]]
                elif limb in kf.holds:  # grips at this keyframe
                    contacts[kf.frame, j] = slot[kf.holds[limb]]
            prev = kf
        if len(self.keyframes) == 1:
            for j, limb in enumerate(LIMBS):
                if limb in prev.holds:
                    contacts[:, j] = slot[prev.holds[limb]]
        return contacts, contacts >= 0


@dataclass
class _Timed:
    """One timing of the keyframes, cleared, and how much it still sinks in."""

    qpos: np.ndarray  # (T, nq)
    at: np.ndarray  # (K,) frame of each keyframe
    contacts: np.ndarray  # (T, 4) hold slot per limb, -1 off
    grip: np.ndarray  # (T, 4) bool
    sunk: list[int]  # keyframe segments i (i to i + 1) with a frame deeper than the tolerance
    excess: float  # m x frames deeper than the tolerance, all told
    deepest: float  # m, the deepest frame


def _common(k0: Keyframe, k1: Keyframe) -> list[str]:
    """Limbs on the same hold at both keyframes."""
    return [l for l in k0.holds if k1.holds.get(l) == k0.holds[l]]
