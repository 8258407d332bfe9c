"""Seeded rollouts of policies in ClimbRoute-v0, recorded for scoring.

One `EpisodeTask` names everything an episode depends on (policy, split, scene spec, route,
seed), so an episode can run in any process and give the same record. Policies are made by name
through `policies.registry`, which also says how the env must be made for each. `run_episode`
steps the env with the policy and keeps what the metrics need: the grip timeline (which limb holds
which hold), joint positions, assist, falls, progress, and, for policies that follow a reference
motion, that reference.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

import navenv  # noqa: F401  (registers ClimbRoute-v0)
from navenv.body.joints import JOINT_INDEX
from navenv.humanoid.index import HumanoidIndex
from navenv.render.overlay import draw_ghost
from navenv.video import Mp4Stream, inset
from policies.registry import make_policy as registry_make_policy
from policies.registry import policy_env_kwargs
from scenes.splits import SceneSpec

VIDEO_SIZE: tuple[int, int] = (320, 240)
"""Width, height of `EpisodeTask.video` mp4s (smaller than filmed frames: every policy gets one)."""
VIDEO_STRIDE = 2
"""`EpisodeTask.video` keeps every second env step: 15 fps at the env's 30 Hz."""
GHOST_S = 1.0
"""Seconds of a policy's plan drawn over filmed frames: the body it will be in (the ghost) and
the paths of its hands until then."""
_HANDS = [JOINT_INDEX["left_hand"], JOINT_INDEX["right_hand"]]

POLICIES: tuple[str, ...] = ("random", "scripted_kinematic", "scripted_physics")
"""The built-in policies a suite runs by default; any policies.registry name or ``module:Class``
string also runs (see `make_policy`)."""


@dataclass(frozen=True)
class EpisodeTask:
    """One episode to run."""

    policy: str
    split: str
    spec: SceneSpec
    route: str
    seed: int
    max_steps: int = 1800
    record_frames: bool = False  # keep tripod + ego frames for a video
    assist: str | None = None  # overrides a physics policy's assist mode ("none", "residual")
    adherence: bool = False  # also plan the expert on this route and seed, to score against
    video: str | None = None  # write this mp4 of the climb (VIDEO_SIZE, every VIDEO_STRIDE steps)

    @property
    def label(self) -> str:
        """The policy's name in tables: with its assist mode when that was overridden."""
        return self.policy if self.assist is None else f"{self.policy}[assist={self.assist}]"


@dataclass
class EpisodeRecord:
    """What one episode produced (arrays per env step)."""

    task: EpisodeTask
    success: bool
    fell: bool
    truncated: bool
    steps: int
    route_progress: float
    holds_reached: int
    mean_assist: float  # body weights
    total_reward: float
    grips: np.ndarray  # (T, 4) scene hold index per limb, -1 open
    joints: np.ndarray  # (T, 24, 3) metres
    route_holds: np.ndarray  # (R,) scene hold indices in route order
    hold_positions: np.ndarray  # (H, 3)
    reference_joints: np.ndarray | None  # (T, 24, 3) the plan being tracked, if any
    max_penetration: float  # metres
    wall_seconds: float
    frames: list = field(default_factory=list)  # (tripod, ego) pairs when recorded
    expert_joints: np.ndarray | None = None  # (T, 24, 3) the expert's plan, same route and seed


def env_kwargs(policy: str) -> dict:
    """How the env is made for a policy (policies.registry: built-in, entry point or module:Class)."""
    return policy_env_kwargs(policy)


def make_policy(name: str, env: gym.Env):
    """A fresh policy by registry name (or ``module:Class``), for `env`."""
    return registry_make_policy(name, env)


