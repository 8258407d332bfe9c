"""RoomNav-v0: the SMPL humanoid walks to a goal in a room while an observer films it.

Reads top to bottom: constants, construction (world, then spaces), reset, step, observation,
reward, termination. Layouts: navenv.envs.room.layout (`env.unwrapped.action_layout` /
`.obs_layout`). Values outside [-1, 1] are clipped; NaN/inf raises ValueError naming the indices.

Reset options (all optional): ``goal`` (a label such as "sofa", or a scene region index),
``observer`` (one of OBSERVER_MODES), ``observer_at`` ((x, y) where the observer starts),
``spawn`` ((x, y, yaw) of the pelvis on the floor, or
"scene" for the scene's own spawn).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from navenv.body.rotations import matrix_to_quat, rot6d_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.envs.ego import EgoVideo
from navenv.envs.layout import ASSIST_MODES, CONTROL_MODES, check_action
from navenv.envs.proprio import fill_body
from navenv.envs.room.compiled import (
    OBSERVER_CAMERA,
    Goal,
    RoomWorld,
    compile_room,
    resolve_scene,
)
from navenv.envs.room.config import OBSERVER_MODES, RoomConfig
from navenv.envs.room.layout import OBS_MODES, action_layout, obs_layout
from navenv.envs.room.observer import Observer
from navenv.envs.room.occupancy import EgoCrop
from navenv.envs.room.rewards import RewardState, reward_terms
from navenv.penetration import deepest_m
from scenes.navigation import GOAL_LABELS

BADQACC = int(mujoco.mjtWarning.mjWARN_BADQACC)
RENDER_CAMERAS: tuple[str, ...] = ("tripod", "observer")
RESET_OPTIONS: tuple[str, ...] = ("goal", "observer", "observer_at", "spawn")
SPAWN_TRIES = 50
FLOOR_CONTACT_M = 0.05  # contacts this low with a near-vertical normal are on the floor
FLOOR_NORMAL_Z = 0.9
SPAWN_CLEARANCE_M = 0.15  # random spawns keep this much free floor around the body's margin
OBSERVER_SPAWN_M = (1.5, 4.0)  # the observer starts this far (m) from the agent
# Standing rest pose: arms hang at the sides instead of SMPL's T-pose (radians).
STAND_HINGES = {"left_shoulder_y": 1.25, "right_shoulder_y": -1.25}


@dataclass
class _Episode:
    """Per-episode bookkeeping."""

    goal: Goal | None = None
    start_distance: float = 0.0  # geodesic distance (m) from the spawn to the goal area
    path_length: float = 0.0  # m walked by the pelvis (floor projection)
    collision_s: float = 0.0
    last_xy: np.ndarray | None = None
    last_good_qpos: np.ndarray | None = None
    last_good_qvel: np.ndarray | None = None


class RoomNavEnv(gym.Env):
    """Walk to a goal (a labelled piece of furniture or region) in a room, filmed by an observer."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}  # noqa: RUF012 (Gymnasium API)

    # ------------------------------------------------------------------ construction
    def __init__(
        self,
        scene=None,
        scene_split: str | None = None,
        obs: str = "ego",
        control: str = "kinematic",
        assist: str = "none",
        render_mode: str | None = None,
        width: int = 64,
        height: int = 64,
        ego_depth: bool = False,
        render_width: int = 480,
        render_height: int = 360,
        render_camera: str = "tripod",
        skeleton: Skeleton | None = None,
        config: RoomConfig | None = None,
    ) -> None:
        for name, value, choices in (
            ("obs", obs, OBS_MODES),
            ("control", control, CONTROL_MODES),
            ("assist", assist, ASSIST_MODES),
            ("render_camera", render_camera, RENDER_CAMERAS),
        ):
            if value not in choices:
                raise ValueError(f"{name}={value!r}: expected one of {choices}")
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
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 8:
                raise ValueError(f"{name}={v!r}: expected an int >= 8")
        self.config = cfg = config or RoomConfig()
        self.obs_mode, self.control, self.assist = obs, control, assist
        self.render_mode, self.render_camera = render_mode, render_camera
        self.width, self.height, self.ego_depth = int(width), int(height), bool(ego_depth)
        self.render_size = (int(render_width), int(render_height))
        self.skeleton = skeleton or Skeleton.builtin()
        self._split_specs = None
        if scene_split is not None:
            from scenes import splits

            self._split_specs = splits.get(scene_split)
            if self._split_specs[0].generator not in ("room", "scan"):
                raise ValueError(
                    f"scene_split={scene_split!r} holds climbing walls; RoomNav needs a room split "
                    f"({', '.join(n for n in splits.names() if n.startswith('rooms'))})"
                )
        self._worlds: dict[str, RoomWorld] = {}
        self._renderer = None
        self._observer_cam = None
        first = resolve_scene(scene) if scene_split is None else self._split_specs[0].build()
        self.crop = EgoCrop(
            cfg.crop_cells, cfg.crop_cell_m, cfg.crop, cfg.voxel_layers, cfg.voxel_height_m
        )
        self._use_world(first)

        self.action_layout = action_layout(control, assist)
        self.obs_layout = obs_layout(
            obs,
            cfg.history_frames,
            cfg.crop,
            cfg.crop_cells,
            cfg.voxel_layers,
            cfg.ego_frames,
            self.height,
            self.width,
            self.ego_depth,
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
                name: spaces.Box(-np.inf, np.inf, shape=(g.size,), dtype=np.float32)
                for name, g in self.obs_layout.groups.items()
            }
            parts.update(self.ego.spaces())
            self.observation_space = spaces.Dict(parts)
        self._groups = {
            name: np.zeros(g.size, np.float32) for name, g in self.obs_layout.groups.items()
        }
        self._slices = {
            name: {n: f.slice for n, f in g.fields.items()}
            for name, g in self.obs_layout.groups.items()
        }
        n_hist = (cfg.history_frames - 1) * cfg.history_stride + 1
        self._agent_hist = np.zeros((n_hist, 3))  # (x, y, yaw) per env step, a ring buffer
        self._observer_hist = np.zeros((n_hist, 3))
        self._hist_head = 0
        self._hist_pick = np.arange(cfg.history_frames) * cfg.history_stride  # oldest first
        self._ep = _Episode()
        self._reward_state = RewardState()

    def _use_world(self, scene) -> None:
        """Switch to `scene` (compiled once and cached)."""
        if scene.name not in self._worlds:
            self._worlds[scene.name] = compile_room(scene, self.skeleton, self.config)
        w = self._worlds[scene.name]
        self.world, self.scene = w, w.scene
        self.model, self.data, self.index = w.model, w.data, w.index
        self.observer = Observer(w.nav, self.config.observer_speed, self.config.observer_distance)
        self.ego = EgoVideo(
            self.model,
            self.index.head_body,
            self.width,
            self.height,
            self.config.ego_fovy_deg,
            self.config.ego_frames,
            depth=self.ego_depth,
        )
        self.ego_camera = self.ego.camera
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self._observer_cam = None
        self._dt = self.config.frame_skip * self.model.opt.timestep
        self._warnings = self.data.warning.number
        self._stand = np.zeros(len(self.index.hinge_qpos))
        for name, angle in STAND_HINGES.items():
            j = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, name)
            self._stand[list(self.index.hinge_qpos).index(self.model.jnt_qposadr[j])] = angle

    @property
    def dt(self) -> float:
        """Seconds per env step (the policy period)."""
        return self._dt

    # ------------------------------------------------------------------ reset
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Spawn standing, draw a goal and an observer behaviour; info carries Scene and goal."""
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - set(RESET_OPTIONS)
        if unknown:
            raise ValueError(
                f"reset options {sorted(unknown)}: accepted {', '.join(RESET_OPTIONS)}"
            )
        if self._split_specs is not None:
            spec = self._split_specs[int(self.np_random.integers(len(self._split_specs)))]
            scene = self._worlds[spec.name].scene if spec.name in self._worlds else spec.build()
            self._use_world(scene)
        rng, w = self.np_random, self.world
        xy, yaw = self._draw_spawn(options.get("spawn"))
        goal = self._draw_goal(options.get("goal"), xy)
        mode = options.get("observer")
        if mode is None:
            mode = str(rng.choice(self.config.observer_modes))
        elif mode not in OBSERVER_MODES:
            raise ValueError(f"reset option observer={mode!r}: expected one of {OBSERVER_MODES}")
        at = options.get("observer_at")
        if at is not None:
            at = np.asarray(at, float).reshape(-1)
            if at.shape != (2,) or not np.isfinite(at).all():
                raise ValueError(
                    f"reset option observer_at={options['observer_at']!r}: expected (x, y)"
                )
        else:
            at = self._draw_observer_spawn(xy)
        self.observer.reset(mode, at, 0.0, xy, rng)
        self.observer.step(0.0, xy)

        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        self._write_observer()
        d.qpos[self.index.hinge_qpos] = self._stand
        d.qpos[self.index.root_qpos.start : self.index.root_qpos.start + 3] = [
            xy[0],
            xy[1],
            self._stand_height(),
        ]
        d.qpos[self.index.root_qpos.start + 3 : self.index.root_qpos.stop] = [
            math.cos(yaw / 2),
            0.0,
            0.0,
            math.sin(yaw / 2),
        ]
        d.ctrl[self.index.actuators] = self._stand
        mujoco.mj_forward(m, d)
        dist = float(w.goal_field(goal).at(xy))
        self._ep = _Episode(
            goal=goal,
            start_distance=dist,
            last_xy=np.array(xy, float),
            last_good_qpos=d.qpos.copy(),
            last_good_qvel=d.qvel.copy(),
        )
        self._reward_state = RewardState(distance=dist)
        self._agent_hist[:] = [*xy, yaw]
        self._observer_hist[:] = [*self.observer.xy, self.observer.yaw]
        if self.obs_mode == "ego":
            self.ego.reset(d)
        info = self._info(unstable=False, terms=None)
        info.update(
            scene=self.scene,
            goal_region=goal.region,
            goal_approach=goal.approach.copy(),
            start_distance=dist,
            hinge_range=self.index.hinge_range.copy(),
            room_box=tuple(b.copy() for b in w.room_box),
            stand_hinges=self._stand.copy(),
            dt=self.dt,
            obs_layout=self.obs_layout,
            action_layout=self.action_layout,
            assist_limits=(
                self.config.max_assist_force * w.body_weight,
                self.config.max_assist_torque,
            ),
        )
        return self._observe(), info

    def set_goal(self, goal) -> dict:
        """Send the agent to a new goal mid-episode (a label or a scene region index, as the
        reset option): long episodes chain goals. Returns the goal's region and approach."""
        xy, _ = self._agent_pose()
        goal = self._draw_goal(goal, xy)
        self._ep.goal = goal
        dist = float(self.world.goal_field(goal).at(xy))
        self._ep.start_distance = dist
        self._reward_state.distance = dist
        return {
            "goal_region": goal.region,
            "goal_approach": goal.approach.copy(),
            "start_distance": dist,
        }

    def _stand_height(self) -> float:
        """Pelvis height of the standing body: the lowest sole point on the floor."""
        return float(self.skeleton.offsets[0][2] - self.skeleton.sole_height)

    def _draw_spawn(self, spawn) -> tuple[np.ndarray, float]:
        nav = self.world.nav
        if spawn == "scene" and self.scene.spawn is not None:
            s = self.scene.spawn
            return nav.nearest_walkable(np.asarray(s.pos[:2], float)), float(s.yaw)
        if spawn is not None and spawn != "scene":
            v = np.asarray(spawn, float).reshape(-1)
            if v.shape != (3,) or not np.isfinite(v).all():
                raise ValueError(f"reset option spawn={spawn!r}: expected (x, y, yaw) or 'scene'")
            if not nav.is_walkable(v[:2]):
                raise ValueError(
                    f"reset option spawn: ({v[0]:.2f}, {v[1]:.2f}) is not walkable in {self.scene.name!r}"
                )
            return v[:2].copy(), float(v[2])
        # A room can have cut-off pockets: draw until some goal is reachable from the spawn.
        for _ in range(SPAWN_TRIES):
            xy = nav.sample_free(self.np_random, 1, min_clearance=SPAWN_CLEARANCE_M)[0]
            if any(np.isfinite(self.world.goal_field(g).at(xy)) for g in self.world.goals):
                break
        return xy, float(self.np_random.uniform(-math.pi, math.pi))

    def _draw_goal(self, choice, xy: np.ndarray) -> Goal:
        goals = self.world.goals
        if isinstance(choice, str):
            pool = [g for g in goals if g.region.label == choice]
            if not pool:
                labels = sorted({g.region.label for g in goals})
                raise ValueError(
                    f"reset option goal={choice!r}: scene {self.scene.name!r} has goals {labels}"
                )
        elif choice is not None:
            pool = [g for g in goals if g.index == int(choice)]
            if not pool:
                raise ValueError(
                    f"reset option goal={choice!r}: regions with a goal are "
                    f"{[g.index for g in goals]}"
                )
        else:  # reachable goals the agent is not already at
            pool = [
                g
                for g in goals
                if self.config.success_radius + 0.5 < self.world.goal_field(g).at(xy) < np.inf
            ] or goals
        return pool[int(self.np_random.integers(len(pool)))]

    def _draw_observer_spawn(self, agent_xy: np.ndarray) -> np.ndarray:
        pts = self.world.nav.free_points()
        d = np.linalg.norm(pts - agent_xy, axis=1)
        lo, hi = OBSERVER_SPAWN_M
        pool = pts[(d >= lo) & (d <= hi)]
        if not len(pool):
            pool = pts[d >= np.median(d)]
        return pool[int(self.np_random.integers(len(pool)))]

    # ------------------------------------------------------------------ step
    def step(self, action):
        """Apply PD targets (or a kinematic pose) and assist; move the observer; one policy step."""
        a = check_action(action, self.action_space.shape[0])
        m, d, idx, cfg = self.model, self.data, self.index, self.config
        self._ep.last_good_qpos[:] = d.qpos
        self._ep.last_good_qvel[:] = d.qvel
        parts = self.action_layout.split(a)
        lo, hi = idx.hinge_range[:, 0], idx.hinge_range[:, 1]
        targets = lo + (parts["hinge_targets"] + 1.0) * 0.5 * (hi - lo)
        self.observer.step(self.dt, d.xpos[idx.bodies[0], :2])
        self._write_observer()
        assist_force = 0.0
        warnings_before = int(self._warnings[BADQACC])
        if self.control == "physics":
            d.ctrl[idx.actuators] = targets
            if self.assist == "residual":
                force = parts["assist_force"] * cfg.max_assist_force * self.world.body_weight
                d.xfrc_applied[idx.bodies[0], :3] = force
                d.xfrc_applied[idx.bodies[0], 3:] = parts["assist_torque"] * cfg.max_assist_torque
                assist_force = float(np.linalg.norm(force)) / self.world.body_weight
            mujoco.mj_step(m, d, nstep=cfg.frame_skip)
            unstable = self._unstable(warnings_before)
            penetration = 0.0
        else:
            self._set_kinematic_pose(targets, parts["root_position"], parts["root_rot6d"])
            unstable = not np.isfinite(d.qpos).all()
            penetration = deepest_m(d.contact.dist[: d.ncon])
        if unstable:  # never hand out NaN: roll back to the last good state and truncate
            d.qpos[:], d.qvel[:] = self._ep.last_good_qpos, self._ep.last_good_qvel
            mujoco.mj_forward(m, d)

        xy, yaw = self._agent_pose()
        self._push_history(xy, yaw)
        self._ep.path_length += float(np.linalg.norm(xy - self._ep.last_xy))
        self._ep.last_xy = xy
        touching = self._touching_obstacle()
        self._ep.collision_s += self.dt * touching
        distance = float(self.world.goal_field(self._ep.goal).at(xy))
        success = distance <= cfg.success_radius
        fall = (not unstable) and self._is_fall()
        effort = float(np.dot(d.actuator_force, d.actuator_force)) * self.dt
        terms = reward_terms(
            cfg.rewards,
            self._reward_state,
            distance=distance,
            success=success,
            collision=self.dt * touching,
            fall=fall,
            effort=effort if self.control == "physics" else 0.0,
            assist=assist_force * self.dt,
        )
        if self.obs_mode == "ego":
            self.ego.push(d)
        info = self._info(unstable=unstable, terms=terms)
        info.update(assist_norm=assist_force, penetration=penetration, collision=bool(touching))
        return self._observe(), float(sum(terms.values())), bool(success or fall), unstable, info

    def _set_kinematic_pose(
        self, hinge_targets: np.ndarray, root_position: np.ndarray, root_rot6d: np.ndarray
    ) -> None:
        """control='kinematic': write the pose, finite-difference velocities, resolve contacts."""
        m, d, idx = self.model, self.data, self.index
        prev = d.qpos.copy()
        centre, half = self.world.room_box
        d.qpos[idx.root_qpos.start : idx.root_qpos.start + 3] = centre + root_position * half
        d.qpos[idx.root_qpos.start + 3 : idx.root_qpos.stop] = matrix_to_quat(
            rot6d_to_matrix(root_rot6d.astype(np.float64))
        )
        d.qpos[idx.hinge_qpos] = hinge_targets
        mujoco.mj_differentiatePos(m, d.qvel, self.dt, prev, d.qpos)
        d.time += self.dt
        mujoco.mj_forward(m, d)

    def _write_observer(self) -> None:
        ob, d = self.observer, self.data
        d.mocap_pos[self.world.observer_mocap] = [ob.xy[0], ob.xy[1], 0.0]
        d.mocap_quat[self.world.observer_mocap] = [
            math.cos(ob.yaw / 2),
            0.0,
            0.0,
            math.sin(ob.yaw / 2),
        ]

    def _unstable(self, warnings_before: int) -> bool:
        """A bad-acceleration warning, non-finite state, or joint speeds no body reaches."""
        d = self.data
        if self._warnings[BADQACC] > warnings_before or not np.isfinite(d.qvel).all():
            return True
        return bool(np.abs(d.qvel[self.index.hinge_qvel]).max() > 10 * self.config.max_joint_speed)

    # ------------------------------------------------------------------ observation
    def _agent_pose(self) -> tuple[np.ndarray, float]:
        """Pelvis floor point (2,) and heading yaw (rest faces -y)."""
        pelvis = self.index.bodies[0]
        rot = self.data.xmat[pelvis].reshape(3, 3)
        facing = -rot[:2, 1]  # the body's -y axis in the world, levelled
        return self.data.xpos[pelvis, :2].copy(), math.atan2(facing[0], -facing[1])

    def _push_history(self, xy: np.ndarray, yaw: float) -> None:
        self._agent_hist[self._hist_head] = [*xy, yaw]
        self._observer_hist[self._hist_head] = [*self.observer.xy, self.observer.yaw]
        self._hist_head = (self._hist_head + 1) % len(self._agent_hist)

    def _history(self, ring: np.ndarray, xy: np.ndarray, yaw: float) -> np.ndarray:
        """(frames, 4) ring entries at the history rate, oldest first, in the heading frame."""
        rows = ring[(self._hist_pick + self._hist_head) % len(ring)]  # the ring rolled to its head
        f = np.array([math.sin(yaw), -math.cos(yaw)])
        left = np.array([-f[1], f[0]])
        rel = rows[:, :2] - xy
        dyaw = rows[:, 2] - yaw
        return np.column_stack([rel @ f, rel @ left, np.cos(dyaw), np.sin(dyaw)])

    def _observe(self):
        d, g, s = self.data, self._groups, self._slices
        fill_body(d, self.index, self.config.max_joint_speed, g["proprio"], s["proprio"])
        xy, yaw = self._agent_pose()
        goal = self._ep.goal
        f = np.array([math.sin(yaw), -math.cos(yaw)])
        rel = np.asarray(goal.region.center[:2]) - xy
        gs = s["goal"]
        g["goal"][gs["goal_position"]] = [
            rel @ f,
            rel @ np.array([-f[1], f[0]]),
            goal.region.center[2],
        ]
        g["goal"][gs["goal_distance"]] = min(self._reward_state.distance, 1e3)
        onehot = np.zeros(len(GOAL_LABELS), np.float32)
        onehot[goal.label_id] = 1.0
        g["goal"][gs["goal_label"]] = onehot
        g["gps"][s["gps"]["position"]] = d.xpos[self.index.bodies[0]]
        g["gps"][s["gps"]["heading"]] = [math.cos(yaw), math.sin(yaw)]
        g["gps"][s["gps"]["orientation"]] = d.xquat[self.index.bodies[0]]
        g["observer"][:] = self._history(self._observer_hist, xy, yaw).reshape(-1)
        g["past"][:] = self._history(self._agent_hist, xy, yaw).reshape(-1)
        g["scene"][:] = self.crop.crop(self.world.occupancy, xy, yaw).reshape(-1)
        if self.obs_mode == "state":
            return np.concatenate(list(g.values()))
        out = {k: v.copy() for k, v in g.items()}
        out.update(self.ego.observe())
        return out

    # ------------------------------------------------------------------ termination helpers
    def _floor_like(self) -> np.ndarray:
        """(ncon,) bool: contacts on the floor. A scan's floor is part of its mesh, not a plane:
        a contact at floor height with a vertical normal is a floor contact whatever the geom."""
        c = self.data.contact
        n = self.data.ncon
        return (c.pos[:n, 2] < FLOOR_CONTACT_M) & (np.abs(c.frame[:n, 2]) > FLOOR_NORMAL_Z)

    def _touching_obstacle(self) -> bool:
        d = self.data
        if not d.ncon:
            return False
        geoms = d.contact.geom[: d.ncon]
        hum = self.world.is_humanoid[geoms]
        obst = self.world.is_obstacle[geoms]
        hit = ((hum[:, 0] & obst[:, 1]) | (hum[:, 1] & obst[:, 0])) & ~self._floor_like()
        return bool(hit.any())

    def _is_fall(self) -> bool:
        d = self.data
        if d.xpos[self.index.bodies[0], 2] < self.config.fall_height:
            return True
        if d.ncon:
            geoms = d.contact.geom[: d.ncon]
            floor = self.world.is_floor[geoms] | self._floor_like()[:, None]
            touching = self.world.is_non_foot[geoms]
            if ((floor[:, 0] & touching[:, 1]) | (floor[:, 1] & touching[:, 0])).any():
                return True
        return False

    # ------------------------------------------------------------------ info, render, close
    def _info(self, unstable: bool, terms: dict | None) -> dict:
        xy, yaw = self._agent_pose()
        goal = self._ep.goal
        info = {
            "is_success": self._reward_state.distance <= self.config.success_radius,
            "goal_label": goal.region.label,
            "goal_label_id": goal.label_id,
            "goal_index": goal.index,
            "goal_distance": self._reward_state.distance,
            "start_distance": self._ep.start_distance,
            "path_length": self._ep.path_length,
            "collision_s": self._ep.collision_s,
            "agent_xy": xy,
            "agent_yaw": yaw,
            "observer_mode": self.observer.mode,
            "observer_xy": self.observer.xy.copy(),
            "observer_yaw": self.observer.yaw,
            "assist_norm": 0.0,
            "unstable": unstable,
        }
        for name, value in (terms or {}).items():
            info[f"reward_{name}"] = value
        return info

    def render(self):
        """Third-person RGB: the scene's tripod camera, or the observer's (render_camera)."""
        if self.render_mode != "rgb_array":
            return None
        if self.render_camera == "observer":
            return self.observer_view(*self.render_size)
        if self._renderer is None:
            from navenv.render.gl import make_renderer

            self._renderer = make_renderer(self.model, *self.render_size)
        cam = self.scene.cameras[0].name if self.scene.cameras else None
        return self._renderer.render(self.data, camera=cam)

    def observer_view(self, width: int = 160, height: int = 120) -> np.ndarray:
        """What the observer's camera sees now: (height, width, 3) uint8, ray-cast (no OpenGL)."""
        from navenv.render.raycast import RayCastCamera

        cam = self._observer_cam
        if cam is None or (cam.width, cam.height) != (width, height):
            cam = self._observer_cam = RayCastCamera(
                self.model,
                int(width),
                int(height),
                self.config.ego_fovy_deg,
                camera=OBSERVER_CAMERA,
                bodyexclude=self.world.observer_body,
            )
        return cam.render(self.data)

    def close(self) -> None:
        """Release the renderer."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
