"""Move generation: the IK keyframes of each move of a route, from the env's start stance.

`MovePlanner` holds one draw's state: the current stance, where (and as turned as) each holding
limb is pinned, and the keyframes so far. `climb()` solves the start stance, orders the route's
moves (`policies.scripted.sequence`) and adds each move's keyframes (see the package docstring:
shift, lift / via / approach, grip), warm-starting every solve from the one before. A grip the
env would not close on its hold (`GripCheck`, the env's own grip logic) is aimed again across
the hold.
"""

from __future__ import annotations

import math

import numpy as np

from navenv.body.rotations import quat_to_matrix, rotation_z
from navenv.envs.climb.compiled import CompiledWorld
from navenv.envs.climb.spawn import (
    PELVIS_OFF_WALL,
    facing_quat,
    grip_point,
    posture_qpos,
    start_stance,
)
from navenv.humanoid import names
from navenv.world import hold_frame
from policies.scripted.keyframes import KeyframeSolver, Solution, WallClearance
from policies.scripted.planner.config import PlannerConfig
from policies.scripted.planner.timeline import GripCheck
from policies.scripted.planner.types import Keyframe
from policies.scripted.sequence import climb_sequence
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
# Where a grip that would not close is aimed again: across the hold along its right axis, in
# match offsets from the grip point, this limb's own side first. A matching hand placed beside
# a partner that landed off its own spot (its arm at full stretch or against a volume) can end
# outside the env's capture radius; a point on the hold nearer the centre is in reach.
REGRIP_SIDES = (1.0, 0.5, 0.0, -0.5, -1.0)