def run_episode(
    task: EpisodeTask,
    render_size: tuple[int, int] = (480, 360),
    on_frame: Callable[[], None] | None = None,
) -> EpisodeRecord:
    """Run one seeded episode and record it; `on_frame` is called after each recorded frame
    (progress for slow filming)."""
    start = time.perf_counter()
    scene = task.spec.build()
    kwargs = env_kwargs(task.policy)
    if task.assist is not None and kwargs.get("control") == "physics":
        kwargs["assist"] = task.assist
    if task.record_frames or task.video:
        size = render_size if task.record_frames else VIDEO_SIZE
        kwargs.update(render_mode="rgb_array", render_width=size[0], render_height=size[1])
    env = gym.make(
        "ClimbRoute-v0", scene=scene, route=task.route, max_episode_steps=task.max_steps, **kwargs
    )
    u = env.unwrapped
    policy = make_policy(task.policy, env)
    obs, info = env.reset(seed=task.seed)
    info_reset = info
    policy.reset(seed=task.seed, info=info)
    index = HumanoidIndex.from_model(u.model)
    grips, joints, assists, frames = (
        [info["grips"].copy()],
        [u.data.xpos[index.bodies].copy()],
        [],
        [],
    )
    penetration, total, terminated, truncated = 0.0, 0.0, False, False
    stream = Mp4Stream(task.video, 1.0 / (u.dt * VIDEO_STRIDE)) if task.video else None
    filming = [0.0]  # s spent rendering: left out of the episode's wall time

    def film(step: int) -> None:
        streamed = stream is not None and step % VIDEO_STRIDE == 0
        if not (task.record_frames or streamed):
            return
        t0 = time.perf_counter()
        pair = _frame_pair(env, policy)
        if task.record_frames:
            frames.append(pair)
            if on_frame is not None:
                on_frame()
        if streamed:
            stream.append(inset(*pair, scale=1))
        filming[0] += time.perf_counter() - t0

    try:
        film(0)
        while not (terminated or truncated):
            obs, reward, terminated, truncated, info = env.step(policy.act(obs))
            total += reward
            grips.append(info["grips"].copy())
            joints.append(u.data.xpos[index.bodies].copy())
            assists.append(info["assist_norm"])
            penetration = max(penetration, info["penetration"])
            film(len(assists))
    except BaseException:
        if stream is not None:
            stream.abort()
        raise
    if stream is not None:
        stream.close()
    reference = getattr(policy, "reference_joints", None)
    steps = len(grips) - 1
    record = EpisodeRecord(
        task=task,
        success=bool(info["is_success"]),
        fell=bool(terminated and not info["is_success"]),
        truncated=bool(truncated),
        steps=steps,
        route_progress=float(info["route_progress"]),
        holds_reached=int(info["holds_reached"]),
        mean_assist=float(np.mean(assists)) if assists else 0.0,
        total_reward=float(total),
        grips=np.asarray(grips),
        joints=np.asarray(joints),
        route_holds=np.array([u.world.hold_slot[h] for h in u.route.holds]),
        hold_positions=np.array([h.position for h in u.scene.holds]),
        reference_joints=None if reference is None else np.asarray(reference(len(grips))),
        max_penetration=penetration,
        wall_seconds=time.perf_counter() - start - filming[0],
        frames=frames,
        expert_joints=_expert_joints(u, info_reset, task.seed, len(grips))
        if task.adherence
        else None,
    )
    env.close()
    return record


def _expert_joints(env, info: dict, seed: int, n: int) -> np.ndarray:
    """(n, 24, 3) joint positions (m) of the scripted expert's plan for the episode's route and
    seed, one plan frame per env step (as the kinematic expert replays it; the last repeats)."""
    from policies.scripted import ScriptedClimber

    expert = ScriptedClimber(control="kinematic", env_config=env.config)
    expert.reset(seed=seed, info=info)
    return expert.plan_joints(np.arange(n))


def _frame_pair(env, policy=None) -> tuple[np.ndarray, np.ndarray]:
    """(tripod RGB, ego RGB) of the current state; the tripod view with the policy's plan for
    the next GHOST_S drawn over it, for a policy with `plan_ahead` and a plan to draw."""
    u = env.unwrapped
    tripod = env.render()
    camera = u.tripod_camera()
    if camera is not None and callable(getattr(policy, "plan_ahead", None)):
        try:
            plan = policy.plan_ahead(GHOST_S)  # (N, 24, 3)
        except RuntimeError:  # nothing planned yet (the reset frame)
            plan = None
        if plan is not None:
            tripod = draw_ghost(tripod, u.model, u.data, camera, plan[-1], plan[:, _HANDS])
    return tripod, u.ego_camera.render(u.data)
