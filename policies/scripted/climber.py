"""ScriptedClimber: the expert policy that plans a route at reset and then climbs it.

control="kinematic": `act` returns the env action that puts the humanoid at the plan's next frame
(hinge targets, grips, root position and orientation; see navenv.envs.climb.env); control="physics":
a `policies.tracking.Tracker` turns the plan into PD targets, grips and (assist="residual") the
residual root wrench, waiting at a grip until it has closed. After the last frame the climber keeps
sending the final frame (it holds the top).

The control mode comes from the `control` argument, else from `action_space` (its size names
the action layout: navenv.envs.climb.layout.action_modes), else it is "kinematic". The assist
likewise: `assist`, else the action space, else "residual" for physics (the benchmark setting;
pass assist="none" or the action space for a physics env without assist). The climber
compiles its own copy of the env's world (same skeleton and ClimbConfig) for the hinge ranges,
climbing box, actuator gains and the route view (reset info keys "hinge_range" and "climb_box",
when an env provides them, take precedence); it never touches the env.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import mujoco
import numpy as np

from navenv.body.skeleton import Skeleton
from navenv.envs.climb.compiled import CompiledWorld, compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.layout import action_layout
from policies.scripted.planner import ClimbPlan, PlannerConfig, plan_climb
from policies.tracking import Reference, RootEstimator, Tracker, TrackerConfig, kinematic_action
from policies.tracking.actions import resolve_modes


class ScriptedClimber:
    """Scripted expert: `reset(seed=, info=)` with the env's reset info plans the route (plans
    cached by (scene name, route id, seed)); `act(obs)` returns the next action."""

    def __init__(
        self,
        config: PlannerConfig | None = None,
        control: str | None = None,
        *,
        assist: str | None = None,
        action_space=None,
        tracker: TrackerConfig | None = None,
        skeleton: Skeleton | None = None,
        env_config: ClimbConfig | None = None,
        cache_size: int = 32,
        plan_cache: OrderedDict | None = None,
    ) -> None:
        control, assist = resolve_modes(control, assist, action_space)
        self.action_layout = action_layout(control, assist)  # checks the pair
        self.config = config or PlannerConfig()
        self.control, self.assist = control, assist
        self.tracker_config = tracker or TrackerConfig()
        self.skeleton = skeleton or Skeleton.builtin()
        self.env_config = env_config or ClimbConfig()
        self.cache_size = int(cache_size)
        self._worlds: OrderedDict[str, CompiledWorld] = OrderedDict()
        # plans by (scene name, route id, seed); climbers of one process may share one cache
        self.plan_cache: OrderedDict[tuple, ClimbPlan] = (
            plan_cache if plan_cache is not None else OrderedDict()
        )
        self.plan: ClimbPlan | None = None
        self.world: CompiledWorld | None = None
        self.tracker: Tracker | None = None
        self.estimator: RootEstimator | None = None
        self.step = 0
        self._frames: list[int] = []  # plan frame each step followed (0 for the reset state)

    # ------------------------------------------------------------------ Policy protocol
    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Plan the route in `info` (the env's reset info: "scene", "route"); seed None means 0."""
        if not info or "scene" not in info or "route" not in info:
            raise ValueError(
                "ScriptedClimber.reset: info must be the env's reset info with 'scene' and 'route'"
            )
        scene, route = info["scene"], info["route"]
        seed = 0 if seed is None else int(seed)
        self.world = self._world(scene)
        self.plan = self.plan_for(scene, route, seed)
        self.step = 0
        self._frames = [0]
        # the env's own figures when its reset info carries them, else this world's (the same)
        self._box = info.get("climb_box", self.world.climb_box)
        self._hinge_range = np.asarray(info.get("hinge_range", self.world.index.hinge_range))
        if self.control == "physics":
            self.tracker = Tracker.from_world(
                self.world, self.env_config, self.assist, self.tracker_config
            )
            self.tracker.set_reference(
                Reference.from_qpos(
                    self.plan.qpos,
                    self.world.index,
                    self.plan.grip,
                    self.plan.fps,
                    self.plan.contacts,
                )
            )
            view = self.world.route_view(route, self.env_config.route_lookahead)
            self.estimator = RootEstimator(view)

    def act(self, obs: Any) -> np.ndarray:
        """The action for the next frame of the plan (the last frame once it is over)."""
        if self.plan is None:
            raise RuntimeError("ScriptedClimber.act: call reset(seed=..., info=...) first")
        self.step += 1
        if self.control == "kinematic":
            t = min(self.step, self.plan.num_frames - 1)
            self._frames.append(t)
            return kinematic_action(
                self.plan.qpos[t],
                self.plan.grip[t],
                self.world.index,
                self._box,
                hinge_range=self._hinge_range,
            )
        state = self.estimator.estimate(obs) if self.estimator is not None else None
        action = self.tracker.act(obs, state)
        self._frames.append(self.tracker.frame)
        return action

    def reference_joints(self, n: int) -> np.ndarray:
        """(n, 24, 3) world positions (m) of the plan's joints at the frames the first n states
        of the episode followed (the reset state, then one per act; the last repeats)."""
        if self.plan is None:
            raise RuntimeError("ScriptedClimber.reference_joints: no plan yet")
        frames = np.array(self._frames[:n] + [self._frames[-1]] * max(0, n - len(self._frames)))
        return self.plan_joints(frames)

    def plan_ahead(self, seconds: float) -> np.ndarray:
        """(N, 24, 3) world joint positions (m) of the plan from the frame followed now to
        `seconds` ahead, one per plan frame (what bench videos draw as the ghost)."""
        if self.plan is None:
            raise RuntimeError("ScriptedClimber.plan_ahead: no plan yet")
        frames = max(round(seconds * self.plan.fps), 1)
        return self.plan_joints(self._frames[-1] + np.arange(frames + 1))

    def plan_joints(self, frames: np.ndarray) -> np.ndarray:
        """(len(frames), 24, 3) world positions (m) of the plan's joints at plan `frames`
        (clamped to the plan)."""
        if self.plan is None:
            raise RuntimeError("ScriptedClimber.plan_joints: no plan yet")
        frames = np.minimum(np.asarray(frames, dtype=int), self.plan.num_frames - 1)
        n = len(frames)
        m, idx = self.world.model, self.world.index
        data = mujoco.MjData(m)
        out = np.empty((n, len(idx.bodies), 3))
        for i, f in enumerate(frames):
            data.qpos[:] = self.plan.qpos[f]
            mujoco.mj_kinematics(m, data)
            out[i] = data.xpos[idx.bodies]
        return out

    # ------------------------------------------------------------------ helpers
    def plan_for(self, scene, route, seed: int) -> ClimbPlan:
        """The plan of `route` on `scene` for `seed` (from the cache when planned before)."""
        key = (scene.name, route.id, int(seed))
        if key in self.plan_cache:
            self.plan_cache.move_to_end(key)
            return self.plan_cache[key]
        plan = plan_climb(
            scene,
            route,
            seed=int(seed),
            skeleton=self.skeleton,
            config=self.config,
            env_config=self.env_config,
            world=self._world(scene),
        )
        self.plan_cache[key] = plan
        while len(self.plan_cache) > self.cache_size:
            self.plan_cache.popitem(last=False)
        return plan

    def _world(self, scene) -> CompiledWorld:
        if scene.name not in self._worlds:
            self._worlds[scene.name] = compile_world(scene, self.skeleton, self.env_config)
            while len(self._worlds) > max(self.cache_size // 4, 2):
                self._worlds.popitem(last=False)
        self._worlds.move_to_end(scene.name)
        return self._worlds[scene.name]
