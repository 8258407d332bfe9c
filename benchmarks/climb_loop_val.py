"""Closed-loop completion of ClimbDiffusion checkpoints on held-out routes, for choosing a model
on `val` (never on a test split) before it meets `navenv bench`.

Each checkpoint drives `ClimbDiffusionPolicy` in kinematic control over the same seeded routes
(`benchmarks.main_job.make_tasks`, seed 0), one episode after another on this process:

    OMP_NUM_THREADS=1 python -m benchmarks.climb_loop_val climb_diffusion_small runs/ft/model \
        [--split val] [--routes 8] [--max-steps 1800] \
        [--receding FIELD=VALUE ...] [--grounding FIELD=VALUE ...]

--receding and --grounding override fields of the policy's RecedingConfig and GroundingConfig
(JSON values), so execution settings are compared on val with the same routes.

Prints per route success and route progress, then completion, mean progress and how many
routes reached the top hold with one hand (progress 1) per checkpoint.
"""

from __future__ import annotations

import argparse

import numpy as np


def run(
    model: str,
    split: str = "val",
    routes: int = 8,
    max_steps: int = 1800,
    receding: dict | None = None,
    grounding: dict | None = None,
) -> dict:
    """Per-route results and totals of one checkpoint (shipped name or model directory), the
    policy's configs with the `receding` / `grounding` field overrides."""
    import gymnasium as gym

    import navenv  # noqa: F401  (registers ClimbRoute-v0)
    from benchmarks.harness import env_kwargs
    from benchmarks.main_job import SuiteConfig, make_tasks
    from policies.climb_diffusion.policy import (
        ClimbDiffusionPolicy,
        GroundingConfig,
        receding_config,
    )

    cfg = SuiteConfig(splits=(split,), episodes=routes, policies=("climb_diffusion_kinematic",))
    rows = []
    for task in make_tasks(cfg):
        env = gym.make(
            "ClimbRoute-v0",
            scene=task.spec.build(),
            route=task.route,
            max_episode_steps=max_steps,
            **env_kwargs(task.policy),
        )
        policy = ClimbDiffusionPolicy(
            model,
            action_space=env.action_space,
            config=receding_config(**(receding or {})),
            grounding=GroundingConfig(**(grounding or {})),
        )
        obs, info = env.reset(seed=task.seed)
        policy.reset(seed=task.seed, info=info)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(policy.act(obs))
            done = terminated or truncated
        env.close()
        rows.append(
            {
                "scene": task.spec.name,
                "route": task.route,
                "success": bool(info["is_success"]),
                "progress": float(info["route_progress"]),
            }
        )
    return {
        "model": model,
        "rows": rows,
        "completed": sum(r["success"] for r in rows),
        "progress": float(np.mean([r["progress"] for r in rows])),
        "top_reached": sum(r["progress"] >= 1.0 for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module doc."""
    from policies.climb_diffusion.cli_args import parse_assignments
    from policies.climb_diffusion.grounding import GroundingConfig
    from policies.climb_diffusion.policy import receding_config

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", help="checkpoints: shipped names or model directories")
    p.add_argument("--split", default="val")
    p.add_argument("--routes", type=int, default=8)
    p.add_argument("--max-steps", type=int, default=1800, help="steps per episode (30 Hz)")
    for name in ("receding", "grounding"):
        p.add_argument(f"--{name}", nargs="*", default=[], metavar="FIELD=VALUE")
    a = p.parse_args(argv)
    if a.routes < 1 or a.max_steps < 1:
        p.error("--routes and --max-steps must be >= 1")
    try:
        receding = parse_assignments(a.receding, "--receding")
        grounding = parse_assignments(a.grounding, "--grounding")
        GroundingConfig(**grounding)
        receding_config(**receding)
    except (TypeError, ValueError) as e:
        p.error(str(e))
    print("| model | completed | mean progress | reached the top |")
    print("|---|---|---|---|")
    for model in a.models:
        r = run(model, a.split, a.routes, a.max_steps, receding, grounding)
        for row in r["rows"]:
            print(
                f"  {row['scene']} {row['route']}: success {row['success']}, "
                f"progress {row['progress']:.2f}",
                flush=True,
            )
        n = len(r["rows"])
        print(
            f"| {model} | {r['completed']}/{n} | {r['progress']:.2f} | {r['top_reached']}/{n} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
