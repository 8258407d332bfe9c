"""`plan_climb`: draw plans of a route (seeded), keep the best, and put one draw together.

A draw is `MovePlanner.climb` (keyframes) then `timing.settle` (timed, repaired, cleared frames),
its grips checked by the env's own grip logic (`GripCheck`). Plans are drawn until one reaches
the top with no frame deeper than `clean_depth_m`, up to `attempts`; the best is returned.
"""

from __future__ import annotations

import numpy as np

from navenv.body.skeleton import Skeleton
from navenv.envs.climb.compiled import CompiledWorld, compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.humanoid.pose import motion_from_qpos
from policies.scripted.keyframes import WallClearance
from policies.scripted.planner.config import PlannerConfig
from policies.scripted.planner.moves import MovePlanner
from policies.scripted.planner.timing import settle
from policies.scripted.planner.types import ClimbPlan
from scenes.types import Route, Scene


def plan_climb(
    scene: Scene,
    route: Route,
    *,
    seed: int | np.random.Generator | None,
    skeleton: Skeleton | None = None,
    config: PlannerConfig | None = None,
    env_config: ClimbConfig | None = None,
    world: CompiledWorld | None = None,
) -> ClimbPlan:
    """Plan `route` on `scene` (a pure function of its inputs; the same seed gives the same arrays).

    `skeleton` and `env_config` must be the env's (defaults: the builtin skeleton, ClimbConfig());
    pass an already compiled `world` of them to skip compiling (its data is not touched).
    """
    if route not in scene.routes:
        raise ValueError(f"route {route.id!r} is not one of scene {scene.name!r}'s routes")
    cfg = config or PlannerConfig()
    skeleton, env_cfg = skeleton or Skeleton.builtin(), env_config or ClimbConfig()
    if world is None:
        world = compile_world(scene, skeleton, env_cfg)
    elif world.scene is not scene and world.scene.name != scene.name:
        raise ValueError(f"world is compiled for scene {world.scene.name!r}, not {scene.name!r}")
    rng = np.random.default_rng(seed)
    clearance = WallClearance(scene)  # the scene's rays, shared by every draw
    best, drawn = None, 0
    while drawn < cfg.attempts:
        drawn += 1
        # each draw takes further values from the same generator: still the seed's own plan
        planner = MovePlanner(world, scene, route, rng, cfg, env_cfg.capture_radius, clearance)
        plan = draw(planner, skeleton)
        if best is None or _rank(plan, cfg) > _rank(best, cfg):
            best = plan
        if best.success and _clean(best, cfg):
            break
    best.attempts, best.clean = drawn, _clean(best, cfg)
    return best


def draw(planner: MovePlanner, skeleton: Skeleton) -> ClimbPlan:
    """One plan of the planner's route: keyframes, then timed, repaired and cleared frames."""
    cfg, keyframes = planner.cfg, planner.keyframes
    moves, min_durations = planner.climb()
    best = settle(planner, min_durations)
    qpos = best.qpos
    for k, f in zip(keyframes, best.at):
        k.frame = int(f)
    planner.grips.mark(keyframes, qpos)
    top, final = planner.route.top, keyframes[-1].holds
    success = (
        final.get("left_hand") == top
        and final.get("right_hand") == top
        and all(k.grip_ok for k in keyframes)
    )
    return ClimbPlan(
        motion=motion_from_qpos(qpos, planner.idx, skeleton, cfg.limits.fps),
        qpos=qpos,
        contacts=best.contacts,
        grip=best.grip,
        stances=keyframes,
        moves=list(moves),
        success=bool(success),
        max_ik_error=float(max(k.error for k in keyframes)),
        max_penetration=best.deepest,
        fps=cfg.limits.fps,
        speed_scale=best.speed_scale,
    )


def _clean(plan: ClimbPlan, cfg: PlannerConfig) -> bool:
    """No frame of `plan` deeper than `cfg.clean_depth_m`."""
    return plan.max_penetration <= cfg.clean_depth_m


def _rank(plan: ClimbPlan, cfg: PlannerConfig) -> tuple[bool, bool, float]:
    """Order of preference among a route's plans: success, then clean, then shallower."""
    return (plan.success, _clean(plan, cfg), -plan.max_penetration)
