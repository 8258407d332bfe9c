"""`navenv data to-minari`: stored episodes replayed through ClimbRoute-v0 as a Minari dataset.

Minari (Farama's offline-RL format) stores transitions (observation, action, reward, termination,
truncation), so each stored clip is replayed through ``ClimbRoute-v0(obs="state",
control="kinematic")`` on its scene and route: the env is reset with the episode's plan seed, then
stepped with the kinematic action that reproduces each valid stored frame (hinge targets and root
pose from `qpos`, grip channels from `grip`); observations and rewards are the env's own. The
first transition moves the climber from the route's start stance to the clip's first frame (the
same pose for clips that start at the beginning of their plan). An episode ends when the env
terminates (the top is held) or, truncated, at the clip's last valid frame.
Load the result with ``minari.load_dataset(dataset_id)`` (same MINARI_DATASETS_PATH).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from policies.data.dataset import ClimbShards
from policies.data.episode import QPOS_LAYOUT
from policies.data.store import DatasetError
from policies.tracking.actions import pose_actions

_FIELDS = ["qpos", "grip", "valid", "scene_name", "route_id", "plan_seed"]
PHYSICS_HZ = 480.0  # ClimbConfig's default; kinematic control only uses it for the timestep


def kinematic_actions(qpos: np.ndarray, grip: np.ndarray, info: dict) -> np.ndarray:
    """(T, size) ClimbRoute kinematic actions reproducing stored humanoid qpos (T, 76) and grips,
    normalised as the env's reset `info` says ("hinge_range", "climb_box"; a root outside the
    climb box is clipped to it)."""
    q = QPOS_LAYOUT.split(qpos)
    return pose_actions(
        q["hinges"],
        grip,
        q["root_position"],
        q["root_quat"],
        hinge_range=np.asarray(info["hinge_range"]),
        climb_box=info["climb_box"],
        inside_box=False,
    )


@contextlib.contextmanager
def _datasets_path(root: str | os.PathLike | None) -> Iterator[None]:
    """Point Minari at `root` for the duration (None: leave its setting alone)."""
    if root is None:
        yield
        return
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(root).resolve())
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def _data_format() -> str:
    """A Minari storage backend whose library is installed."""
    for fmt, module in (("hdf5", "h5py"), ("arrow", "pyarrow")):
        try:
            __import__(module)
            return fmt
        except ImportError:
            continue
    raise ImportError("Minari needs h5py or pyarrow: pip install 'navenv[minari]'")


def _env_for(cache: dict, split: str, scene_name: str, route_id: str, fps: float):
    """A kinematic state-observation ClimbRoute env on a stored episode's scene and route."""
    from navenv.envs.climb.config import ClimbConfig
    from navenv.envs.climb.env import ClimbRouteEnv
    from scenes import splits

    if scene_name not in cache:
        specs = {s.name: s for s in splits.get(split)}
        if scene_name not in specs:
            raise DatasetError(f"episode scene {scene_name!r} is not in split {split!r}")
        config = ClimbConfig(policy_hz=fps, physics_hz=fps * max(1, round(PHYSICS_HZ / fps)))
        scene = specs[scene_name].build()
        cache[scene_name] = ClimbRouteEnv(
            scene=scene, obs="state", control="kinematic", config=config
        )
    env = cache[scene_name]
    return env


