"""Where shards are built: one worker's caches, local worker processes, Ray remote tasks.

A worker (a spawned process, a Ray worker, or the calling process with one worker) keeps the
split's scenes compiled with their cameras and its most recent plans, so clips of one plan and
shards on one scene do not redo that work. Local workers write their shards themselves; Ray tasks
return shard bytes and the driver writes them, so a cluster needs no shared file system.
"""

from __future__ import annotations

import importlib
import os
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from navenv.threads import single_threaded
from policies.data.episode import SceneRenderer, build_episode
from policies.data.store import ShardRecord, encode_shard, write_shard
from policies.data.tasks import EpisodeTask, GenerateConfig, make_tasks
from policies.scripted.keyframes import frame_penetration
from policies.scripted.planner import PlannerConfig

_PLAN_CACHE = 4  # plans kept per worker: a shard spans a few plan groups


@dataclass
class _GroupPlan:
    """The plan a plan group's clips are cut from."""

    route: Any  # scenes.Route it climbs
    plan: Any  # ClimbPlan (or a planner's equivalent)
    tries: int  # routes planned before it (0: the drawn route)
    deepest: float  # m, its deepest frame


class _Worker:
    """Per-process caches: scenes, compiled worlds with their cameras, recent plans."""

    def __init__(self, config: GenerateConfig) -> None:
        from navenv.body.skeleton import Skeleton
        from navenv.envs.climb.config import ClimbConfig
        from scenes import splits

        self.config = config
        self.specs = splits.get(config.split)
        self.skeleton = Skeleton.builtin()
        self.climb = ClimbConfig()
        self.fields = config.fields()
        self.plan_fn = load_planner(config.planner)
        self.planner_config = PlannerConfig(attempts=1)  # a sunk plan moves on to another route
        self._renderers: dict[int, SceneRenderer] = {}
        self._plans: OrderedDict[tuple, Any] = OrderedDict()

    def renderer(self, scene_index: int) -> SceneRenderer:
        """The compiled world of a split scene with its cameras (built once per worker)."""
        if scene_index not in self._renderers:
            from navenv.envs.climb.compiled import compile_world

            scene = self.specs[scene_index].build()
            world = compile_world(scene, self.skeleton, self.climb)
            self._renderers[scene_index] = SceneRenderer(
                world, self.config.width, self.config.height, self.climb.ego_fovy_deg
            )
        return self._renderers[scene_index]

    def plan(self, task: EpisodeTask, renderer: SceneRenderer) -> _GroupPlan:
        """The plan of a task's group, from the cache or the planner."""
        key = (task.scene_index, task.route_draw, task.plan_seed)
        if key not in self._plans:
            self._plans[key] = self._plan_group(task, renderer)
            while len(self._plans) > _PLAN_CACHE:
                self._plans.popitem(last=False)
        self._plans.move_to_end(key)
        return self._plans[key]

    def _plan_group(self, task: EpisodeTask, renderer: SceneRenderer) -> _GroupPlan:
        """Plan the drawn route; while the plan sinks deeper than max_penetration_m, plan the
        scene's next route with the next seed instead (plan_tries in all, shallowest kept)."""
        cfg, scene = self.config, renderer.world.scene
        limit = np.inf if cfg.max_penetration_m is None else cfg.max_penetration_m
        best = None
        for k in range(cfg.plan_tries):
            route = scene.routes[(task.route_draw + k) % len(scene.routes)]
            seed = task.plan_seed + k
            try:
                plan = self.plan_fn(
                    scene, route, seed=seed, skeleton=self.skeleton, config=self.planner_config
                )
            except Exception as e:
                raise RuntimeError(
                    f"planner {cfg.planner} failed on {task.scene_name} route {route.id!r} "
                    f"seed {seed}: {e}"
                ) from e
            deepest = getattr(plan, "max_penetration", None)
            if deepest is None:  # a planner that does not measure it: measure here
                deepest = frame_penetration(
                    renderer.world.model, plan.qpos, renderer.humanoid, renderer.rays
                ).max(initial=0.0)
            tried = _GroupPlan(route, plan, k, float(deepest))
            if best is None or tried.deepest < best.deepest:
                best = tried
            if tried.deepest <= limit:
                return tried
        return best

    def episode(self, task: EpisodeTask) -> dict[str, np.ndarray]:
        """All stored arrays of one task."""
        r = self.renderer(task.scene_index)
        group = self.plan(task, r)
        return build_episode(
            group.plan,
            r,
            group.route,
            self.fields,
            fps=self.config.fps,
            clip_index=task.clip_index,
            clips_per_plan=self.config.clips_per_plan,
            meta={
                "episode": task.episode,
                "scene_name": task.scene_name,
                "plan_seed": task.plan_seed + group.tries,
                "plan_try": group.tries,
                "plan_penetration": group.deepest,
            },
        )

    def shard_bytes(self, shard: int) -> tuple[bytes, int, int]:
        """(bytes, episodes, first episode) of shard `shard`."""
        s = self.config.shard_size
        tasks = make_tasks(self.config)[shard * s : (shard + 1) * s]
        eps = [self.episode(t) for t in tasks]
        return encode_shard(eps, self.fields, self.config.compresslevel), len(eps), tasks[0].episode


