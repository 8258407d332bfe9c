"""Byte pins: seeded rollouts, a seeded expert plan and a one-episode dataset give the same bytes
as they did before the package restructuring (issue 12). A change that moves code must not move
numbers; a deliberate behaviour change updates these digests in the same commit and says why.

Regenerate the digests with ``python -m tests.test_pinned_bytes`` (prints the platform and one
line per pin); they are checked only on the platform they were made on (see PLATFORM).
"""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np
import pytest

import navenv  # noqa: F401  (registers ClimbRoute-v0)
import scenes

PINS = {
    "random_physics_ego": "1df6453aa3797841",
    "random_kinematic_state": "0b5fab655dcb2ee1",
    "expert_plan": "bc260263e488c9a0",
    "expert_physics_residual": "096dc1830dd65332",
    "expert_kinematic": "4a7b15d37fbc2e5d",
    "dataset_one_episode": "a6bc9107378b5ec6",
}
PLATFORM = "x86_64 | AMD EPYC | mujoco 4.0.1 | numpy 2.4.6 | scipy 1.17.1"
"""Where PINS were made. Floating-point bytes hold on one CPU and library build, not across
them: on 2026-12-07 the digests of 2026-12-06 all moved on a new VM (an AMD EPYC, fresh
wheels) with the code of both days, which gave each other's bytes there. Elsewhere the pins
skip, saying why: regenerate them on the machine a refactor is checked on."""


def platform_key() -> str:
    """CPU and the numeric libraries' versions, as PLATFORM spells them."""
    import platform
    from importlib.metadata import version

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    libs = " | ".join(f"{p} {version(p)}" for p in ("mujoco", "numpy", "scipy"))
    return f"{platform.machine()} | {cpu} | {libs}"


@pytest.fixture(autouse=True)
def _same_platform() -> None:
    here = platform_key()
    if here != PLATFORM:
        pytest.skip(f"byte pins were made on '{PLATFORM}', this is '{here}'")


def _digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    return h.hexdigest()[:16]


def _flat(obs) -> list[np.ndarray]:
    if isinstance(obs, dict):
        return [np.asarray(obs[k]) for k in sorted(obs)]
    return [np.asarray(obs)]


def _rollout(env, actions, seed: int) -> str:
    obs, info = env.reset(seed=seed)
    out = _flat(obs)
    for a in actions:
        obs, reward, term, trunc, info = env.step(a)
        out += [*_flat(obs), np.float64(reward), np.bool_(term), np.bool_(trunc)]
        out += [np.asarray(info["grips"]), np.float64(info["route_progress"])]
    return _digest(out)


def random_physics_ego() -> str:
    """Ego observations, physics control, residual assist, seeded random actions."""
    env = gym.make("ClimbRoute-v0", obs="ego", width=16, height=16, assist="residual")
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, size=(20, env.action_space.shape[0])).astype(np.float32)
    d = _rollout(env, acts, seed=3)
    env.close()
    return d


def random_kinematic_state() -> str:
    """State observations, kinematic control, small seeded actions around the centre."""
    env = gym.make("ClimbRoute-v0", obs="state", control="kinematic", scene_split="train")
    rng = np.random.default_rng(1)
    acts = rng.uniform(-0.2, 0.2, size=(20, env.action_space.shape[0])).astype(np.float32)
    d = _rollout(env, acts, seed=5)
    env.close()
    return d


def _expert_plan():
    from policies.scripted import plan_climb

    scene = scenes.load("wall_vertical_01")
    return plan_climb(scene, scene.routes[0], seed=0)


def expert_plan() -> str:
    """The scripted expert's seeded plan of the shipped wall's first route."""
    p = _expert_plan()
    return _digest([p.qpos, p.contacts, p.grip, p.motion.to_features()])


def _expert_rollout(control: str, assist: str, steps: int) -> str:
    from policies.scripted import ScriptedClimber

    env = gym.make(
        "ClimbRoute-v0", scene="wall_vertical_01", obs="state", control=control, assist=assist
    )
    policy = ScriptedClimber(action_space=env.action_space)
    obs, info = env.reset(seed=0)
    policy.reset(seed=0, info=info)
    out = [obs]
    for _ in range(steps):
        a = policy.act(obs)
        obs, reward, term, trunc, info = env.step(a)
        out += [a, obs, np.float64(reward), np.asarray(info["grips"])]
        if term or trunc:
            break
    env.close()
    return _digest(out)


def expert_physics_residual() -> str:
    """The expert's tracker in physics with residual assist, 150 steps."""
    return _expert_rollout("physics", "residual", 150)


def expert_kinematic() -> str:
    """The expert in kinematic control, 150 steps."""
    return _expert_rollout("kinematic", "none", 150)


def dataset_one_episode(tmp_dir=None) -> str:
    """A one-episode dataset from the stand-in planner (every stored array, in field order)."""
    import tempfile
    from pathlib import Path

    from policies.data import generate
    from policies.data.store import ShardReader, load_manifest
    from tests.policies.test_data_standin import tiny_config

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp_dir or tmp) / "ds"
        generate(tiny_config(episodes=1, shard_size=1), out, workers=1, progress=False)
        man = load_manifest(out)
        r = ShardReader(out, man.shards[0], man.fields)
        ep = r.read(0)
        r.close()
    return _digest([ep[k] for k in sorted(ep)])


def test_random_physics_ego_rollout_is_pinned() -> None:
    assert random_physics_ego() == PINS["random_physics_ego"]


def test_random_kinematic_state_rollout_is_pinned() -> None:
    assert random_kinematic_state() == PINS["random_kinematic_state"]


def test_expert_plan_is_pinned() -> None:
    assert expert_plan() == PINS["expert_plan"]


def test_expert_physics_rollout_is_pinned() -> None:
    assert expert_physics_residual() == PINS["expert_physics_residual"]


def test_expert_kinematic_rollout_is_pinned() -> None:
    assert expert_kinematic() == PINS["expert_kinematic"]


def test_one_episode_dataset_is_pinned() -> None:
    assert dataset_one_episode() == PINS["dataset_one_episode"]


if __name__ == "__main__":
    print(f'PLATFORM = "{platform_key()}"')
    for name in PINS:
        print(f'    "{name}": "{globals()[name]()}",')
