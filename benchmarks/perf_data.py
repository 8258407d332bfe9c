"""Throughput of `navenv data generate`: five-second episodes per minute per core at 64 x 64.

    python benchmarks/perf_data.py                # 16 episodes per run, the scripted expert
    python benchmarks/perf_data.py --episodes 32 --planner policies.scripted.planner:plan_climb

Runs the real generator (planning, kinematic replay, ego video, tripod video with the climber
hidden, context frames, compression, atomic shard writes, manifest) twice on the same tasks:
one worker in this process pinned to one core, then two spawned worker processes. Target: at
least 20 episodes/min/core (videos included). The reference measured in the same run is the ego
camera alone rendering the same number of frames, so the ratio column says what the rest of
the pipeline costs on top of the unavoidable rendering. BLAS/OpenMP threads are pinned to 1 so
a worker uses one core, as it does in a generation run with one worker per core.
"""

from __future__ import annotations

import os

# one BLAS/OpenMP thread, set before numpy is imported; spawned workers inherit it
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import tempfile
import time
from pathlib import Path

import mujoco
import numpy as np

from policies.data.generate import DEFAULT_PLANNER, GenerateConfig, default_workers, generate

TARGET_EP_PER_MIN_PER_CORE = 20.0


def render_reference(frames: int, width: int, height: int, split: str) -> float:
    """Seconds the ego camera alone takes for `frames` frames of a posed climber on a split wall."""
    from navenv.body.skeleton import Skeleton
    from navenv.envs.climb.compiled import compile_world
    from navenv.envs.climb.config import ClimbConfig
    from navenv.envs.climb.spawn import start_stance
    from policies.data.episode import SceneRenderer
    from scenes import splits

    scene = splits.get(split)[0].build()
    world = compile_world(scene, Skeleton.builtin(), ClimbConfig())
    start_stance(world.model, world.data, world.index, scene, scene.routes[0])
    r = SceneRenderer(world, width, height, ClimbConfig().ego_fovy_deg)
    qpos = np.repeat(world.data.qpos[None], frames, axis=0)
    qpos[:, world.index.hinge_qpos] += np.linspace(0, 0.3, frames)[:, None]  # a moving pose
    out = np.empty((frames, height, width, 3), np.uint8)
    r.ego_video(qpos[:10], out[:10])  # warm-up
    t = time.perf_counter()
    r.ego_video(qpos, out)
    return time.perf_counter() - t


def main() -> None:
    """Run both measurements and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--shard-size", type=int, default=4)
    p.add_argument("--split", default="train")
    p.add_argument("--planner", default=DEFAULT_PLANNER)
    p.add_argument("--out", default=None, help="scratch directory (default: a temporary one)")
    args = p.parse_args()
    cfg = GenerateConfig(
        split=args.split,
        episodes=args.episodes,
        shard_size=args.shard_size,
        width=64,
        height=64,
        fps=30.0,
        clip_seconds=5.0,
        planner=args.planner,
    )
    cores = default_workers()
    print(
        f"{cfg.episodes} episodes of {cfg.clip_seconds:g} s ({cfg.frames} frames) at 64x64, "
        f"planner {cfg.planner}, mujoco {mujoco.__version__}, {cores} core(s) available"
    )
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        rows = []
        allowed = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(allowed)})  # one worker on one core
        try:
            one = generate(cfg, Path(tmp) / "one", workers=1, progress=False)
        finally:
            os.sched_setaffinity(0, allowed)
        rows.append(("1 worker, 1 core", one, 1))
        if cores >= 2:
            two = generate(cfg, Path(tmp) / "two", workers=2, progress=False)
            rows.append(("2 workers (spawned)", two, 2))
            same = all(
                (Path(tmp) / "one" / f.name).read_bytes() == f.read_bytes()
                for f in (Path(tmp) / "two").iterdir()
            )
            print(f"2-worker output identical to 1-worker output: {same}")
        ref_s = render_reference(cfg.episodes * cfg.frames, 64, 64, cfg.split)
    ref_rate = 60.0 * cfg.episodes / ref_s
    print(
        f"{'run':22s} {'episodes/min':>13s} {'ep/min/core':>12s} {'vs target 20':>13s} "
        f"{'MB/episode':>11s} {'x ego-render-only':>18s}"
    )
    for name, s, n_cores in rows:
        per_core = s.episodes_per_minute / n_cores
        print(
            f"{name:22s} {s.episodes_per_minute:13.1f} {per_core:12.1f} "
            f"{per_core / TARGET_EP_PER_MIN_PER_CORE:12.2f}x {s.bytes / 1e6 / s.episodes:11.2f} "
            f"{ref_rate / per_core:17.1f}x"
        )
    print(
        f"reference: ego camera alone, 1 core: {ref_rate:.1f} episodes/min "
        f"({cfg.episodes * cfg.frames / ref_s:.0f} frames/s)"
    )
    first = rows[0][1].episodes_per_minute
    print(
        f"single-core throughput {'meets' if first >= TARGET_EP_PER_MIN_PER_CORE else 'MISSES'} "
        f"the target of {TARGET_EP_PER_MIN_PER_CORE:g} episodes/min/core"
    )


if __name__ == "__main__":
    main()
