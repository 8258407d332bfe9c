"""ClimbRoute-v0 speed, each figure a ratio against a reference measured in the same run.

1. env steps/s with obs="state" vs the physics of the same model on the same trajectory (the
   env's own time in mj_step, the limit an env can reach); target >= 0.85.
2. ego frames/s of the ray-cast camera at 64 x 64 on one core; target >= 1,000 (reference: MuJoCo's
   OpenGL renderer at the same size, software EGL here).
3. env steps/s with obs="ego" vs Gymnasium's Humanoid-v5 stepping with render_mode="rgb_array"
   at the same resolution (the pixel path a user would otherwise take); target >= 20x.
4. vectorised stepping with 2 envs vs one env: gym.make_vec(..., vectorization_mode="async")
   (processes) and vectorization_mode="vector_entry_point" (navenv.envs.climb.batch: mujoco.batch
   threads in one process).

Each pair is measured in alternating rounds and the median round is reported, so background load
hits both sides alike. Run single-threaded for figures 1-3:

    OMP_NUM_THREADS=1 MUJOCO_GL=egl python benchmarks/perf_env.py [--steps 300 --rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym
import mujoco
import numpy as np

import navenv  # noqa: F401
from navenv.humanoid.names import NUM_HINGES


def hold_action(env) -> np.ndarray:
    """An action that keeps the start stance (a realistic, contact-rich workload)."""
    u = env.unwrapped
    lo, hi = u.index.hinge_range.T
    q = u.data.qpos[u.index.hinge_qpos]
    extra = np.zeros(u.action_space.shape[0] - NUM_HINGES - 4)
    return np.concatenate([2 * (q - lo) / (hi - lo) - 1, np.ones(4), extra]).astype(np.float32)


def rate(fn, n: int) -> float:
    """Calls per second of fn() over n calls."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def alternate(a, b, n: int, rounds: int) -> tuple[float, float]:
    """Median rates of a and b measured in alternating rounds."""
    ra, rb = [], []
    for _ in range(rounds):
        ra.append(a(n))
        rb.append(b(n))
    return statistics.median(ra), statistics.median(rb)


def state_vs_physics(steps: int, rounds: int) -> tuple[float, float]:
    """(env steps/s with obs='state', the rate of the same env's physics alone).

    The physics reference is the time the env itself spends in mj_step, measured on the same
    trajectory: a separate replay of the raw physics would not follow it (grips close, open and
    break in the env, which changes the contacts the physics has to solve).
    """
    import navenv.envs.climb.env as climb_module

    env = gym.make("ClimbRoute-v0", obs="state")
    env.reset(seed=0)
    a = hold_action(env)
    real_step = climb_module.mujoco.mj_step
    physics_seconds = [0.0]

    def timed_step(m, d, nstep=1):
        t = time.perf_counter()
        real_step(m, d, nstep=nstep)
        physics_seconds[0] += time.perf_counter() - t

    env_rates, physics_rates = [], []
    climb_module.mujoco.mj_step = timed_step
    try:
        for _ in range(rounds):
            env.reset(seed=0)
            physics_seconds[0] = 0.0
            start = time.perf_counter()
            for _ in range(steps):
                _step_or_reset(env, a)
            total = time.perf_counter() - start
            env_rates.append(steps / total)
            physics_rates.append(steps / physics_seconds[0])
    finally:
        climb_module.mujoco.mj_step = real_step
    return statistics.median(env_rates), statistics.median(physics_rates)


def ego_camera_fps(frames: int, rounds: int, size: int = 64) -> tuple[float, float | None]:
    """(ray-cast ego frames/s, MuJoCo OpenGL renderer frames/s from the same camera, or None)."""
    env = gym.make("ClimbRoute-v0", obs="ego", width=size, height=size)
    env.reset(seed=0)
    u = env.unwrapped
    cam = u.ego_camera
    out = np.empty((size, size, 3), np.uint8)
    try:
        gl = mujoco.Renderer(u.model, size, size)
    except Exception:  # no OpenGL: report the ray-cast figure alone
        gl = None

    def run_gl(n):
        def frame():
            gl.update_scene(u.data, camera="ego")
            gl.render()

        return rate(frame, n)

    if gl is None:
        return statistics.median(
            rate(lambda: cam.render(u.data, out=out), frames) for _ in range(rounds)
        ), None
    return alternate(lambda n: rate(lambda: cam.render(u.data, out=out), n), run_gl, frames, rounds)


