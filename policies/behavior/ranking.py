"""Sample-and-rank for the behaviour policy: of K sampled plans, keep the one whose path stays
on the walkable grid, clear of the observer, and ends nearest the sub-goal.

The path stage is not told where the furniture is except through its 64 x 64 occupancy crop,
and a sampled path sometimes cuts a table corner. Steering every denoising step off the crop
(`BehaviorPolicyConfig.scene_guidance`) cuts collisions but pulls the samples off what the body
stage was trained on, and the body then falls. Ranking whole samples keeps each plan one the
models drew, and only chooses among them (as Diffusion Policy's users and CLoSD's planner do
with several candidates).
"""

from __future__ import annotations

import numpy as np

from scenes.navigation import NavGrid

MARGIN_M = 0.1
"""Clearance (m, beyond the grid's own body-radius erosion) below which a path frame costs:
the arms swing wider than the pelvis the grid was eroded for."""
OBSERVER_M = 0.5
"""Pelvis-to-observer floor distance (m) below which a path frame costs (bodies touch)."""
COLLISION_WEIGHT = 10.0
"""Cost per metre-frame of intrusion, against 1 per metre of end-point error: any real
intrusion outweighs a plan that ends a little short."""


def intrusion(
    nav: NavGrid,
    points: np.ndarray,
    observer_xy: np.ndarray | None = None,
    margin: float = MARGIN_M,
) -> np.ndarray:
    """(K,) metre-frames each of K world floor paths (K, T, 2) spends inside `margin` of blocked
    cells (a blocked cell or off the grid: margin + half a cell) and inside OBSERVER_M of the
    observer (2,)."""
    pts = np.asarray(points, float)
    if pts.ndim != 3 or pts.shape[-1] != 2:
        raise ValueError(f"intrusion: points {pts.shape}, expected (K, T, 2) world floor points")
    # metres from each frame's cell to the nearest blocked cell's edge: -cell/2 on a blocked cell
    free = nav.clearance_at(pts) - nav.cell / 2
    cost = np.clip(margin - free, 0.0, None)
    if observer_xy is not None:
        gap = np.linalg.norm(pts - np.asarray(observer_xy, float), axis=-1)
        cost += np.clip(OBSERVER_M - gap, 0.0, None)
    return cost.sum(axis=1)


def plan_costs(
    nav: NavGrid,
    paths_xy: np.ndarray,
    goal_xy: np.ndarray,
    observer_xy: np.ndarray | None = None,
    margin: float = MARGIN_M,
) -> np.ndarray:
    """(K,) cost of K world floor paths (K, T, 2) heading for goal_xy (2,): weighted intrusion
    (see `intrusion`) plus the end point's distance (m) from the goal. Lowest is best."""
    end = np.linalg.norm(np.asarray(paths_xy, float)[:, -1] - np.asarray(goal_xy, float), axis=-1)
    return COLLISION_WEIGHT * intrusion(nav, paths_xy, observer_xy, margin) + end