class MovePlanner:
    """The keyframes of one planning draw, and the state they are solved from."""

    def __init__(
        self,
        world: CompiledWorld,
        scene: Scene,
        route: Route,
        rng: np.random.Generator,
        cfg: PlannerConfig,
        capture_radius: float,
        clearance: WallClearance,
    ) -> None:
        self.world, self.scene, self.route, self.rng, self.cfg = world, scene, route, rng, cfg
        self.m, self.idx = world.model, world.index
        self.holds = {h.id: h for h in scene.holds}
        prior = posture_qpos(self.m, self.idx)
        for hinge, half in STYLE_JOINTS.items():
            i = names.HINGE_NAMES.index(hinge)
            lo, hi = self.idx.hinge_range[i]
            q = prior[self.idx.hinge_qpos[i]] + cfg.style_scale * half * rng.uniform(-1, 1)
            prior[self.idx.hinge_qpos[i]] = np.clip(q, lo, hi)
        self.clearance = clearance
        self.ik = KeyframeSolver(self.m, self.idx, self.holds, prior, cfg.ik, rays=self.clearance)
        self.d = self.ik.d
        self.grips = GripCheck(world, capture_radius)
        self.keyframes: list[Keyframe] = []
        self.stance: dict[str, str] = {}
        self.pins: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # limb -> (site pos, rot)

    def climb(self) -> tuple[list[tuple[str, str]], list[float]]:
        """Keyframes of the whole route; returns the moves in the order climbed and the minimum
        duration of each keyframe segment."""
        result = start_stance(self.m, self.d, self.idx, self.scene, self.route, rays=self.clearance)
        self.stance = dict(self.route.start)
        self.pins = {limb: self.ik.site(limb) for limb in self.stance}
        kinds = {h.id: h.kind for h in self.scene.holds}
        moves = climb_sequence(self.route, kinds, self.holds, self.rng, self.cfg.swap_probability)
        error = float(result.errors.max(initial=0.0))
        self._add("start", self.d.qpos, True, None, error, result.max_penetration)
        min_durations: list[float] = []
        for k, (limb, hold_id) in enumerate(moves):
            min_durations += self.move(limb, hold_id, moves[k + 1 :])
        return moves, min_durations

    def move(self, limb: str, hold_id: str, later: list) -> list[float]:
        """Keyframes of one move (appended); returns the minimum duration of each new segment."""
        cfg, rng, stance, ik = self.cfg, self.rng, self.stance, self.cfg.ik
        target = self.limb_target(limb, hold_id, later)
        old, new = self.holds[stance[limb]], self.holds[hold_id]
        points = {l: p for l, (p, _) in self.pins.items()}
        p_now, rot_now = self.hang(points, stance)
        p_next, rot_next = self.hang({**points, limb: target}, {**stance, limb: hold_id})
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
            free = (limb, point, hold_id, 0.5 * ik.axis_weight)
            self._key(label, False, limb, self.ik.solve(support, root_at(frac), free=free))
        # 3. grip
        approached = self.d.qpos.copy()
        sol = self.ik.solve(support, root_at(1.0), free=(limb, target, hold_id, ik.axis_weight))
        if not self.grips.closes(self.d, limb, self.world.hold_slot[hold_id]):
            sol = self._regrip(support, root_at(1.0), limb, hold_id, approached, sol)
        sol.held_error = max(sol.held_error, sol.free_error)
        stance[limb] = hold_id
        self.pins[limb] = self.ik.site(limb)
        self._key("grip", True, limb, sol)
        shift_t = rng.uniform(*cfg.shift_duration_s)
        span = cfg.hand_move_duration_s if limb.endswith("hand") else cfg.foot_move_duration_s
        n_seg = len(waypoints) + 1
        return [shift_t] + [rng.uniform(*span) / n_seg] * n_seg

    def _regrip(
        self, support: dict, root, limb: str, hold_id: str, start: np.ndarray, sol: Solution
    ) -> Solution:
        """The grip solved again, from the approach configuration `start`, for each point of
        REGRIP_SIDES across the hold: the best (`Solution.score`) the env's grip would close on
        the hold, else `sol`; the solver's data is left at the one returned."""
        hold, slot = self.holds[hold_id], self.world.hold_slot[hold_id]
        right = hold_frame(hold.normal)[:, 0]
        sign = -1.0 if limb.startswith("left") else 1.0
        offset = max(0.5 * hold.size, MATCH_OFFSET_M)
        best = None
        for side in REGRIP_SIDES:
            self.ik.set_qpos(start)
            point = grip_point(hold) + right * (sign * side * offset)
            cand = self.ik.solve(
                support, root, free=(limb, point, hold_id, self.cfg.ik.axis_weight)
            )
            if self.grips.closes(self.d, limb, slot) and (best is None or cand.score < best.score):
                best = cand
        best = best or sol
        self.ik.set_qpos(best.qpos)
        return best

    def limb_target(self, limb: str, hold_id: str, later: list) -> np.ndarray:
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

    def normal(self, holds: dict) -> np.ndarray:
        """Unit mean normal of a stance's holds (limb -> hold id): the way out from the wall."""
        normal = np.mean([self.holds[h].normal for h in holds.values()], axis=0)
        return normal / max(np.linalg.norm(normal), 1e-9)

    def hang(self, points: dict, holds: dict) -> tuple[np.ndarray, np.ndarray]:
        """Where a stance hangs the pelvis (as start_stance places it, then pushed clear of the
        wall and volumes) and the wall-facing rotation."""
        normal = self.normal(holds)
        centre = np.mean(list(points.values()), axis=0)
        hands = [points[l] for l in ("left_hand", "right_hand") if l in points]
        feet = [points[l] for l in ("left_foot", "right_foot") if l in points]
        z = centre[2]
        if hands and feet:  # a bit below the middle between hands and feet, as climbers hang
            z = 0.45 * np.mean(hands, axis=0)[2] + 0.55 * np.mean(feet, axis=0)[2]
        pelvis = np.array([centre[0], centre[1], z]) + normal * PELVIS_OFF_WALL
        return self.clearance.push_out(pelvis, normal), quat_to_matrix(facing_quat(normal))

    def _key(self, label: str, rest: bool, limb: str | None, sol: Solution) -> None:
        self._add(label, sol.qpos, rest, limb, sol.held_error, sol.penetration)

    def _add(self, label, qpos, rest, limb, error, penetration) -> None:
        pins = {l: (p.copy(), r.copy()) for l, (p, r) in self.pins.items()}
        kf = Keyframe(label, np.array(qpos), rest, dict(self.stance), limb, error, penetration)
        kf.pins = pins
        self.keyframes.append(kf)