def ego_env_vs_humanoid_pixels(steps: int, rounds: int, size: int = 64) -> tuple[float, float]:
    """(ClimbRoute obs='ego' steps/s, Humanoid-v5 step + render('rgb_array') steps/s)."""
    env = gym.make("ClimbRoute-v0", obs="ego", width=size, height=size)
    env.reset(seed=0)
    a = hold_action(env)
    ref = gym.make("Humanoid-v5", render_mode="rgb_array", width=size, height=size)
    ref.reset(seed=0)
    ref.action_space.seed(0)
    ref_actions = [ref.action_space.sample() for _ in range(64)]

    def run_env(n):
        env.reset(seed=0)
        return rate(lambda: env.step(a), n)

    def run_ref(n):
        ref.reset(seed=0)
        i = iter(range(n))

        def step():
            _, _, term, trunc, _ = ref.step(ref_actions[next(i) % 64])
            ref.render()
            if term or trunc:
                ref.reset()

        return rate(step, n)

    return alternate(run_env, run_ref, steps, rounds)


def vector_speedup(steps: int, workers: int = 2) -> tuple[float, float, float]:
    """(total steps/s of `workers` async envs, of a `workers`-env mujoco.batch env, of one env),
    obs='state', holding the start stance (random actions make step times vary so much that
    lockstep workers mostly wait)."""
    single = gym.make("ClimbRoute-v0", obs="state")
    single.reset(seed=0)
    a = hold_action(single)
    r1 = rate(lambda: _step_or_reset(single, a), steps)
    batch = np.stack([a] * workers)
    rates = []
    for mode in ("async", "vector_entry_point"):
        vec = gym.make_vec(
            "navenv:ClimbRoute-v0", num_envs=workers, vectorization_mode=mode, obs="state"
        )
        vec.reset(seed=0)
        vec.step(batch)  # warm up the workers
        rates.append(rate(lambda v=vec: v.step(batch), steps // workers) * workers)
        vec.close()
    return rates[0], rates[1], r1


def _step_or_reset(env, action) -> None:
    _, _, term, trunc, _ = env.step(action)
    if term or trunc:
        env.reset()


def main() -> None:
    """Measure and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--skip-vector", action="store_true")
    args = p.parse_args()

    env_rate, phys_rate = state_vs_physics(args.steps, args.rounds)
    ray_fps, gl_fps = ego_camera_fps(args.steps * 3, args.rounds)
    ego_rate, ref_rate = ego_env_vs_humanoid_pixels(args.steps // 2, args.rounds)
    rows = [
        ("env steps/s, obs='state'", env_rate, "raw physics of the same model", phys_rate, 0.85),
        ("ego frames/s, ray-cast 64x64", ray_fps, "MuJoCo OpenGL 64x64 (EGL)", gl_fps, None),
        (
            "env steps/s, obs='ego' 64x64",
            ego_rate,
            "Humanoid-v5 + render rgb_array 64x64",
            ref_rate,
            20.0,
        ),
    ]
    if not args.skip_vector:
        async_rate, batch_rate, one_rate = vector_speedup(args.steps * 2)
        rows.append(("env steps/s, 2 async workers", async_rate, "one env", one_rate, None))
        rows.append(("env steps/s, 2-env mujoco.batch", batch_rate, "one env", one_rate, None))
    print(f"{'measure':<32}{'value':>10}  {'reference':<38}{'value':>10}{'ratio':>8}{'target':>8}")
    for name, v, ref_name, r, target in rows:
        ratio = f"{v / r:.2f}" if r else "-"
        rv = f"{r:,.0f}" if r else "n/a"
        t = "" if target is None else f">={target:g}"
        print(f"{name:<32}{v:>10,.0f}  {ref_name:<38}{rv:>10}{ratio:>8}{t:>8}")
    print(f"ego target: >= 1,000 frames/s on one core; measured {ray_fps:,.0f}")


if __name__ == "__main__":
    main()
