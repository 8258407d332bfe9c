"""The pelvis pose and velocity from a ClimbRoute observation, and reading its named fields.

`RootEstimator` recovers the root state from the observation alone: the pelvis orientation from
gravity and the route holds' normals seen in the pelvis frame, its position from the holds'
positions seen in the pelvis frame, both matched against the route's known holds (exact up to
float32 rounding). Fields are read through ClimbRoute's observation layout
(navenv.envs.climb.layout), built here from the route lookahead, so this works without an env.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.layout import obs_layout
from navenv.envs.climb.observations import RouteView
from navenv.envs.layout import ObsLayout

DEFAULT_LOOKAHEAD: int = ClimbConfig.route_lookahead
"""Route holds an observation shows when no lookahead is given (ClimbConfig's default)."""


@lru_cache(maxsize=8)
def state_layout(lookahead: int = DEFAULT_LOOKAHEAD) -> ObsLayout:
    """ClimbRoute's proprio | route layout for `lookahead` holds; it reads the flat "state"
    vector and the "proprio"/"route" entries of an "ego" dict alike."""
    return obs_layout("state", lookahead)


def split_obs(obs, lookahead: int = DEFAULT_LOOKAHEAD) -> tuple[np.ndarray, np.ndarray]:
    """(proprio, route) vectors of a ClimbRoute observation (dict with "proprio" and "route", or
    the flat "state" vector of a route with `lookahead` holds)."""
    layout = state_layout(lookahead)
    return layout.group(obs, "proprio"), layout.group(obs, "route")


def gripping(obs, lookahead: int = DEFAULT_LOOKAHEAD) -> np.ndarray:
    """(4,) bool: which limbs grip, from the observation's proprioception."""
    return state_layout(lookahead).get(obs, "grips") > 0.5


@dataclass
class RootState:
    """The pelvis in the world: position (m), rotation (3, 3), linear (m/s) and angular (rad/s)
    velocity, both world frame."""

    pos: np.ndarray
    rot: np.ndarray
    linvel: np.ndarray
    angvel: np.ndarray


class RootEstimator:
    """The pelvis pose and velocity from a ClimbRoute observation ("state" vector or "ego" dict),
    using the route's holds (a RouteView of the env's scene and route)."""

    def __init__(self, view: RouteView) -> None:
        self.view = view
        self.obs_layout = state_layout(view.lookahead)
        self._holds = self.obs_layout.vector.field("holds")
        k, n = view.lookahead, len(view.hand_seq)
        # every window of `k` hand-sequence holds the observation can show (top repeated)
        self.windows = np.array(
            [view.hand_seq[np.minimum(np.arange(r + 1, r + 1 + k), n - 1)] for r in range(-1, n)]
        )

    def estimate(self, obs) -> RootState:
        """Root state from `obs`: orientation by a weighted Kabsch fit of gravity, hold normals
        and hold offsets (seen in the pelvis frame) to their world values over every window of
        route holds the observation may show; position from the holds, velocities rotated out of
        the pelvis frame."""
        layout, k = self.obs_layout, self.view.lookahead
        holds = layout.get(obs, "holds").astype(np.float64)  # (k, 8)
        rel = self._holds.column(holds, "position")
        normals = self._holds.column(holds, "normal")
        gravity = layout.get(obs, "gravity").astype(np.float64)
        best = None
        for window in self.windows:
            p_w, n_w = self.view.all_pos[window], self.view.all_normal[window]
            # body-frame vectors b_i = R^T w_i: gravity, normals, offsets between holds
            w = [np.array([0.0, 0.0, -1.0]), *n_w, *(p_w[1:] - p_w[:1])]
            b = [gravity, *normals, *(rel[1:] - rel[:1])]
            weights = [4.0] + [1.0] * k + [2.0] * (k - 1)
            rot = _kabsch(np.array(b), np.array(w), np.array(weights))
            pos = (p_w - rel @ rot.T).mean(axis=0)
            resid = float(np.abs(p_w - (pos + rel @ rot.T)).sum())
            resid += float(np.abs(n_w - normals @ rot.T).sum())
            if best is None or resid < best[0]:
                best = (resid, rot, pos)
        _, rot, pos = best
        linvel = rot @ layout.get(obs, "root_linvel").astype(np.float64)
        angvel = rot @ layout.get(obs, "root_angvel").astype(np.float64)
        return RootState(pos, rot, linvel, angvel)


def _kabsch(body: np.ndarray, world: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rotation R minimising sum w_i |R b_i - w_i|^2 (Wahba's problem by SVD)."""
    h = (weights[:, None] * world).T @ body
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    return u @ np.diag([1.0, 1.0, d]) @ vt


__all__ = ["RootEstimator", "RootState", "gripping", "split_obs", "state_layout"]
