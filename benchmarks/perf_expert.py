"""How well the scripted expert climbs: completion per split, kinematic and (optionally) physics.

    python benchmarks/perf_expert.py                       # every route of every split, kinematic
    python benchmarks/perf_expert.py --max-routes 24 --physics
    python benchmarks/perf_expert.py --attempts 1                # one draw per route, no redraws

For each split (train, test_iid, test_novel_geometry, test_novel_holds by default) and each of its
scenes' routes (or the first --max-routes in scene order, a fixed sample), the ScriptedClimber
plans the route (seed --seed) and climbs it in ClimbRoute-v0 (obs="state", the scene object and the
route id) with control="kinematic"; completion is info["is_success"] when the episode ends. With
--physics it also climbs it with control="physics", assist="residual" (the same plan) and records
completion and the mean of info["assist_norm"] (residual root force in body weights). Target: at
least 95 % kinematic completion on train; `clean` is the share of routes climbed with no frame
deeper than 2 cm (PlannerConfig.clean_depth_m, the planner's penetration tolerance). The table also
gives the share of plans that reached the top with every grip landing (plan_ok), the mean planning
time on one core (the reference the rest is measured against: an episode replays in a fraction of
it) and the mean number of plans drawn per route (draws: a plan that sinks deeper than
PlannerConfig.clean_depth_m is drawn again), and how far the planned body sinks into the scene or
itself (contacts, and limbs right through a panel, which contacts miss:
`navenv.sinking.DepthGauge`): the share of IK keyframes and of all frames deeper than SUNK_M, the
median over routes of each plan's deepest point, and the share of routes whose deepest point is
deeper than 2 and 5 cm (DEEP_M).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per worker
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

SPLITS = ("train", "test_iid", "test_novel_geometry", "test_novel_holds")
SUNK_M = 0.01  # a contact deeper than this counts as sunk in (twice the planner's IK tolerance)
DEEP_M = (0.02, 0.05)  # the table's share of routes whose deepest frame is deeper than these


@dataclass
class Result:
    """One route's outcome."""

    split: str
    scene: str
    route: str
    plan_ok: bool
    plan_seconds: float
    plan_frames: int
    plan_attempts: int
    kinematic_success: bool
    kinematic_progress: float
    sunk_keyframes: float = 0.0  # share of the plan's keyframes deeper than SUNK_M
    sunk_frames: float = 0.0  # share of its frames deeper than SUNK_M
    max_penetration_m: float = 0.0  # its deepest contact
    physics_success: bool | None = None
    physics_progress: float | None = None
    mean_assist: float | None = None
    error: str | None = None


def tasks(splits: list[str], max_routes: int | None) -> list[tuple[str, int, int]]:
    """(split, scene index, route index) for every route, or the first max_routes per split."""
    from scenes import splits as scene_splits

    out = []
    for split in splits:
        chosen = []
        for i, spec in enumerate(scene_splits.get(split)):
            n_routes = len(_scene(split, i, spec).routes)
            chosen += [(split, i, r) for r in range(n_routes)]
            if max_routes is not None and len(chosen) >= max_routes:
                break
        out += chosen[:max_routes] if max_routes is not None else chosen
    return out


_SCENES: dict = {}


def _scene(split: str, index: int, spec=None):
    """The scene of a split entry (built once per process)."""
    key = (split, index)
    if key not in _SCENES:
        if spec is None:
            from scenes import splits as scene_splits

            spec = scene_splits.get(split)[index]
        _SCENES.clear()  # one scene at a time: tasks arrive grouped by scene
        _SCENES[key] = spec.build()
    return _SCENES[key]


def run_episode(env, climber, seed: int) -> tuple[bool, float, float]:
    """Climb one episode; returns (success, route progress, mean assist in body weights)."""
    obs, info = env.reset(seed=seed)
    climber.reset(seed=seed, info=info)
    assist, done = [], False
    while not done:
        obs, _, terminated, truncated, info = env.step(climber.act(obs))
        assist.append(info["assist_norm"])
        done = terminated or truncated
    return bool(info["is_success"]), float(info["route_progress"]), float(np.mean(assist))


