"""The learned hierarchy reacting to the observer: the same start, the observer elsewhere.

Two kinematic RoomNav-v0 rollouts of `HierarchicalBehaviorPolicy` from the same room, spawn,
goal and sampling seed; the observer stands still, once away from the agent's way and once on
it (on the shortest path, `--on-path-m` ahead). Because the observer's track is one of the
models' conditions, the plans differ; the script prints how (the paths' largest gap, the closest
each comes to the observer) and writes a side-by-side tripod video and a top-down plot:

    MUJOCO_GL=egl python -m benchmarks.behavior_observer --seed 4 --out docs/images

`--no-avoid-observer` plans the task sub-goal on the observer-free shortest path (the policy's
behaviour before `BehaviorPolicyConfig.avoid_observer`), for the comparison.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np


def rollout(
    model,
    seed: int,
    observer_at,
    seconds: float,
    render: bool,
    steps: int | None,
    avoid_observer: bool = True,
):
    """Pelvis path (T, 2) and tripod frames of one rollout with the observer standing at a point
    (`avoid_observer`: BehaviorPolicyConfig's, the sub-goal planned round the observer)."""
    from navenv.envs.room import RoomNavEnv
    from policies.behavior.policy import BehaviorPolicyConfig, HierarchicalBehaviorPolicy

    env = RoomNavEnv(
        obs="state",
        scene_split="rooms_val",
        render_mode="rgb_array" if render else None,
        render_width=320,
        render_height=240,
    )
    obs, info = env.reset(seed=seed, options={"observer": "stand", "observer_at": observer_at})
    cfg = BehaviorPolicyConfig(seed=seed, steps=steps, avoid_observer=avoid_observer)
    pol = HierarchicalBehaviorPolicy(model, cfg)
    pol.reset(seed=seed, info=info)
    path, frames = [], []
    for _ in range(round(seconds / env.dt)):
        obs, _, term, trunc, info = env.step(pol.act(obs))
        path.append(env._agent_pose()[0])
        if render:
            frames.append(env.render())
        if term or trunc:
            break
    return np.array(path), frames, info


def spawn_and_way(seed: int, ahead_m: float):
    """The spawn, the observer's on-path point `ahead_m` along the shortest path, and an
    away point (the free cell farthest from that path)."""
    from navenv.envs.room import RoomNavEnv
    from scenes.navigation import NavGrid, plan_path, smooth_path

    env = RoomNavEnv(obs="state", scene_split="rooms_val")
    _, info = env.reset(seed=seed, options={"observer": "stand"})
    nav = NavGrid.from_scene(info["scene"])
    xy = np.asarray(info["agent_xy"], float)
    goal = info["goal_approach"][np.argmin(np.linalg.norm(info["goal_approach"] - xy, axis=1))]
    pts = smooth_path(plan_path(nav, xy, goal), nav)
    dense = np.concatenate(
        [
            np.linspace(a, b, max(int(np.linalg.norm(b - a) / 0.05), 2))
            for a, b in itertools.pairwise(pts)
        ]
    )
    arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
    on = dense[min(np.searchsorted(arc, ahead_m), len(dense) - 1)]
    free = nav.free_points()
    gap = np.min(np.linalg.norm(free[:, None] - dense[None], axis=-1), axis=1)
    away = free[int(np.argmax(gap))]
    return on, away, dense


def main(argv=None) -> int:
    """Run both rollouts, print the comparison, write the video and plot."""
    from navenv.video import write_mp4
    from policies.behavior.hierarchy import BehaviorModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--on-path-m", type=float, default=1.8)
    p.add_argument("--runs", default=None, help="stage runs folder (default: shipped models)")
    p.add_argument("--steps", type=int, default=10, help="DDIM steps per stage")
    p.add_argument("--out", default="runs/behavior_observer")
    p.add_argument("--no-video", action="store_true")
    p.add_argument(
        "--no-avoid-observer",
        action="store_true",
        help="sub-goal on the observer-free shortest path (BehaviorPolicyConfig.avoid_observer)",
    )
    a = p.parse_args(argv)
    model = (
        BehaviorModel(*(Path(a.runs) / n / "model" for n in ("goal", "path", "body")))
        if a.runs
        else BehaviorModel.shipped()
    )
    on, away, way = spawn_and_way(a.seed, a.on_path_m)
    runs = {}
    for name, at in (("observer away", away), ("observer on the way", on)):
        path, frames, info = rollout(
            model, a.seed, at, a.seconds, not a.no_video, a.steps, not a.no_avoid_observer
        )
        runs[name] = {"at": at, "path": path, "frames": frames, "success": info["is_success"]}
    pa, pb = runs["observer away"]["path"], runs["observer on the way"]["path"]
    n = min(len(pa), len(pb))
    report = {
        "seed": a.seed,
        "avoid_observer": not a.no_avoid_observer,
        "max_gap_m": float(np.linalg.norm(pa[:n] - pb[:n], axis=1).max()),
        **{
            f"{k}: closest to observer m": float(np.linalg.norm(r["path"] - r["at"], axis=1).min())
            for k, r in runs.items()
        },
        **{f"{k}: goal reached": bool(r["success"]) for k, r in runs.items()},
    }
    print(json.dumps(report, indent=1))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "behavior_observer.json").write_text(json.dumps(report, indent=1) + "\n")
    _plot(runs, way, out / "behavior_observer.png")
    if not a.no_video:
        fa, fb = runs["observer away"]["frames"], runs["observer on the way"]["frames"]
        m = min(len(fa), len(fb))
        both = [np.concatenate([fa[i], fb[i]], axis=1) for i in range(0, m, 2)]
        write_mp4(out / "behavior_observer.mp4", both, fps=15)
    return 0


def _plot(runs: dict, way: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(way[:, 0], way[:, 1], "k:", label="shortest path")
    for (name, r), c in zip(runs.items(), ("tab:blue", "tab:red")):
        ax.plot(r["path"][:, 0], r["path"][:, 1], color=c, label=f"agent, {name}")
        ax.scatter(*r["at"], color=c, marker="^", s=80)
    ax.set_aspect("equal")
    ax.legend(fontsize=7)
    ax.set_title("Same start and seed; the observer (triangle) moved")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