def episode_buffers(
    directory: str | os.PathLike, max_episodes: int | None = None, progress: bool = True
) -> tuple[list, Any, Any]:
    """(Minari EpisodeBuffers, observation space, action space) of a stored dataset's episodes."""
    from minari.data_collector import EpisodeBuffer

    shards = ClimbShards(directory)
    man = shards.manifest
    split = man.config["split"]
    n = shards.num_episodes if max_episodes is None else min(max_episodes, shards.num_episodes)
    if n == 0:
        raise DatasetError(f"{directory}: no complete episodes to export")
    envs: dict = {}
    buffers, spaces = [], None
    reader_pos, reader = -1, None
    for i in tqdm(range(n), desc="to-minari", unit="ep", disable=not progress):
        pos, local = shards.locate(i)
        if pos != reader_pos:
            if reader is not None:
                reader.close()
            reader, reader_pos = shards.open(pos), pos
        ep = reader.read(local, _FIELDS)
        env = _env_for(envs, split, str(ep["scene_name"]), str(ep["route_id"]), man.fps)
        seed = int(ep["plan_seed"])
        obs, info = env.reset(seed=seed, options={"route": str(ep["route_id"])})
        valid = np.flatnonzero(ep["valid"])
        actions = kinematic_actions(ep["qpos"][valid].astype(np.float64), ep["grip"][valid], info)
        observations, rewards, terms, truncs = [obs], [], [], []
        for k, a in enumerate(actions):
            obs, reward, terminated, truncated, _ = env.step(a)
            last = k == len(actions) - 1
            observations.append(obs)
            rewards.append(float(reward))
            terms.append(bool(terminated))
            truncs.append(bool(truncated or (last and not terminated)))
            if terminated or truncated:
                break
        buffers.append(
            EpisodeBuffer(
                id=i,
                seed=seed,
                observations=np.stack(observations),
                actions=actions[: len(rewards)],
                rewards=rewards,
                terminations=terms,
                truncations=truncs,
            )
        )
        spaces = (env.observation_space, env.action_space)
    if reader is not None:
        reader.close()
    for env in envs.values():
        env.close()
    return buffers, spaces[0], spaces[1]


def export_minari(
    directory: str | os.PathLike,
    dataset_id: str = "navenv/climb-scripted-v0",
    *,
    minari_root: str | os.PathLike | None = None,
    max_episodes: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
):
    """Write a Minari dataset `dataset_id` from the episodes in `directory`; returns it.

    An existing dataset of that id is an error unless `overwrite` (then it is replaced)."""
    try:
        import minari
    except ImportError as e:
        raise ImportError("to-minari needs Minari: pip install 'navenv[minari]'") from e
    from gymnasium.envs.registration import EnvSpec
    from minari.storage import get_dataset_path

    with _datasets_path(minari_root):  # fail before the replay, not after it
        if Path(get_dataset_path(dataset_id)).exists():
            if not overwrite:
                raise ValueError(
                    f"Minari dataset {dataset_id!r} already exists in {get_dataset_path(dataset_id)}; "
                    "choose another --dataset-id or delete it (minari.delete_dataset)"
                )
            minari.delete_dataset(dataset_id)

    buffers, obs_space, act_space = episode_buffers(directory, max_episodes, progress)
    man = ClimbShards(directory, verify=False).manifest
    env_spec = None
    if abs(man.fps - 30.0) < 1e-9:  # the registered env's rate: users can recover the env
        env_spec = EnvSpec(
            "ClimbRoute-v0",
            entry_point="navenv.envs.climb:ClimbRouteEnv",
            max_episode_steps=man.frames,
            kwargs={"scene_split": man.config["split"], "obs": "state", "control": "kinematic"},
        )
    with _datasets_path(minari_root), warnings.catch_warnings():
        # Minari nags about unset author/permalink/eval_env metadata; navenv has no permalink
        warnings.filterwarnings("ignore", category=UserWarning, module="minari.utils")
        return minari.create_dataset_from_buffers(
            dataset_id,
            buffers,
            env=env_spec,
            observation_space=obs_space,
            action_space=act_space,
            eval_env=env_spec,
            author="navenv",
            algorithm_name="navenv scripted climbing expert (kinematic replay)",
            description=(
                f"{len(buffers)} clips of {man.frames / man.fps:g} s from `navenv data generate` "
                f"(split {man.config['split']}, seed {man.config['seed']}), replayed through "
                "ClimbRoute-v0 with obs='state', control='kinematic'."
            ),
            data_format=_data_format(),
        )
