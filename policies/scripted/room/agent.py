"""`RoomAgent`: the scripted RoomNav-v0 agent (plan on the grid, walk with mocap gait, react).

A leg of behaviour: pick a place to stand at the goal (an approach point, nearer ones likelier),
plan a path on the walkable grid (A* then string pulling; sometimes through a random waypoint:
a detour), walk it with `policies.scripted.gait.walk_along` (real CMU walk cycles time-warped to
the agent's speed, feet planted), turn to face the furniture, dwell, sometimes glance at the
observer. Where the furniture affords it and the profile draws it, the dwell is a use instead
(`policies.scripted.room.uses`): the walk goes on to a spot by the seat and turns its back to
it, then sits down and stands up (`policies.scripted.gait.sit`), or to a spot at the surface or
shelf and reaches to it with one hand (`policies.scripted.gait.reach`). While walking it
watches the observer (from its observation) and, when the observer stands within its personal
distance of the path ahead, re-plans around the observer's disc (never while sitting or
reaching: the pose would jump).

As a Policy it plays the plan in the env's control mode with a `MotionPlayer`
(`policies.scripted.room.player`): kinematic (the pose itself) or physics (the plan's joint
angles as PD targets plus, with assist="residual", a PD wrench on the pelvis toward the planned
root). `choose_goal` picks goals by the profile's liking, for data that chains goals
(`policies.data.room`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from navenv.body.rotations import quat_to_matrix
from policies.scripted.gait import MotionLibrary, reach, sit, stand, turn_in_place, walk_along
from policies.scripted.room.player import MotionPlayer
from policies.scripted.room.profile import AgentProfile
from policies.scripted.room.uses import FACES, SEAT_FRACTION, SURFACES, Use, plan_reach, plan_sit
from scenes.navigation import (
    AVOID_SHRINK,
    NavGrid,
    NoPathError,
    avoiding,
    facing_yaw,
    passes_near,
    plan_path,
    smooth_path,
)
from scenes.types import Region

REACT_EVERY_S = 0.33  # how often the agent looks at where the observer is
MAX_REACTS = 3  # re-plans for the observer per leg; then it keeps going (a person walking to
# and fro across a doorway would otherwise hold the agent forever)
REPLAN_COOLDOWN_S = 1.5  # after a re-plan it keeps to the new plan at least this long
ARRIVED_M = 0.25  # a leg that ends this close to its target has arrived
SWING_MARGIN_M = 0.12  # paths keep this much beyond the grid's body radius where they can:
# the walkable grid clears the torso, swinging hands reach about this much further
LOOKAHEAD_S = 2.0  # how much of the path ahead it checks against the observer
APPROACH_NEAR_M = 0.6  # approach points this much nearer are e times likelier
DETOUR_MIN_M = 1.0  # a detour waypoint keeps this far from start and goal
MIN_STEP_M = 0.05  # a use's spot nearer the walk's end than this is used from the end itself
MIN_SIT_S = 3.0  # sitting lasts at least this (1 s down, a second seated, 1 s up)
MIN_REACH_S = 2.5
RIGHT_HAND_P = 0.8  # share of reaches made with the right hand


class RoomAgent:
    """Scripted agent for RoomNav-v0 (see the module doc)."""

    def __init__(
        self,
        control: str | None = None,
        assist: str | None = None,
        profile: AgentProfile | None = None,
        library: MotionLibrary | None = None,
        react: bool = True,
        dwell: bool = True,
    ) -> None:
        self.control, self.assist = control, assist
        self.fixed_profile = profile
        self.library = library or MotionLibrary.default()
        self.react, self.dwell = bool(react), bool(dwell)
        self.profile: AgentProfile | None = profile
        self._nav: dict[str, NavGrid] = {}
        self.replans = 0

    # ------------------------------------------------------------------ episode
    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Plan the first leg from the env's reset info (scene, goal, pose, layouts)."""
        if info is None or "scene" not in info:
            raise ValueError("RoomAgent.reset needs the RoomNav-v0 reset info (scene, goal, ...)")
        self.rng = np.random.default_rng(seed)
        self.profile = self.fixed_profile or AgentProfile.draw(self.rng)
        # Sitting and reaching draw from their own stream (as the profile's use chances do):
        # every other draw of a seed, and so its walks, stay what they were without them.
        self.use_rng = self.rng.spawn(1)[0]
        self.scene = info["scene"]
        if self.scene.name not in self._nav:
            self._nav[self.scene.name] = NavGrid.from_scene(self.scene)
        self.nav = self._nav[self.scene.name]
        self.obs_layout, self.action_layout = info["obs_layout"], info["action_layout"]
        self.hinge_range, self.room_box = info["hinge_range"], info["room_box"]
        self.assist_limits = info["assist_limits"]
        self.fps = 1.0 / float(info["dt"])
        self.player = MotionPlayer(info)  # a fresh one: no joint-angle seed, no last pelvis
        if self.control not in (None, self.player.control):
            raise ValueError(
                f"RoomAgent(control={self.control!r}) but the env's is {self.player.control!r}"
            )
        self.replans = 0
        self._avoid_scale = 1.0
        self.retarget(info, info["agent_xy"], info["agent_yaw"], observer_xy=info["observer_xy"])

    def retarget(self, goal_info: dict, xy, yaw: float, observer_xy=None) -> None:
        """Plan a new leg to the goal in `goal_info` (goal_region, goal_approach) from (xy, yaw)."""
        self.goal: Region = goal_info["goal_region"]
        approach = np.asarray(goal_info["goal_approach"], float)
        d = np.linalg.norm(approach - np.asarray(xy), axis=1)
        w = np.exp(-(d - d.min()) / APPROACH_NEAR_M)
        self.target = approach[int(self.rng.choice(len(approach), p=w / w.sum()))]
        self._reacts_left = MAX_REACTS
        self._plan_leg(np.asarray(xy, float), float(yaw), observer_xy, detour=True)

    def choose_goal(self, goals: list[tuple[int, str]]) -> int:
        """A region index from (index, label) pairs, drawn by the profile's liking and mood."""
        if not goals:
            raise ValueError("choose_goal: no goals to choose from")
        w = self.profile.goal_weights([lab for _, lab in goals])
        return goals[int(self.rng.choice(len(goals), p=w))][0]

    @property
    def done(self) -> bool:
        """Whether the current leg (walk, turn, dwell) has been played to its end."""
        return self.player.done

    @property
    def _root(self) -> np.ndarray:
        """The current leg's (T, 7) pelvis position and quaternion (benchmarks read it)."""
        return self.player.root

    @property
    def _t(self) -> int:
        """The leg's frame being played."""
        return self.player.t

    # ------------------------------------------------------------------ planning
    def _plan_leg(self, xy: np.ndarray, yaw: float, observer_xy, detour: bool) -> None:
        nav = self.nav
        if observer_xy is not None and self.react:
            nav = self._avoiding(np.asarray(observer_xy, float), xy)
        path = None
        for grid in (nav.eroded(SWING_MARGIN_M), nav):  # room for the arms first, else any path
            try:
                path = self._path(grid, xy, self.target, detour)
                break
            except (NoPathError, ValueError):
                continue
        # Blocked: next time ask for less room (a person squeezes past when there is no way round).
        self._avoid_scale = 1.0 if path is not None else self._avoid_scale * AVOID_SHRINK
        p = self.profile
        end_yaw = facing_yaw(self.target, self.goal)
        parts = []
        self._leg_end = self.target  # where the leg ends: arrived when the plan ends near it
        self._walk_frames = 0  # frames of the plan that are walking (re-planned when blocked)
        if path is None:  # boxed in (by the observer): stand a second and look again
            parts.append(stand(1.0, xy, yaw, self.fps, library=self.library))
        else:
            use = self._use() if self.dwell else None
            if use is not None:  # walk on to where the use is made, and turn as it needs
                if np.linalg.norm(use.xy - path[-1]) >= MIN_STEP_M:
                    path = np.vstack([path, use.xy])
                end_yaw, self._leg_end = use.yaw, use.xy
            motion, _ = walk_along(
                path,
                speed=p.speed,
                fps=self.fps,
                library=self.library,
                start_yaw=yaw,
                end_yaw=end_yaw,
                rng=self.rng,
            )
            parts.append(motion)
            self._walk_frames = len(motion)
            if self.dwell:
                parts.append(self._dwell(motion, observer_xy, use))
        self._set_plan(parts)

    def _use(self) -> Use | None:
        """Sit or reach at the goal, if it affords that, the profile draws it and there is room."""
        p, label = self.profile, self.goal.label
        if label in SEAT_FRACTION:
            if p.sit_p > 0 and self.use_rng.random() < p.sit_p:
                return plan_sit(
                    self.goal,
                    self.target,
                    self.scene.regions,
                    self.nav,
                    self.library,
                    carried_only=self.player.control == "physics",
                )
        elif label in SURFACES + FACES:
            if p.reach_p > 0 and self.use_rng.random() < p.reach_p:
                return plan_reach(
                    self.goal, self.target, self.scene.regions, self.nav, self.use_rng
                )
        return None

    def _dwell(self, walk, observer_xy, use: Use | None = None):
        """Stand at the goal, sometimes turning toward the observer first; or sit, or reach."""
        p, end = self.profile, walk.transl[-1]
        xy = end[:2]
        yaw = _yaw_of(walk.global_orient[-1])
        secs = float(self.rng.uniform(*p.dwell_s))
        # drawn whether or not it is used, so that the seed's later draws stay as they were
        glance = observer_xy is not None and self.rng.random() < p.glance_p
        if use is not None and use.kind == "sit":
            return sit(
                max(secs, MIN_SIT_S), xy, yaw, use.seat_height, self.fps, library=self.library
            )
        if use is not None:
            side = "right" if self.use_rng.random() < RIGHT_HAND_P else "left"
            return reach(
                max(secs, MIN_REACH_S),
                xy,
                yaw,
                use.target,
                self.fps,
                side,
                from_above=use.from_above,
                library=self.library,
            )
        if glance:
            d = np.asarray(observer_xy) - xy
            look = math.atan2(d[0], -d[1])
            turn, _ = turn_in_place(xy, yaw, look, self.fps, library=self.library)
            rest = stand(secs, xy, look, self.fps, library=self.library)
            return _concat(turn, rest)
        return stand(secs, xy, yaw, self.fps, library=self.library)

    def _path(self, nav: NavGrid, start: np.ndarray, goal: np.ndarray, detour: bool) -> np.ndarray:
        if detour and self.rng.random() < self.profile.detour_p:
            free = nav.free_points()
            ok = (np.linalg.norm(free - start, axis=1) > DETOUR_MIN_M) & (
                np.linalg.norm(free - goal, axis=1) > DETOUR_MIN_M
            )
            if ok.any():
                via = free[ok][int(self.rng.integers(ok.sum()))]
                try:
                    a = plan_path(nav, start, via)
                    b = plan_path(nav, via, goal)
                    return smooth_path(np.vstack([start, a, b[1:], goal]), nav)
                except NoPathError:
                    pass
        return smooth_path(np.vstack([start, plan_path(nav, start, goal), goal]), nav)

    def _avoiding(self, observer_xy: np.ndarray, start: np.ndarray) -> NavGrid:
        """The grid with the observer's personal disc blocked (`scenes.navigation.avoiding`),
        asking for less room after plans that found no way round."""
        return avoiding(self.nav, observer_xy, start, self.profile.personal_m * self._avoid_scale)

    def _set_plan(self, motions) -> None:
        self.player.play(motions[0] if len(motions) == 1 else _concat(*motions))
        self._next_react = 0

    # ------------------------------------------------------------------ acting
    def act(self, obs) -> np.ndarray:
        """The action that moves the body to the plan's next frame (re-planning if blocked)."""
        get = self.obs_layout.get
        pos = np.asarray(get(obs, "position"), float)
        heading = get(obs, "heading")
        yaw = math.atan2(heading[1], heading[0])
        if self._t >= self._next_react:
            # never past the plan's last frame, so a finished leg is always looked at again
            step = max(round(REACT_EVERY_S * self.fps), 1)
            self._next_react = min(self._t + step, len(self._root) - 1)
            ob = self._observer_world(get(obs, "observer_path")[-1, :2], pos[:2], yaw)
            arrived = np.linalg.norm(self._root[-1, :2] - self._leg_end) <= ARRIVED_M
            # only while walking: a sitting or reaching body is not re-planned out of its pose
            walking = self._t < self._walk_frames
            blocked = (
                self.react
                and self._reacts_left > 0
                and not self.done
                and walking
                and self._blocked_ahead(ob)
            )
            if (self.done and not arrived) or blocked:
                self.replans += 1
                self._reacts_left -= int(blocked)
                here = self._root[self._t]
                self._plan_leg(
                    here[:2].copy(),
                    _yaw_of(quat_to_matrix(here[3:])),
                    ob,
                    detour=False,
                )
                self._next_react = min(int(REPLAN_COOLDOWN_S * self.fps), len(self._root) - 1)
        return self.player.act(obs)

    def _observer_world(self, rel: np.ndarray, xy: np.ndarray, yaw: float) -> np.ndarray:
        f = np.array([math.sin(yaw), -math.cos(yaw)])
        return xy + rel[0] * f + rel[1] * np.array([-f[1], f[0]])

    def _blocked_ahead(self, observer_xy: np.ndarray) -> bool:
        ahead = self._root[self._t : self._t + int(LOOKAHEAD_S * self.fps), :2]
        if len(ahead) < 2 or np.ptp(ahead, axis=0).max() < 0.05:
            return False  # standing: the observer may come close
        return passes_near(ahead, observer_xy, self.profile.personal_m)


def _yaw_of(rot: np.ndarray) -> float:
    """Heading yaw of a pelvis rotation (rest faces -y)."""
    f = -np.asarray(rot)[:2, 1]
    return math.atan2(f[0], -f[1])


def _concat(*motions):
    from navenv.body.motion import Motion

    return Motion.concatenate(list(motions))
