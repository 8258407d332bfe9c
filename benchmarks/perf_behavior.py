"""Latency of the behaviour hierarchy: goal + path + body for one agent, on one CPU core.

Times one re-plan of `HierarchicalBehaviorPolicy` with the shipped models, the three stages
sampled one after another (K = 1): with the models' 50-step DDPM and with the policy's 10-step
DDIM; then the policy's actual re-plan, its `candidates` plans in one batch. The reference, measured in the same run, is the second of RoomNav-v0 (30 kinematic env
steps with obs="state") that one plan is played for: a ratio below 1 keeps the policy
real-time. The issue's target is 150 ms per plan on one core. Median of `--rounds` rounds:

    OMP_NUM_THREADS=1 python -m benchmarks.perf_behavior [--rounds 20] [--runs DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

TARGET_MS = 150.0


def _median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main(argv=None) -> int:
    """Print the per-stage and whole-chain latencies and the ratio to one second of env."""
    from navenv.envs.room import RoomNavEnv
    from policies.behavior.hierarchy import BehaviorModel
    from policies.behavior.policy import HierarchicalBehaviorPolicy

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--runs", default=None, help="stage runs folder (default: shipped models)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if a.runs:
        model = BehaviorModel(*(f"{a.runs}/{n}/model" for n in ("goal", "path", "body")))
    else:
        model = BehaviorModel.shipped()
    env = RoomNavEnv(obs="state", scene_split="rooms_val")
    obs, info = env.reset(seed=0)
    pol = HierarchicalBehaviorPolicy(model)
    pol.reset(seed=0, info=info)
    batch, _, _ = pol.conditions(obs)
    still = pol.player.act(obs)  # holding the standing pose: the env's cost, not the model's

    def env_second() -> None:
        for _ in range(30):
            env.step(still)

    with_goal = {**batch, "goal": torch.zeros(1, 3)}
    with_path = {**with_goal, "path": torch.zeros(1, 56, 3)}
    rows = []
    for steps in (None, 10):
        label = "DDPM 50" if steps is None else f"DDIM {steps}"
        stage = {
            "goal": _median_ms(lambda s=steps: model.goal.sample(batch, 1, 0, s), a.rounds),
        }
        stage["path"] = _median_ms(lambda s=steps: model.path.sample(with_goal, 1, 0, s), a.rounds)
        stage["body"] = _median_ms(lambda s=steps: model.body.sample(with_path, 1, 0, s), a.rounds)
        total = _median_ms(lambda s=steps: model.sample(batch, 1, 0, s), a.rounds)
        rows.append((label, stage, total))
    # the policy's re-plan (task mode: the goal is given): `candidates` path + body plans at
    # DDIM 10, of which one is played
    k, goal = pol.config.candidates, torch.tensor([[3.0, 0.0, 0.0]])
    plans = _median_ms(lambda: model.sample(batch, k, 0, 10, goal=goal), max(a.rounds // 4, 3))
    ref = _median_ms(env_second, max(a.rounds // 4, 3))
    print(f"one core; reference: 1 s of RoomNav-v0 (30 kinematic steps) = {ref:.0f} ms")
    print("| sampler | goal ms | path ms | body ms | chain ms | chain / 1 s env | target |")
    print("|---|---|---|---|---|---|---|")
    for label, st, total in rows:
        ok = "met" if total <= TARGET_MS else "missed"
        print(
            f"| {label} | {st['goal']:.0f} | {st['path']:.0f} | {st['body']:.0f} | {total:.0f} | "
            f"{total / ref:.2f} | {TARGET_MS:.0f} ms {ok} |"
        )
    print(
        f"\nthe policy's re-plan, {k} candidate path + body plans to a given goal at DDIM 10 (BehaviorPolicyConfig.candidates): "
        f"{plans:.0f} ms, every {pol.config.replan_s:g} s = "
        f"{plans / (pol.config.replan_s * 30):.1f} ms per 30 Hz step"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
