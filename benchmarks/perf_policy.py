"""Closed-loop speed of the shipped ClimbDiffusion policy on one CPU thread.

    OMP_NUM_THREADS=1 python -m benchmarks.perf_policy [--steps 600] [--control kinematic]

Runs `ClimbDiffusionPolicy` in ClimbRoute-v0 (obs="state") for a fixed number of env steps on
a `test_novel_holds` route and prints: ms per sampled chunk (condition, denoiser, grounding),
ms per control step amortised over the chunk, env steps/s of the whole loop, and, measured in
the same run as the reference, the env's own steps/s with the scripted expert's actions (the
physics and observation cost every policy pays). Real time is 30 steps/s (the env's 30 Hz).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch

import navenv  # noqa: F401  (registers ClimbRoute-v0)
from policies.climb_diffusion.policy import ClimbDiffusionPolicy
from scenes import splits

REAL_TIME_HZ = 30.0


def _loop(env, policy, steps: int, seed: int) -> tuple[float, int]:
    """Seconds for `steps` env steps with `policy` (reset when an episode ends)."""
    obs, info = env.reset(seed=seed)
    policy.reset(seed=seed, info=info)
    start, n = time.perf_counter(), 0
    while n < steps:
        obs, _, terminated, truncated, info = env.step(policy.act(obs))
        n += 1
        if terminated or truncated:
            obs, info = env.reset(seed=seed + n)
            policy.reset(seed=seed + n, info=info)
    return time.perf_counter() - start, n


def main(argv: list[str] | None = None) -> int:
    """Print the closed-loop figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600, help="env steps to time (default 600)")
    p.add_argument("--control", choices=("kinematic", "physics"), default="kinematic")
    p.add_argument("--model", default="climb_diffusion_small")
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error("--steps must be >= 1")
    torch.set_num_threads(1)
    scene = splits.get("test_novel_holds")[0].build()
    kw = {"assist": "residual"} if args.control == "physics" else {}
    env = gym.make(
        "ClimbRoute-v0",
        scene=scene,
        route=0,
        obs="state",
        control=args.control,
        max_episode_steps=args.steps + 1,
        **kw,
    )
    from policies.scripted import ScriptedClimber

    expert = ScriptedClimber(control=args.control, action_space=env.action_space)
    ref_s, ref_n = _loop(env, expert, args.steps, 0)
    policy = ClimbDiffusionPolicy(args.model, action_space=env.action_space)
    _loop(env, policy, 40, 1)  # warm-up: first chunk, encoder, caches
    pol_s, pol_n = _loop(env, policy, args.steps, 0)
    env.close()
    chunk_ms = 1000.0 * float(np.mean(policy.latencies))
    per_step_ms = 1000.0 * pol_s / pol_n
    steps_per_chunk = policy.config.execute_frames * REAL_TIME_HZ / policy.mcfg.fps
    print(f"control={args.control}, {pol_n} steps, model {args.model}, 1 thread")
    print(f"sampled chunk (condition + denoiser + grounding): {chunk_ms:.1f} ms")
    print(
        f"policy per control step, amortised over {steps_per_chunk:.0f} steps: "
        f"{chunk_ms / steps_per_chunk:.1f} ms (budget at 30 Hz: 33.3 ms)"
    )
    print(
        f"closed loop: {pol_n / pol_s:.0f} steps/s = {pol_n / pol_s / REAL_TIME_HZ:.1f}x real time"
    )
    print(f"reference, same env with the scripted expert: {ref_n / ref_s:.0f} steps/s")
    print(f"ratio (closed loop / reference): {(pol_n / pol_s) / (ref_n / ref_s):.2f}")
    print(f"whole loop per step: {per_step_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
