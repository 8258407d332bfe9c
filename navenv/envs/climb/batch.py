"""ClimbRoute for many environments in one process: physics on mujoco.batch threads
(navenv.envs.vector.BatchPhysics).

Gymnasium's async vector env runs each env in a process and steps them in lockstep over pipes;
here the envs live in one process, each keeps its own MjModel (grip anchors differ per env) and
MjData for the Python-side logic (grips, rewards, observations), and one `mujoco.batch.Batch`
(persistent, one MjData per simulation) steps every env's physics in parallel on C threads. Each
step: every env applies its action to its MjData, the state rows are written into the batch, the
batch runs `frame_skip` substeps per env on `nthread` threads, the results are copied back, and
every env finishes its step. The Python part stays serial; the physics, which dominates, runs in
parallel.

All envs share one scene (their models must have the same layout); `scene_split` is not
supported here — use `gym.make_vec(..., vectorization_mode="async")` for per-env scene draws.

    vec = gym.make_vec("ClimbRoute-v0", num_envs=4, vectorization_mode="vector_entry_point", obs="state")
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from navenv.envs.climb.env import ClimbRouteEnv
from navenv.envs.vector import BatchPhysics


class ClimbRouteBatchEnv(VectorEnv):
    """`num_envs` ClimbRoute-v0 envs stepped together; physics on `nthread` threads (0: all CPUs)."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012 (Gymnasium API)

    def __init__(
        self,
        num_envs: int = 2,
        nthread: int = 0,
        max_episode_steps: int | None = 1800,
        **env_kwargs: Any,
    ):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if env_kwargs.get("scene_split") is not None:
            raise ValueError(
                "ClimbRouteBatchEnv needs one scene for all envs; for scene_split use vectorization_mode='async'"
            )
        self.envs = [ClimbRouteEnv(**env_kwargs) for _ in range(num_envs)]
        first = self.envs[0]
        if first.control != "physics":
            raise ValueError("ClimbRouteBatchEnv batches physics: control must be 'physics'")
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.single_action_space = first.action_space
        self.single_observation_space = first.observation_space
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.render_mode = first.render_mode
        self.spec = None
        self._physics = BatchPhysics([e.model for e in self.envs], nthread=nthread)
        self._needs_reset = np.zeros(num_envs, bool)
        self._steps = np.zeros(num_envs, int)
        self._obs = create_empty_array(self.single_observation_space, num_envs)

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        """Reset every env (seeds: one int seeds env i with seed + i, or a list)."""
        seeds = (
            [None] * self.num_envs
            if seed is None
            else ([seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed))
        )
        results = [env.reset(seed=s, options=options) for env, s in zip(self.envs, seeds)]
        self._needs_reset[:] = False
        self._steps[:] = 0
        return self._batch_obs([o for o, _ in results]), self._merge_infos([i for _, i in results])

    def step(self, actions):
        """Step every env; an env that ended last step is reset instead (Gymnasium NEXT_STEP)."""
        actions = np.asarray(actions)
        n = self.num_envs
        pending, results = [], [None] * n
        for i, env in enumerate(self.envs):
            if self._needs_reset[i]:
                obs, info = env.reset()
                results[i] = (obs, 0.0, False, False, info)
                self._steps[i] = 0
            else:
                pending.append((i, *env.apply_action(actions[i])))
        ids = np.array([p[0] for p in pending], dtype=np.int32)
        self._physics.step(ids, [e.data for e in self.envs], self.envs[0].config.frame_skip)
        for i, assist, warnings_before in pending:
            results[i] = self.envs[i].finish_step(assist, warnings_before)
            self._steps[i] += 1
        obs, rewards, term, trunc, infos = zip(*results)
        trunc = np.array(trunc, bool)
        if self.max_episode_steps is not None:
            trunc |= self._steps >= self.max_episode_steps
        term = np.array(term, bool)
        self._needs_reset = term | trunc
        return (
            self._batch_obs(list(obs)),
            np.array(rewards, np.float64),
            term,
            trunc,
            self._merge_infos(list(infos)),
        )

    def _batch_obs(self, obs: list) -> Any:
        return concatenate(self.single_observation_space, obs, self._obs)

    def _merge_infos(self, infos: list[dict]) -> dict:
        out: dict = {}
        for i, info in enumerate(infos):
            out = self._add_info(out, info, i)
        return out

    def render(self):
        """Tripod frames of every env (a tuple), when made with render_mode='rgb_array'."""
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs) -> None:
        """Close every env."""
        for env in self.envs:
            env.close()


def make_batch_env(num_envs: int = 2, nthread: int = 0, **env_kwargs) -> ClimbRouteBatchEnv:
    """The vector entry point registered for ClimbRoute-v0."""
    return ClimbRouteBatchEnv(num_envs=num_envs, nthread=nthread, **env_kwargs)
