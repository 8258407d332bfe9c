"""Policies in RoomNav-v0 on every room split: goal reached, path ratio, collisions, falls.

    python -m benchmarks.room_policies --episodes 24 --control kinematic physics \
        --policies scripted behavior --out runs/room_policies

Policies: `scripted` (the RoomAgent that made the data) and `behavior` (the learned goal -> path
-> body chain, `HierarchicalBehaviorPolicy`, walking to the env's goal; `--runs DIR` takes the
stages from a runs folder instead of the shipped checkpoints). Each split's episodes are seeds
0..N-1 (scene, spawn, goal, observer behaviour and the scripted agent's profile all drawn from
the seed), the same for every policy. Path ratio = pelvis path length / geodesic distance from the
spawn to the goal's approach area. Closest to observer = the least pelvis-to-observer floor
distance of an episode (the observer's personal room kept, or not).

`--observer-in-way P` puts the observer in the agent's way in a share P of the episodes, chosen
and placed as `navenv data generate --env room --observer-in-way` does (episode seed s is one
when `policies.data.room.in_way_drawn(s, P)`; the observer then stands still
IN_WAY_M along the shortest path to the env's goal, on ways at least IN_WAY_MIN_M long; shorter
ones keep the observer the env drew). `--no-avoid-observer` runs the behaviour policy with its
sub-goal on the observer-free shortest path (`BehaviorPolicyConfig.avoid_observer=False`);
`--scene-guidance W` nudges its sampled paths off the occupancy crop's occupied cells
(`BehaviorPolicyConfig.scene_guidance`); `--candidates K` samples K plans per re-plan and plays
the one clearest of furniture and the observer (`BehaviorPolicyConfig.candidates`, 16 by
default); `--in-sight` keeps the sub-goal in straight sight (`BehaviorPolicyConfig.in_sight`):

    python -m benchmarks.room_policies --episodes 12 --control kinematic \
        --splits rooms_test_iid rooms_test_novel --observer-in-way 1 --policies scripted behavior
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOM_SPLITS = ("rooms_train", "rooms_val", "rooms_test_iid", "rooms_test_novel")


POLICIES = ("scripted", "behavior")
HALF_M = 0.5  # closer than this to the observer counts as brushing past it


def make_policy(name: str, runs: str | None = None, options: dict | None = None):
    """A RoomNav-v0 policy by bench name; `options` are BehaviorPolicyConfig fields for
    `behavior` (ignored by `scripted`)."""
    if name == "scripted":
        from policies.scripted.room import RoomAgent

        return RoomAgent()
    if name == "behavior":
        from policies.behavior.hierarchy import BehaviorModel
        from policies.behavior.policy import BehaviorPolicyConfig, HierarchicalBehaviorPolicy

        model = (
            BehaviorModel(*(Path(runs) / n / "model" for n in ("goal", "path", "body")))
            if runs
            else BehaviorModel.shipped()
        )
        return HierarchicalBehaviorPolicy(model, BehaviorPolicyConfig(**(options or {})))
    raise ValueError(f"policy {name!r}: expected one of {POLICIES}")


def run_split(
    split: str,
    control: str,
    episodes: int,
    assist: str,
    policy: str = "scripted",
    runs=None,
    observer_in_way: float = 0.0,
    options: dict | None = None,
) -> dict:
    """Roll `policy` over `episodes` seeds of `split`; per-episode rows and means
    (`observer_in_way`: the share of episodes with the observer standing in the agent's way,
    see the module doc; `options`: BehaviorPolicyConfig fields for `behavior`)."""
    from navenv.envs.registration import ROOM_MAX_EPISODE_STEPS
    from navenv.envs.room import RoomNavEnv

    kw = {"control": control}
    if control == "physics":
        kw["assist"] = assist
    env = RoomNavEnv(obs="state", scene_split=split, width=16, height=16, **kw)
    options = dict(options or {}) if policy == "behavior" else {}
    agent = make_policy(policy, runs, options)
    rows, steps, start = [], 0, time.perf_counter()
    for seed in range(episodes):
        obs, info, in_way = reset_episode(env, seed, observer_in_way)
        agent.reset(seed=seed, info=info)
        fell, t = False, 0
        closest = _gap(info)
        for t in range(ROOM_MAX_EPISODE_STEPS):  # noqa: B007 (t is the episode length)
            obs, _, term, trunc, info = env.step(agent.act(obs))
            steps += 1
            fell = fell or info["reward_fall"] != 0.0
            closest = min(closest, _gap(info))
            if term or trunc:
                break
        rows.append(
            {
                "seed": seed,
                "scene": info_scene(env),
                "goal": info["goal_label"],
                "observer": info["observer_mode"],
                "observer_in_way": in_way,
                "closest_to_observer_m": closest,
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
    name = f"{policy} ({_label(options)})" if _label(options) else policy
    closest = [r["closest_to_observer_m"] for r in rows]
    in_way = [r["closest_to_observer_m"] for r in rows if r["observer_in_way"]]
    return {
        "split": split,
        "policy": name,
        "observer_in_way": observer_in_way,
        "episodes_in_way": sum(r["observer_in_way"] for r in rows),
        "control": control if control == "kinematic" else f"physics/{assist}",
        "episodes": episodes,
        "success": float(np.mean([r["success"] for r in rows])),
        "falls": float(np.mean([r["fall"] for r in rows])),
        "path_ratio_median": float(np.median([r["path_ratio"] for r in ok])) if ok else None,
        "seconds_to_goal_median": float(np.median([r["seconds"] for r in ok])) if ok else None,
        "collision_s_mean": float(np.mean([r["collision_s"] for r in rows])),
        "closest_to_observer_m_mean": float(np.mean(closest)),
        "closest_to_observer_m_min": float(np.min(closest)),
        "within_half_m": float(np.mean(np.array(closest) < HALF_M)),
        "closest_in_way_m_mean": float(np.mean(in_way)) if in_way else None,
        "closest_in_way_m_min": float(np.min(in_way)) if in_way else None,
        "steps_per_s": steps / wall,
        "rows": rows,
    }


def reset_episode(env, seed: int, observer_in_way: float = 0.0) -> tuple:
    """(obs, info, in_way) of episode `seed`: the env's own draw, or, for an in-the-way seed
    (the data generator's rule and placement, see the module doc), the same room, spawn and goal
    with the observer standing in the agent's way."""
    from policies.data.room import in_way_drawn, point_on_way

    obs, info = env.reset(seed=seed)
    if not in_way_drawn(seed, observer_in_way):
        return obs, info, False
    at = point_on_way(env.unwrapped.world.nav, info["agent_xy"], info["goal_approach"])
    if at is None:  # a way too short to stand on: the episode keeps its observer
        return obs, info, False
    # The seed draws the same room and spawn again (the goal given, its draw keeps its place).
    opts = {"goal": info["goal_index"], "observer": "stand", "observer_at": at}
    obs, info = env.reset(seed=seed, options=opts)
    return obs, info, True


def _gap(info: dict) -> float:
    """Pelvis-to-observer floor distance (m) of an env info."""
    return float(np.linalg.norm(np.asarray(info["agent_xy"]) - info["observer_xy"]))


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


def _label(options: dict) -> str:
    """The behaviour options that differ from the defaults, for the table's policy column."""
    parts = []
    if options.get("avoid_observer") is False:
        parts.append("avoid off")
    if options.get("scene_guidance"):
        parts.append(f"guidance {options['scene_guidance']:g}")
    if "candidates" in options:
        parts.append(f"best of {options['candidates']}")
    if options.get("in_sight"):
        parts.append("in sight")
    if options.get("replan_s") is not None:
        parts.append(f"replan {options['replan_s']:g} s")
    return ", ".join(parts)


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
    p.add_argument(
        "--observer-in-way",
        type=float,
        default=0.0,
        metavar="P",
        help="share of episodes whose observer stands in the agent's way (as data generate)",
    )
    p.add_argument(
        "--no-avoid-observer",
        action="store_true",
        help="behavior: sub-goal on the observer-free shortest path",
    )
    p.add_argument(
        "--scene-guidance",
        type=float,
        default=0.0,
        help="behavior: weight of the path stage's nudge off occupied crop cells (0: off)",
    )
    p.add_argument(
        "--candidates",
        type=int,
        default=None,
        metavar="K",
        help="behavior: plans sampled per re-plan, the clearest played (default: the config's "
        "16; 1: the first sample)",
    )
    p.add_argument(
        "--in-sight",
        action="store_true",
        help="behavior: sub-goal no farther along the way than in straight sight",
    )
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
    if not 0.0 <= a.observer_in_way <= 1.0:
        p.error("--observer-in-way must be in [0, 1]")
    if a.candidates is not None and a.candidates < 1:
        p.error("--candidates must be >= 1")
    options = {
        "avoid_observer": not a.no_avoid_observer,
        "scene_guidance": a.scene_guidance,
        "in_sight": a.in_sight,
        **({"candidates": a.candidates} if a.candidates is not None else {}),
        **({"replan_s": a.replan_s} if a.replan_s is not None else {}),
    }
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    print(
        "| policy | split | control | episodes | goal reached | falls | path ratio (median) "
        "| time to goal (median s) | collision s/ep | observer in way | closest to observer "
        "(mean / min m) | ... in-way episodes | < 0.5 m | env steps/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for policy in a.policies:
        for control in a.control:
            for split in a.splits:
                r = run_split(
                    split,
                    control,
                    a.episodes,
                    a.assist,
                    policy,
                    a.runs,
                    a.observer_in_way,
                    options,
                )
                results.append(r)
                ratio = "-" if r["path_ratio_median"] is None else f"{r['path_ratio_median']:.2f}"
                t = r["seconds_to_goal_median"]
                secs = "-" if t is None else f"{t:.1f}"
                m = r["closest_in_way_m_mean"]
                way = "-" if m is None else f"{m:.2f} / {r['closest_in_way_m_min']:.2f}"
                print(
                    f"| {r['policy']} | {split} | {r['control']} | {r['episodes']} "
                    f"| {100 * r['success']:.0f}% | {100 * r['falls']:.0f}% | {ratio} | {secs} "
                    f"| {r['collision_s_mean']:.2f} | {r['episodes_in_way']} "
                    f"| {r['closest_to_observer_m_mean']:.2f} / {r['closest_to_observer_m_min']:.2f} "
                    f"| {way} | {100 * r['within_half_m']:.0f}% | {r['steps_per_s']:.0f} |",
                    flush=True,
                )
                from scenes.atomic import write_atomic

                write_atomic(out / "results.json", (json.dumps(results, indent=1) + "\n").encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
