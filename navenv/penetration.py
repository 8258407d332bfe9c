"""Penetration depth, defined once: how deep a point or a contact is inside something, in metres.

The depth of a point, or of a MuJoCo contact, is its signed distance to the surface negated and
clamped at 0 (outside or touching counts 0); a set's depth is its deepest member's. Everything
that measures sinking goes through here:

- `depths_m` / `deepest_m`: the array core, for signed distances however they were computed
  (benchmarks.metrics.scene's analytic point-to-primitive distances, MuJoCo's contact.dist);
- `own_contacts` / `deepest_penetration`: MuJoCo's contacts that involve the humanoid's own geoms
  (against the scene or against each other), for the whole-body IK's contact rows (navenv.ik) and
  `navenv.sinking.DepthGauge`;
- `frame_depths`: any such per-configuration depth over every frame of a (T, nq) trajectory
  (policies.scripted's keyframes, repair and clearance passes, dataset episodes).
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np
from numpy.typing import ArrayLike


def depths_m(signed_distance: ArrayLike) -> np.ndarray:
    """Per-element depth (m, >= 0) of signed distances (m, negative inside)."""
    return np.maximum(-np.asarray(signed_distance, dtype=np.float64), 0.0)


def deepest_m(signed_distance: ArrayLike) -> float:
    """Depth (m, >= 0) of the deepest of some signed distances (m, negative inside); 0 if none."""
    d = np.asarray(signed_distance, dtype=np.float64)
    return float(max(0.0, -d.min())) if d.size else 0.0


def own_contacts(data: mujoco.MjData, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices into `data.contact` of the contacts involving a geom flagged in `own` ((ngeom,)
    bool), in MuJoCo's order, and their signed distances (m, negative: inside); after
    mj_collision."""
    if not data.ncon:
        return np.zeros(0, int), np.zeros(0)
    con = data.contact[: data.ncon]
    mine = np.flatnonzero(own[con.geom1] | own[con.geom2])
    return mine, con.dist[mine]


def deepest_penetration(model: mujoco.MjModel, data: mujoco.MjData, own_set: np.ndarray) -> float:
    """Deepest contact (m) involving a geom in `own_set` (bool per geom), for the current qpos."""
    mujoco.mj_collision(model, data)
    return deepest_m(own_contacts(data, own_set)[1])


def frame_depths(
    model: mujoco.MjModel,
    qpos: np.ndarray,
    depth: Callable[[mujoco.MjData], float],
    sites: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(T,) `depth(data)` (m) of each configuration of `qpos` (T, nq), posed by mj_kinematics,
    and (T, S, 3) world positions of `sites` there."""
    data = mujoco.MjData(model)
    pen = np.empty(len(qpos))
    pos = np.empty((len(qpos), len(sites), 3))
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        pen[t] = depth(data)
        pos[t] = data.site_xpos[sites]
    return pen, pos
