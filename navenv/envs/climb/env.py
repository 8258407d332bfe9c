"""ClimbRoute-v0: the SMPL humanoid climbs a route on a wall scene.

Reads top to bottom: constants, construction (world, then spaces), reset, step, observation,
reward, termination. See README "ClimbRoute-v0" for the action/observation tables.

Actions and observations are named by `env.unwrapped.action_layout` / `.obs_layout`
(navenv.envs.climb.layout has the tables).
Values outside [-1, 1] are clipped; NaN/inf raises ValueError naming the indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from navenv.body.rotations import matrix_to_quat, rot6d_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.envs.climb import observations as obs_mod
from navenv.envs.climb.compiled import CompiledWorld, compile_world, resolve_scene
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.layout import (
    ASSIST_MODES,
    CONTROL_MODES,
    OBS_MODES,
    PROPRIO,
    action_layout,
    obs_layout,
)
from navenv.envs.climb.rewards import RewardState, reward_terms
from navenv.envs.climb.spawn import start_stance
from navenv.envs.ego import EgoVideo
from navenv.envs.grips import NO_HOLD, Grips
from navenv.envs.layout import check_action
from navenv.penetration import deepest_m

BADQACC = int(mujoco.mjtWarning.mjWARN_BADQACC)
FLOOR_REACH = 1.3  # m: no part but a foot reaches lower than this below the pelvis (hands: ~0.9 m)


@dataclass
class _Episode:
    """Per-episode bookkeeping."""

    start_pelvis_z: float = 0.0
    reached: int = 0  # furthest hand-sequence position gripped by a hand so far
    foot_reached: int = 0  # furthest foot-sequence position stood on by a foot so far
    touched: set | None = None  # route positions gripped by any limb so far
    last_good_qpos: np.ndarray | None = None
    last_good_qvel: np.ndarray | None = None


class ClimbRouteEnv(gym.Env):
    """Climb a route: from the start stance, reach the top hold with both hands."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}  # noqa: RUF012 (Gymnasium API)

    # ------------------------------------------------------------------ construction
    def __init__(
        self,
        scene=None,
        route: str | int | None = None,
        scene_split: str | None = None,
        obs: str = "ego",
        control: str = "physics",
        assist: str = "none",
        render_mode: str | None = None,
        width: int = 64,
        height: int = 64,
        frame_skip: int | None = None,
        ego_depth: bool = False,
        render_width: int = 480,
        render_height: int = 360,
        skeleton: Skeleton | None = None,
        config: ClimbConfig | None = None,
    ) -> None:
        _check_choice("obs", obs, OBS_MODES)
        _check_choice("control", control, CONTROL_MODES)
        _check_choice("assist", assist, ASSIST_MODES)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}: expected None or 'rgb_array'")
        if control == "kinematic" and assist != "none":
            raise ValueError(
                "assist='residual' needs control='physics': a kinematic root needs no assist"
            )
        if scene is not None and scene_split is not None:
            raise ValueError("pass either scene=... or scene_split=... (with scene=None), not both")
        for name, v in (
            ("width", width),
            ("height", height),
            ("render_width", render_width),
            ("render_height", render_height),
        ):
            if not isinstance(v, int | np.integer) or v < 8:
                raise ValueError(f"{name}={v!r}: expected an int >= 8")
        cfg = config or ClimbConfig()
        if frame_skip is not None:
            if not isinstance(frame_skip, int | np.integer) or frame_skip < 1:
                raise ValueError(f"frame_skip={frame_skip!r}: expected an int >= 1")
            cfg = ClimbConfig(**{**vars(cfg), "physics_hz": cfg.policy_hz * int(frame_skip)})
        self.config = cfg
        self.obs_mode, self.control, self.assist = obs, control, assist
        self.render_mode = render_mode
        self.width, self.height, self.ego_depth = int(width), int(height), bool(ego_depth)
        self.render_size = (int(render_width), int(render_height))
        self.skeleton = skeleton or Skeleton.builtin()
        self._route_key = route
        self._split = scene_split
        self._split_specs = None
        if scene_split is not None:
            from scenes import splits

            self._split_specs = splits.get(scene_split)
        self._worlds: dict[str, CompiledWorld] = {}
        self._renderer = None
        first = resolve_scene(scene) if scene_split is None else self._split_specs[0].build()
        self._use_world(first, route)

        self.action_layout = action_layout(control, assist)
        self.obs_layout = obs_layout(
            obs, cfg.route_lookahead, cfg.ego_frames, self.height, self.width, self.ego_depth
        )
        self.action_space = spaces.Box(
            -1.0, 1.0, shape=(self.action_layout.size,), dtype=np.float32
        )
        if obs == "state":
            self.observation_space = spaces.Box(
                -np.inf, np.inf, shape=(self.obs_layout.vector.size,), dtype=np.float32
            )
        else:
            parts = {
                "ego_rgb": self.ego.spaces()["ego_rgb"],
                "proprio": spaces.Box(-np.inf, np.inf, shape=(PROPRIO.size,), dtype=np.float32),
                "route": spaces.Box(
                    -np.inf,
                    np.inf,
                    shape=(self.obs_layout.groups["route"].size,),
                    dtype=np.float32,
                ),
            }
            if self.ego_depth:
                parts["ego_depth"] = self.ego.spaces()["ego_depth"]
            self.observation_space = spaces.Dict(parts)
        self._proprio = np.zeros(PROPRIO.size, np.float32)
        self._ep = _Episode()
        self._reward_state = RewardState()

    def _use_world(self, scene, route_key) -> None:
        """Switch to `scene` (compiled once and cached) and the route named by route_key."""
        key = scene.name
        if key not in self._worlds:
            self._worlds[key] = compile_world(scene, self.skeleton, self.config)
        w = self._worlds[key]
        self.world = w
        self.scene = w.scene
        self.model, self.data, self.index = w.model, w.data, w.index
        self.route = self.scene.route(route_key if route_key is not None else 0)
        self.route_view = w.route_view(self.route, self.config.route_lookahead)
        self._climb_box = w.climb_box_for(self.route, self.config.kinematic_root_margin)
        self.grips = Grips(
            self.model,
            self.index,
            w.hold_geoms,
            self.config.capture_radius,
            np.array(
                [self.config.hand_grip_force_limit] * 2 + [self.config.foot_grip_force_limit] * 2
            ),
        )
        self.ego = EgoVideo(
            self.model,
            self.index.head_body,
            self.width,
            self.height,
            self.config.ego_fovy_deg,
            self.config.ego_frames,
            depth=self.ego_depth,
        )
        self.ego_camera = self.ego.camera  # the head camera alone (one frame, no stack)
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self._dt = self.config.frame_skip * self.model.opt.timestep
        self._warnings = self.data.warning.number  # a live view: cheap to read every step

    @property
    def dt(self) -> float:
        """Seconds per env step (the policy period)."""
        return self._dt

    # ------------------------------------------------------------------ reset
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Spawn in the route's start stance; info carries the Scene and the Route."""
        super().reset(seed=seed)
        options = options or {}
        if self._split_specs is not None:
            spec = self._split_specs[int(self.np_random.integers(len(self._split_specs)))]
            scene = spec.build() if spec.name not in self._worlds else self._worlds[spec.name].scene
            route_key = options.get("route", self._route_key)
            if route_key is None:
                route_key = int(self.np_random.integers(len(scene.routes)))
            self._use_world(scene, route_key)
        elif "route" in options:
            self._use_world(self.scene, options["route"])
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        d.qpos[:], d.qvel[:] = self.world.spawn_for(self.route, lambda: self._solve_spawn())
        d.ctrl[self.index.actuators] = d.qpos[self.index.hinge_qpos]
        mujoco.mj_forward(m, d)
        self.grips.set_state(d, self.world.start_holds(self.route))
        mujoco.mj_forward(m, d)
        self._ep = _Episode(
            start_pelvis_z=float(d.xpos[self.index.bodies[0], 2]),
            reached=-1,
            foot_reached=-1,
            touched=set(),
            last_good_qpos=d.qpos.copy(),
            last_good_qvel=d.qvel.copy(),
        )
        self._update_progress()  # the start holds count as reached
        self._reward_state = RewardState(reach_potential=self._reach_distance())
        if self.obs_mode == "ego":
            self.ego.reset(self.data)
        info = self._info(unstable=False, terms=None)
        info.update(
            scene=self.scene,
            route=self.route,
            spawn_error=float(self.world.spawn_error[self.route.id]),
            hinge_range=self.index.hinge_range.copy(),  # radians, (69, 2): how actions normalise
            climb_box=tuple(b.copy() for b in self._climb_box),  # kinematic root normalisation
        )
        return self._observe(), info

    def _solve_spawn(self):
        result = start_stance(self.model, self.data, self.index, self.scene, self.route)
        return self.data.qpos.copy(), np.zeros(self.model.nv), float(result.errors.max(initial=0.0))

    # ------------------------------------------------------------------ step
    def step(self, action):
        """Apply PD targets (or a kinematic pose), grips and assist; advance one policy step."""
        assist_force, warnings_before = self.apply_action(action)
        if self.control == "physics":
            mujoco.mj_step(self.model, self.data, nstep=self.config.frame_skip)
        return self.finish_step(assist_force, warnings_before)

    def apply_action(self, action) -> tuple[float, int]:
        """The part of `step` before the physics: validate, grips, controls (or the kinematic
        pose). Returns (assist force in body weights, warning count) for `finish_step`; split out
        so a batched vector env can step many envs' physics at once in between."""
        a = check_action(action, self.action_space.shape[0])
        d, idx, cfg = self.data, self.index, self.config
        self._ep.last_good_qpos[:] = d.qpos
        self._ep.last_good_qvel[:] = d.qvel
        parts = self.action_layout.split(a)
        lo, hi = idx.hinge_range[:, 0], idx.hinge_range[:, 1]
        targets = lo + (parts["hinge_targets"] + 1.0) * 0.5 * (hi - lo)
        self.grips.command(d, parts["grips"])
        assist_force = 0.0
        if self.control == "physics":
            d.ctrl[idx.actuators] = targets
            if self.assist == "residual":
                force = parts["assist_force"] * cfg.max_assist_force * self.world.body_weight
                d.xfrc_applied[idx.bodies[0], :3] = force
                d.xfrc_applied[idx.bodies[0], 3:] = parts["assist_torque"] * cfg.max_assist_torque
                assist_force = float(np.linalg.norm(force)) / self.world.body_weight
        else:
            self._set_kinematic_pose(targets, parts["root_position"], parts["root_rot6d"])
        return assist_force, int(self._warnings[BADQACC])

    def finish_step(self, assist_force: float, warnings_before: int):
        """The part of `step` after the physics: grip limits, stability, reward, observation."""
        m, d, cfg = self.model, self.data, self.config
        penetration = 0.0
        if self.control == "physics":
            broken = self.grips.enforce_limits(d)
            unstable = self._unstable(warnings_before)
        else:
            broken = np.zeros(4, bool)
            unstable = not np.isfinite(d.qpos).all()
            penetration = deepest_m(d.contact.dist[: d.ncon])
        if unstable:  # never hand out NaN: roll back to the last good state and truncate
            d.qpos[:], d.qvel[:] = self._ep.last_good_qpos, self._ep.last_good_qvel
            mujoco.mj_forward(m, d)

        # bookkeeping, reward, termination
        progressed = self._update_progress()
        reach = self._reach_distance()
        success = self._is_success()
        fall = (not unstable) and self._is_fall()
        terms = reward_terms(
            cfg.rewards,
            self._reward_state,
            progress_delta=progressed / max(self.route_view.n_hand - 1, 1),
            reach_distance=reach,
            grip_fraction=float(self.grips.active.mean()),
            success=success,
            fall=fall,
            effort=float(np.dot(d.actuator_force, d.actuator_force)) * self.dt,
            assist=assist_force * self.dt,
        )
        if self.obs_mode == "ego":
            self.ego.push(self.data)
        info = self._info(unstable=unstable, terms=terms)
        info.update(assist_norm=assist_force, grips_broken=broken, penetration=penetration)
        return (
            self._observe(),
            float(sum(terms.values())),
            bool(success or fall),
            bool(unstable),
            info,
        )

    def _set_kinematic_pose(
        self, hinge_targets: np.ndarray, root_position: np.ndarray, root_rot6d: np.ndarray
    ) -> None:
        """control='kinematic': write the pose, finite-difference velocities, resolve contacts."""
        m, d, idx = self.model, self.data, self.index
        prev = d.qpos.copy()
        centre, half = self._climb_box
        d.qpos[idx.root_qpos.start : idx.root_qpos.start + 3] = centre + root_position * half
        d.qpos[idx.root_qpos.start + 3 : idx.root_qpos.stop] = matrix_to_quat(
            rot6d_to_matrix(root_rot6d.astype(np.float64))
        )
        d.qpos[idx.hinge_qpos] = hinge_targets
        mujoco.mj_differentiatePos(m, d.qvel, self.dt, prev, d.qpos)
        d.time += self.dt
        mujoco.mj_forward(m, d)
        # grips follow the limbs: a kinematic pose does not need the constraint to hold
        for limb in np.flatnonzero(self.grips.active):
            m.eq_data[self.grips.equalities[limb], 3:6] = d.site_xpos[idx.grip_sites[limb]]

    def _unstable(self, warnings_before: int) -> bool:
        """A bad-acceleration warning (MuJoCo then resets the state), non-finite state, or joint
        speeds far beyond anything a body does."""
        d = self.data
        if self._warnings[BADQACC] > warnings_before:
            return True
        qvel = d.qvel
        if not np.isfinite(qvel).all():
            return True
        return bool(np.abs(qvel[self.index.hinge_qvel]).max() > 10 * self.config.max_joint_speed)

    # ------------------------------------------------------------------ observation
    def _observe(self):
        d = self.data
        proprio = obs_mod.proprioception(
            self.model, d, self.index, self.grips, self.config.max_joint_speed, self._proprio
        )
        pelvis = self.index.bodies[0]
        route = self.route_view.observe(
            d.xpos[pelvis],
            d.xmat[pelvis].reshape(3, 3),
            d.site_xpos[self.index.grip_sites],
            self.grips.active,
            self.grips.held,
            self._ep.reached,
            self._ep.foot_reached,
        )
        if self.obs_mode == "state":
            return np.concatenate([proprio, route])
        out = {"ego_rgb": None, "proprio": proprio.copy(), "route": route}
        out.update(self.ego.observe())
        return out

    # ------------------------------------------------------------------ reward helpers
    def _update_progress(self) -> int:
        """Record holds gripped now; returns how many hand-sequence positions the hands advanced."""
        rv, held = self.route_view, self.grips.held
        self._ep.touched.update(
            p for p in (rv.position_of(h) for h in held if h != NO_HOLD) if p >= 0
        )
        hands = [rv.hand_position_of(h) for h in held[:2] if h != NO_HOLD]
        feet = [rv.foot_position_of(h) for h in held[2:] if h != NO_HOLD]
        self._ep.foot_reached = max([self._ep.foot_reached, *feet])
        best = max([-1, *hands])
        advanced = max(0, best - self._ep.reached)
        self._ep.reached = max(self._ep.reached, best)
        if advanced:
            self._reward_state.reach_potential = self._reach_distance()
        return advanced

    def _reach_distance(self) -> float:
        """Distance (m) from the nearest free hand (either hand if both grip) to the next hand hold."""
        target = self.route_view.all_pos[self.route_view.next_hand_hold(self._ep.reached)]
        sites = self.data.site_xpos[self.index.grip_sites[:2]]
        free = ~self.grips.active[:2]
        cand = sites[free] if free.any() else sites
        return float(np.linalg.norm(cand - target, axis=1).min())

    # ------------------------------------------------------------------ termination
    def _is_success(self) -> bool:
        top = self.world.hold_slot[self.route.top]  # scene hold index
        return bool(self.grips.held[0] == top and self.grips.held[1] == top)

    def _is_fall(self) -> bool:
        d = self.data
        pelvis_z = d.xpos[self.index.bodies[0], 2]
        # only a pelvis within FLOOR_REACH of the floor lets a body other than the feet touch it
        if d.ncon and pelvis_z < self.world.floor_z + FLOOR_REACH:
            geoms = d.contact.geom[: d.ncon]
            floor = self.world.is_floor[geoms]
            touching = self.world.is_non_foot[geoms]
            if ((floor[:, 0] & touching[:, 1]) | (floor[:, 1] & touching[:, 0])).any():
                return True
        if self.grips.active.any():
            return False
        return bool(
            d.xpos[self.index.bodies[0], 2] < self._ep.start_pelvis_z - self.config.fall_margin
        )

    # ------------------------------------------------------------------ info, render, close
    def _info(self, unstable: bool, terms: dict | None) -> dict:
        info = {
            "is_success": self._is_success(),
            "route_progress": max(self._ep.reached, 0) / max(self.route_view.n_hand - 1, 1),
            "holds_reached": len(self._ep.touched or ()),
            "grips": self.grips.held.copy(),  # scene hold index per limb, -1 when open
            "assist_norm": 0.0,
            "unstable": unstable,
        }
        for name, value in (terms or {}).items():
            info[f"reward_{name}"] = value
        return info

    def render(self):
        """Third-person RGB from the scene's tripod camera (OpenGL if available, else ray-cast)."""
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            from navenv.render.gl import make_renderer

            self._renderer = make_renderer(self.model, *self.render_size)
        return self._renderer.render(self.data, camera=self.tripod_camera())

    def tripod_camera(self) -> str | None:
        """Name of the camera that films the route: its sector's tripod on a whole-gym scene,
        else the scene's first camera."""
        if self.route.sector is not None and self.scene.sectors:
            cam = self.scene.sector(self.route.sector).camera
            if cam is not None:
                return cam
        return self.scene.cameras[0].name if self.scene.cameras else None

    def close(self) -> None:
        """Release the renderer."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r}: expected one of {choices}")
