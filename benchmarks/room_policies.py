"""Policies in RoomNav-v0 on every room split: goal reached, path ratio, collisions, falls.

    python -m benchmarks.room_policies --episodes 24 --control kinematic physics \
        --policies scripted behavior --out runs/room_policies

Policies: `scripted` (the RoomAgent that made the data) and `behavior` (the learned goal -> path
-> body chain, `HierarchicalBehaviorPolicy`, walking to the env's goal; `--runs DIR` takes the
stages from a runs folder instead of the shipped checkpoints). Each split's episodes are seeds
0..N-1 (scene, spawn, goal, observer behaviour and the scripted agent's profile all drawn from
the seed), the same for every policy. Path ratio = pelvis path length / geodesic distance from the
spawn to the goal's approach area. Prints a markdown table and writes OUT/results.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOM_SPLITS = ("rooms_train", "rooms_val", "rooms_test_iid", "rooms_test_novel")


POLICIES = ("scripted", "behavior")


def make_policy(name: str, runs: str | None = None, replan_s: float | None = None):
    """A RoomNav-v0 policy by bench name."""
    if name == "scripted":
        from policies.scripted.room import RoomAgent

        return RoomAgent()
    if name == "behavior":
        from policies.behavior.hierarchy import BehaviorModel
        from policies.behavior.policy import HierarchicalBehaviorPolicy

        model = (
            BehaviorModel(*(Path(runs) / n / "model" for n in ("goal", "path", "body")))
            if runs
            else BehaviorModel.shipped()
        )
        from policies.behavior.policy import BehaviorPolicyConfig

        cfg = (
            BehaviorPolicyConfig() if replan_s is None else BehaviorPolicyConfig(replan_s=replan_s)
        )
        return HierarchicalBehaviorPolicy(model, cfg)
    raise ValueError(f"policy {name!r}: expected one of {POLICIES}")


def run_split(
    split: str,
    control: str,
    episodes: int,
    assist: str,
    policy: str = "scripted",
    runs=None,
    replan_s: float | None = None,
) -> dict:
    """Roll `policy` over `episodes` seeds of `split`; per-episode rows and means."""
    from navenv.envs.registration import ROOM_MAX_EPISODE_STEPS
    from navenv.envs.room import RoomNavEnv

    kw = {"control": control}
    if control == "physics":
        kw["assist"] = assist
    env = RoomNavEnv(obs="state", scene_split=split, width=16, height=16, **kw)
    agent = make_policy(policy, runs, replan_s)
    rows, steps, start = [], 0, time.perf_counter()
    for seed in range(episodes):
        obs, info = env.reset(seed=seed)
        agent.reset(seed=seed, info=info)
        fell, t = False, 0
        for t in range(ROOM_MAX_EPISODE_STEPS):  # noqa: B007 (t is the episode length)
            obs, _, term, trunc, info = env.step(agent.act(obs))
            steps += 1
            fell = fell or info["reward_fall"] != 0.0
            if term or trunc:
                break
        rows.append(
            {
                "seed": seed,
                "scene": info_scene(env),
                "goal": info["goal_label"],
                "observer": info["observer_mode"],
                "success": bool(info["is_success"]),
                "fall": bool(fell),
                "seconds": env.dt * (t + 1),
                "path_ratio": info["path_length"] / max(info["start_distance"], 1e-6),
                "collision_s": info["collision_s"],
                "replans": getattr(agent, "replans", getattr(agent, "plans", 0)),
            }
        )
    wall = time.perf_counter() - start
    ok = [r for r in rows if r["success"]]
    return {
        "split": split,
        "policy": policy,
        "control": control if control == "kinematic" else f"physics/{assist}",
        "episodes": episodes,
        "success": float(np.mean([r["success"] for r in rows])),
        "falls": float(np.mean([r["fall"] for r in rows])),
        "path_ratio_median": float(np.median([r["path_ratio"] for r in ok])) if ok else None,
        "seconds_to_goal_median": float(np.median([r["seconds"] for r in ok])) if ok else None,
        "collision_s_mean": float(np.mean([r["collision_s"] for r in rows])),
        "steps_per_s": steps / wall,
        "rows": rows,
    }


def modality(split: str, starts: int, seeds: int) -> dict:
    """From the same start (room, spawn, observer), how much do agents of different seeds
    differ? Per start: entropy (bits) of the chosen goal, distinct goals, and the spread (m) of
    the paths' midpoints; means over starts."""
    from navenv.envs.room import RoomNavEnv
    from policies.scripted.room import RoomAgent

    env = RoomNavEnv(obs="state", scene_split=split, width=16, height=16)
    ent, distinct, spread = [], [], []
    for start in range(starts):
        _, info = env.reset(seed=start, options={"observer": "stand"})
        goals = [(g.index, g.region.label) for g in env.world.goals]
        picks, mids = [], []
        for seed in range(seeds):
            agent = RoomAgent()
            agent.reset(seed=1000 * start + seed, info=info)
            index = agent.choose_goal(goals)
            agent.retarget(env.set_goal(index), info["agent_xy"], info["agent_yaw"])
            picks.append(index)
            xy = agent._root[:, :2]
            mids.append(xy[len(xy) // 2])
        _, counts = np.unique(picks, return_counts=True)
        p = counts / counts.sum()
        ent.append(float(-(p * np.log2(p)).sum()))
        distinct.append(len(counts))
        spread.append(float(np.linalg.norm(np.std(mids, axis=0))))
    return {
        "split": split,
        "starts": starts,
        "seeds": seeds,
        "goal_entropy_bits": float(np.mean(ent)),
        "distinct_goals": float(np.mean(distinct)),
        "midpoint_spread_m": float(np.mean(spread)),
    }


def info_scene(env) -> str:
    """Name of the env's current scene."""
    return env.unwrapped.scene.name


def main(argv=None) -> int:
    """Command line: see the module doc."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=24)
    p.add_argument("--splits", nargs="+", default=list(ROOM_SPLITS))
    p.add_argument("--control", nargs="+", default=["kinematic", "physics"])
    p.add_argument("--assist", default="residual", choices=["none", "residual"])
    p.add_argument("--policies", nargs="+", default=["scripted"], choices=POLICIES)
    p.add_argument("--runs", default=None, help="behavior: stage runs folder (default: shipped)")
    p.add_argument("--replan-s", type=float, default=None, help="behavior: seconds per plan")
    p.add_argument("--out", default="runs/room_policies")
    p.add_argument(
        "--modality",
        nargs=2,
        type=int,
        metavar=("STARTS", "SEEDS"),
        help="instead: measure goal entropy per start over SEEDS agents from each of STARTS",
    )
    a = p.parse_args(argv)
    if a.modality:
        for split in a.splits:
            r = modality(split, *a.modality)
            print(
                f"{split}: goal entropy {r['goal_entropy_bits']:.2f} bits, "
                f"{r['distinct_goals']:.1f} distinct goals, path midpoint spread "
                f"{r['midpoint_spread_m']:.2f} m ({r['starts']} starts x {r['seeds']} seeds)"
            )
        return 0
    if a.episodes < 1:
        p.error("--episodes must be >= 1")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    print(
        "| policy | split | control | episodes | goal reached | falls | path ratio (median) "
        "| time to goal (median s) | collision s/ep | env steps/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for policy in a.policies:
        for control in a.control:
            for split in a.splits:
                r = run_split(split, control, a.episodes, a.assist, policy, a.runs, a.replan_s)
                results.append(r)
                ratio = "-" if r["path_ratio_median"] is None else f"{r['path_ratio_median']:.2f}"
                t = r["seconds_to_goal_median"]
                secs = "-" if t is None else f"{t:.1f}"
                print(
                    f"| {policy} | {split} | {r['control']} | {r['episodes']} | {100 * r['success']:.0f}% "
                    f"| {100 * r['falls']:.0f}% | {ratio} | {secs} | {r['collision_s_mean']:.2f} "
                    f"| {r['steps_per_s']:.0f} |",
                    flush=True,
                )
                from scenes.atomic import write_atomic

                write_atomic(out / "results.json", (json.dumps(results, indent=1) + "\n").encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