def evaluate(
    task: tuple[str, int, int], seed: int, physics: bool, attempts: int | None = None
) -> Result:
    """Plan, then climb kinematically (and in physics) one route (attempts: PlannerConfig's
    draws per plan, None for its default)."""
    import gymnasium as gym

    import navenv  # noqa: F401  (registers ClimbRoute-v0)
    from navenv.sinking import SceneRays
    from policies.scripted import PlannerConfig, ScriptedClimber
    from policies.scripted.keyframes import frame_penetration

    split, index, r = task
    scene = _scene(split, index)
    route = scene.routes[r]
    res = Result(split, scene.name, route.id, False, 0.0, 0, 0, False, 0.0)
    try:
        cfg = PlannerConfig() if attempts is None else PlannerConfig(attempts=attempts)
        kin = ScriptedClimber(cfg, control="kinematic")
        start = time.perf_counter()
        plan = kin.plan_for(scene, route, seed)
        res.plan_seconds = time.perf_counter() - start
        res.plan_ok, res.plan_frames = plan.success, plan.num_frames
        res.plan_attempts = plan.attempts
        env = gym.make(
            "ClimbRoute-v0", scene=scene, route=route.id, obs="state", control="kinematic"
        )
        u = env.unwrapped
        own = u.index.geom_mask(u.model.ngeom)
        pen = frame_penetration(u.model, plan.qpos, own, SceneRays(scene))  # through panels too
        res.sunk_frames, res.max_penetration_m = float(np.mean(pen > SUNK_M)), float(pen.max())
        keyframes = np.array([k.frame for k in plan.stances])  # as they are after every pass
        res.sunk_keyframes = float(np.mean(pen[keyframes] > SUNK_M))
        res.kinematic_success, res.kinematic_progress, _ = run_episode(env, kin, seed)
        env.close()
        if physics:
            phys = ScriptedClimber(control="physics", assist="residual", plan_cache=kin.plan_cache)
            env = gym.make(
                "ClimbRoute-v0",
                scene=scene,
                route=route.id,
                obs="state",
                control="physics",
                assist="residual",
            )
            res.physics_success, res.physics_progress, res.mean_assist = run_episode(
                env, phys, seed
            )
            env.close()
    except Exception as e:  # one broken route must not hide the others' figures
        res.error = f"{type(e).__name__}: {e}"
    return res


def _clean(r: Result) -> bool:
    """Climbed kinematically with no frame deeper than the planner's tolerance."""
    return r.kinematic_success and r.max_penetration_m <= DEEP_M[0]


def _evaluate_star(args) -> Result:
    return evaluate(*args)


def table(results: list[Result], physics: bool) -> str:
    """The per-split summary table (percentages over routes)."""
    head = f"{'split':22s} {'routes':>6s} {'kinematic':>9s} {'clean':>6s} {'plan_ok':>7s}"
    head += f" {'plan_s':>6s}"
    head += (
        f" {'draws':>5s} {'sunk_key':>8s} {'sunk_frm':>8s} {'pen_mm':>6s} {'>2cm':>5s} {'>5cm':>5s}"
    )
    if physics:
        head += f" {'physics':>7s} {'progress':>8s} {'assist_bw':>9s}"
    lines = [head, "-" * len(head)]
    for split in dict.fromkeys(r.split for r in results):
        rs = [r for r in results if r.split == split]
        line = (
            f"{split:22s} {len(rs):6d} {100 * np.mean([r.kinematic_success for r in rs]):8.1f}%"
            f" {100 * np.mean([_clean(r) for r in rs]):5.1f}%"
            f" {100 * np.mean([r.plan_ok for r in rs]):6.1f}%"
            f" {np.mean([r.plan_seconds for r in rs]):6.2f}"
            f" {np.mean([r.plan_attempts for r in rs]):5.2f}"
            f" {100 * np.mean([r.sunk_keyframes for r in rs]):7.1f}%"
            f" {100 * np.mean([r.sunk_frames for r in rs]):7.1f}%"
            f" {1000 * np.median([r.max_penetration_m for r in rs]):6.0f}"
            f" {100 * np.mean([r.max_penetration_m > DEEP_M[0] for r in rs]):4.0f}%"
            f" {100 * np.mean([r.max_penetration_m > DEEP_M[1] for r in rs]):4.0f}%"
        )
        if physics:
            ok = [r for r in rs if r.physics_success is not None]
            line += (
                f" {100 * np.mean([r.physics_success for r in ok]) if ok else float('nan'):6.1f}%"
                f" {np.mean([r.physics_progress for r in ok]) if ok else float('nan'):8.2f}"
                f" {np.mean([r.mean_assist for r in ok]) if ok else float('nan'):9.3f}"
            )
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run every route in a pool, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", nargs="+", default=list(SPLITS))
    parser.add_argument("--max-routes", type=int, default=None, help="routes per split (fixed)")
    parser.add_argument("--physics", action="store_true", help="also climb with physics + assist")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--attempts",
        type=int,
        default=None,
        help="plans drawn per route (default: PlannerConfig.attempts)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print every route's result")
    args = parser.parse_args()
    from tqdm import tqdm

    todo = tasks(args.splits, args.max_routes)
    jobs = [(t, args.seed, args.physics, args.attempts) for t in todo]
    start = time.perf_counter()
    if args.workers > 1:
        with get_context("spawn").Pool(args.workers) as pool:
            results = list(
                tqdm(pool.imap(_evaluate_star, jobs, chunksize=1), total=len(jobs), desc="routes")
            )
    else:
        results = [evaluate(*j) for j in tqdm(jobs, desc="routes")]
    for r in results:
        if args.verbose or r.error:
            print(r)
    print(table(results, args.physics))
    print(
        f"{len(results)} routes in {time.perf_counter() - start:.0f} s with {args.workers} workers"
    )


if __name__ == "__main__":
    main()