def load_planner(spec: str):
    """The planner function named by "module:function" (ImportError says what is missing)."""
    module, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise ImportError(f"planner {spec!r}: cannot import it ({e})") from e
    if not callable(fn):
        raise TypeError(f"planner {spec!r}: {type(fn).__name__} is not callable")
    return fn


_WORKER: _Worker | None = None  # one per process, so plans and worlds outlive a single shard


def _worker(config_json: dict[str, Any]) -> _Worker:
    global _WORKER
    config = GenerateConfig.from_json(config_json)
    if _WORKER is None or _WORKER.config != config:
        _WORKER = _Worker(config)
    return _WORKER


def release_worker() -> None:
    """Drop this process's worlds and plans (after an in-process run)."""
    global _WORKER
    _WORKER = None


def shard_bytes_task(config_json: dict[str, Any], shard: int) -> tuple[bytes, int, int]:
    """Build one shard in this process: (bytes, episodes, first episode); Ray's remote body."""
    return _worker(config_json).shard_bytes(shard)


def write_shard_task(config_json: dict[str, Any], shard: int, out: str) -> ShardRecord:
    """Build shard `shard` and write it atomically into `out`; a local worker's job."""
    data, n, first = shard_bytes_task(config_json, shard)
    return write_shard(out, shard, data, n, first)


# ------------------------------------------------------------------ the run
def run_local(cfg: dict, todo: list[int], out: Path, finished) -> None:
    """Shards one after the other in this process."""
    for k in todo:
        finished(write_shard_task(cfg, k, str(out)))


def run_pool(cfg: dict, todo: list[int], out: Path, workers: int, finished) -> None:
    """Shards on local worker processes (spawned: safe with MuJoCo, torch and threads)."""
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=single_threaded
    )
    try:
        pending = {pool.submit(write_shard_task, cfg, k, str(out)) for k in todo}
        while pending:
            ready, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in ready:
                finished(fut.result())
    except BaseException:
        # do not wait for queued shards; running ones finish or die with the interrupt
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def run_ray(cfg: dict, todo: list[int], out: Path, finished) -> None:
    """Shards as Ray remote tasks; shard bytes come back to this process, which writes them
    (so the cluster needs no shared file system)."""
    ray = connect_ray()
    remote = ray.remote(num_cpus=1)(shard_bytes_task)
    refs = {remote.remote(cfg, k): k for k in todo}
    try:
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            k = refs.pop(ready[0])
            data, n, first = ray.get(ready[0])
            finished(write_shard(out, k, data, n, first))
    except BaseException:
        for ref in refs:
            ray.cancel(ref)
        raise


def connect_ray():
    """The `ray` module, connected to the cluster at RAY_ADDRESS (else a local one) unless this
    process already is; ImportError naming the extra to install when Ray is missing."""
    try:
        import ray
    except ImportError as e:
        raise ImportError("--ray needs Ray: pip install 'navenv[ray]'") from e
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"))
    return ray


def ray_cpus() -> int:
    """CPUs of the Ray cluster this process is connected to."""
    import ray

    return int(ray.cluster_resources().get("CPU", 1))
