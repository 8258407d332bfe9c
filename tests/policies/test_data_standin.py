"""A stand-in for the scripted expert's `plan_climb`, so the data pipeline tests stay fast.

`plan_standin` has plan_climb's signature and returns a plan with its fields: a few seconds from
the route's start stance (solved by the env's own IK) in which the pelvis rises 10 cm, the right
arm swings, and the right hand lets go of its start hold and then takes the route's next hold.
Data tests name it as the generator's planner: "tests.policies.test_data_standin:plan_standin".
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from navenv.body.motion import Motion
from navenv.body.skeleton import Skeleton
from navenv.envs.climb.compiled import compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.spawn import start_stance
from navenv.humanoid import names
from navenv.humanoid.pose import motion_from_qpos

PLANNER = "tests.policies.test_data_standin:plan_standin"
SINKING_PLANNER = "tests.policies.test_data_standin:plan_sinking_first_route"
FPS = 30.0
_SPAWNS: dict[tuple[str, str], np.ndarray] = {}


@dataclass
class StandinPlan:
    """The fields of policies.scripted.ClimbPlan that the data generator reads."""

    motion: Motion
    qpos: np.ndarray  # (T, nq)
    contacts: np.ndarray  # (T, 4) scene hold index per limb, -1 none
    grip: np.ndarray  # (T, 4) bool
    success: bool
    max_penetration: float | None = None  # m; None: the generator measures it


def plan_standin(scene, route, *, seed: int, skeleton: Skeleton | None = None, config=None):
    """A short synthetic climb of `route` (length 60..80 frames, depending on the seed)."""
    skeleton = skeleton or Skeleton.builtin()
    world = compile_world(scene, skeleton, ClimbConfig())
    key = (scene.name, route.id)
    if key not in _SPAWNS:
        start_stance(world.model, world.data, world.index, scene, route)
        _SPAWNS[key] = world.data.qpos.copy()
    q0 = _SPAWNS[key]
    rng = np.random.default_rng(seed)
    t_len = 60 + 10 * int(rng.integers(0, 3))
    phase = np.arange(t_len) / t_len
    qpos = np.repeat(q0[None], t_len, axis=0)
    root = world.index.root_qpos
    qpos[:, root.start + 2] += 0.1 * phase
    shoulder = world.index.hinge_qpos[names.HINGE_NAMES.index("right_shoulder_y")]
    qpos[:, shoulder] += float(rng.uniform(0.2, 0.4)) * np.sin(2 * np.pi * phase)
    contacts = np.repeat(world.start_holds(route)[None], t_len, axis=0)
    nxt = next(h for h in route.holds if h not in route.start.values())
    contacts[t_len // 3 :, 1] = -1
    contacts[2 * t_len // 3 :, 1] = world.hold_slot[nxt]
    motion = motion_from_qpos(qpos, world.index, skeleton, FPS)
    return StandinPlan(motion, qpos, contacts, contacts >= 0, success=False)


def plan_sinking_first_route(
    scene, route, *, seed: int, skeleton: Skeleton | None = None, config=None
) -> StandinPlan:
    """plan_standin, saying its plan sinks 10 cm deep on the scene's first route (5 mm on others)."""
    plan = plan_standin(scene, route, seed=seed, skeleton=skeleton, config=config)
    plan.max_penetration = 0.1 if route.id == scene.routes[0].id else 0.005
    return plan


def test_standin_plan_is_consistent() -> None:
    """qpos, motion and contacts agree: same length, FK of qpos matches the motion's features."""
    import scenes

    scene = scenes.load("wall_vertical_01")
    route = scene.routes[0]
    plan = plan_standin(scene, route, seed=3)
    t = len(plan.motion)
    assert plan.qpos.shape[0] == t and plan.contacts.shape == (t, 4)
    assert (plan.contacts[0] >= 0).all()  # starts in the start stance on four holds
    assert plan.contacts[t // 2, 1] == -1 and plan.contacts[-1, 1] >= 0
    world = compile_world(scene, Skeleton.builtin(), ClimbConfig())
    back = motion_from_qpos(plan.qpos, world.index, Skeleton.builtin(), FPS)
    np.testing.assert_allclose(back.to_features(), plan.motion.to_features(), atol=1e-6)
    data = mujoco.MjData(world.model)
    data.qpos[:] = plan.qpos[0]
    mujoco.mj_kinematics(world.model, data)
    lh = data.site_xpos[world.index.grip_sites[0]]
    hold = scene.holds[plan.contacts[0, 0]]
    assert np.linalg.norm(lh - np.asarray(hold.position)) < 0.15  # hand at its start hold


def tiny_config(**overrides):
    """A GenerateConfig small enough for unit tests: 6 clips of 2 s at 10 fps, 16 x 16 pixels."""
    from policies.data import GenerateConfig

    kw = dict(
        episodes=6,
        shard_size=2,
        width=16,
        height=16,
        fps=10.0,
        clip_seconds=2.0,
        clips_per_plan=2,
        max_context=8,
        planner=PLANNER,
    )
    kw.update(overrides)
    return GenerateConfig(**kw)
