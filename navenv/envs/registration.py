"""Gymnasium registration of navenv's environments.

Convention: ``import navenv`` registers plain ids (``gym.make("ClimbRoute-v0")``); without the
import, ``gym.make("navenv:ClimbRoute-v0")`` imports navenv first (Gymnasium's module:id form).
Versions follow Gymnasium's rule: a behaviour change bumps the version.

Many envs at once: ``gym.make_vec("ClimbRoute-v0", n, vectorization_mode="async")`` (one process
per env, any kwargs including scene_split) or ``vectorization_mode="vector_entry_point"``
(navenv.envs.climb.batch: one process, physics on mujoco.batch threads, one scene for all envs).
"""

from __future__ import annotations

import gymnasium as gym

CLIMB_MAX_EPISODE_STEPS = 1800  # 60 s at the default 30 Hz policy rate
ROOM_MAX_EPISODE_STEPS = 1800  # 60 s: the longest room crossing at a stroll, with stops

# One line per env: id -> gym.register keyword arguments. A new env is a package under
# navenv/envs/<name>/ plus its line here.
ENVS: dict[str, dict] = {
    "ClimbRoute-v0": dict(
        entry_point="navenv.envs.climb:ClimbRouteEnv",
        vector_entry_point="navenv.envs.climb.batch:make_batch_env",
        max_episode_steps=CLIMB_MAX_EPISODE_STEPS,
    ),
    "RoomNav-v0": dict(
        entry_point="navenv.envs.room:RoomNavEnv",
        max_episode_steps=ROOM_MAX_EPISODE_STEPS,
    ),
}

ENV_IDS: tuple[str, ...] = tuple(ENVS)


def register_envs() -> None:
    """Register every navenv env id (idempotent)."""
    for env_id, kwargs in ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, **kwargs)
