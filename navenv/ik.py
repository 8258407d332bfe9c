"""Whole-body inverse kinematics: damped least squares on MuJoCo Jacobians.

Position targets for sites (hands, feet, ...), a posture prior in the null space, joint limits,
and (optionally) contact avoidance: every contact deeper than `penetration_tol` adds a row that
pushes its contact point back out along the contact normal (contact depths: `navenv.penetration`,
whose `deepest_penetration` is re-exported here). Used to spawn the climber in its start
stance and by the scripted climber to plan reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

from navenv.penetration import deepest_penetration, own_contacts

__all__ = ["IKConfig", "IKResult", "SiteTarget", "deepest_penetration", "solve_ik"]


@dataclass
class SiteTarget:
    """Put `site` (id) at `pos` (world, metres) with importance `weight`; optionally turn it so
    each (local axis, world direction) pair in `axes` lines up, with weight `axis_weight` per
    radian."""

    site: int
    pos: np.ndarray
    weight: float = 1.0
    axes: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    axis_weight: float = 0.1


@dataclass
class IKConfig:
    """Solver settings."""

    iterations: int = 60
    """Maximum Gauss-Newton iterations."""
    damping: float = 1e-3
    """Levenberg-Marquardt damping (m^2)."""
    posture_weight: float = 0.05
    """Weight of the pull toward the posture prior, per hinge (dimensionless vs. metres)."""
    root_posture_weight: float = 0.0
    """Weight of the pull toward the prior's root position/orientation (0 = free root)."""
    max_step: float = 0.25
    """Largest joint step per iteration (rad or m), for robustness far from the solution."""
    tolerance: float = 1e-3
    """Stop when every target is within this distance (m)."""
    avoid_contacts: bool = True
    """Push penetrating humanoid geoms out of the scene (and of each other)."""
    penetration_tol: float = 0.005
    """Contacts shallower than this (m) are allowed."""
    contact_weight: float = 2.0
    """Weight of a contact-avoidance row relative to a unit-weight target."""
    dof_mask: np.ndarray | None = field(default=None, repr=False)
    """(nv,) bool: which dofs may move (None: all)."""

    def __post_init__(self) -> None:
        if self.iterations < 1 or self.damping <= 0 or self.max_step <= 0:
            raise ValueError(
                f"IKConfig: iterations >= 1, damping > 0 and max_step > 0 required, got {self}"
            )


@dataclass
class IKResult:
    """Solution and how good it is."""

    qpos: np.ndarray
    errors: np.ndarray  # (n_targets,) final distances, metres
    max_penetration: float  # metres, deepest remaining contact
    iterations: int

    @property
    def converged(self) -> bool:
        """All targets reached within 1 cm and no contact deeper than 1 cm."""
        return bool((self.errors < 0.01).all() and self.max_penetration < 0.01)


def solve_ik(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    targets: list[SiteTarget],
    posture: np.ndarray | None = None,
    config: IKConfig | None = None,
    humanoid_geoms: np.ndarray | None = None,
) -> IKResult:
    """Move data.qpos to meet the site targets; returns the solution (data holds it too).

    posture: (nq,) prior configuration (default: the starting qpos). humanoid_geoms: geom ids
    whose contacts should be resolved (default: every non-world-body geom).
    """
    cfg = config or IKConfig()
    nv = model.nv
    q_prior = data.qpos.copy() if posture is None else np.asarray(posture, dtype=np.float64).copy()
    mask = np.ones(nv, bool) if cfg.dof_mask is None else np.asarray(cfg.dof_mask, bool)
    limited = model.jnt_limited.astype(bool) & (model.jnt_type == mujoco.mjtJoint.mjJNT_HINGE)
    lim_q = model.jnt_qposadr[limited]
    lim_v = model.jnt_dofadr[limited]
    lim_lo, lim_hi = model.jnt_range[limited, 0], model.jnt_range[limited, 1]
    hinge = model.jnt_type == mujoco.mjtJoint.mjJNT_HINGE
    hinge_q, hinge_v = model.jnt_qposadr[hinge], model.jnt_dofadr[hinge]
    free = model.jnt_type == mujoco.mjtJoint.mjJNT_FREE
    free_v = (
        np.concatenate([np.arange(a, a + 6) for a in model.jnt_dofadr[free]])
        if free.any()
        else np.zeros(0, int)
    )
    own = humanoid_geoms if humanoid_geoms is not None else np.flatnonzero(model.geom_bodyid > 0)
    own_set = np.zeros(model.ngeom, bool)
    own_set[own] = True
    jacp = np.zeros((3, nv))
    jacr = np.zeros((3, nv))
    errors = np.zeros(len(targets))
    penetration = 0.0
    best_q, best_score = data.qpos.copy(), np.inf  # the solver can cycle: keep the best iterate
    it = 0
    while it < cfg.iterations:
        it += 1
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        rows, rhs = [], []
        for k, t in enumerate(targets):
            mujoco.mj_jacSite(model, data, jacp, jacr, t.site)
            e = np.asarray(t.pos) - data.site_xpos[t.site]
            errors[k] = np.linalg.norm(e)
            rows.append(t.weight * jacp.copy())
            rhs.append(t.weight * e)
            if t.axes:
                rot = data.site_xmat[t.site].reshape(3, 3)
                for local, world in t.axes:
                    # angular velocity that turns the current axis toward the wanted direction
                    rows.append(t.axis_weight * jacr.copy())
                    rhs.append(t.axis_weight * _cross(rot @ np.asarray(local), np.asarray(world)))
        penetration = 0.0
        if cfg.avoid_contacts:
            mujoco.mj_collision(model, data)
            penetration = _contact_rows(model, data, own_set, cfg, rows, rhs)
        score = errors.max(initial=0.0) + max(0.0, penetration - cfg.penetration_tol)
        if score < best_score:
            best_q[:], best_score = data.qpos, score
        if errors.max(initial=0.0) < cfg.tolerance and penetration < cfg.penetration_tol:
            break
        J = np.concatenate(rows)[:, mask] if rows else np.zeros((0, mask.sum()))
        b = np.concatenate(rhs) if rhs else np.zeros(0)
        # posture prior: weighted pull of hinges (and optionally the root) toward q_prior
        reg = np.zeros(nv)
        reg[hinge_v] = cfg.posture_weight
        reg[free_v] = cfg.root_posture_weight
        pull = np.zeros(nv)
        pull[hinge_v] = cfg.posture_weight * (q_prior[hinge_q] - data.qpos[hinge_q])
        if cfg.root_posture_weight > 0 and free.any():
            dq_root = np.zeros(nv)
            mujoco.mj_differentiatePos(model, dq_root, 1.0, data.qpos, q_prior)
            pull[free_v] = cfg.root_posture_weight * dq_root[free_v]
        dq = _solve_step(J, b, reg, pull, mask, cfg, data.qpos, lim_q, lim_v, lim_lo, lim_hi)
        mujoco.mj_integratePos(model, data.qpos, dq, 1.0)
        data.qpos[lim_q] = np.clip(data.qpos[lim_q], lim_lo, lim_hi)
    data.qpos[:] = best_q
    mujoco.mj_kinematics(model, data)
    for k, t in enumerate(targets):
        errors[k] = np.linalg.norm(np.asarray(t.pos) - data.site_xpos[t.site])
    penetration = deepest_penetration(model, data, own_set) if cfg.avoid_contacts else 0.0
    return IKResult(
        qpos=data.qpos.copy(),
        errors=errors.copy(),
        max_penetration=float(penetration),
        iterations=it,
    )


def _solve_step(
    J, b, reg, pull, mask, cfg: IKConfig, qpos, lim_q, lim_v, lim_lo, lim_hi
) -> np.ndarray:
    """One damped least-squares step with an active set for joint limits: hinges at a limit that
    the step would push further out are frozen and the step is solved again without them, so
    limits do not stall the solver the way clipping alone does."""
    nv = len(mask)
    free = mask.copy()
    at_lo = qpos[lim_q] <= lim_lo + 1e-9
    at_hi = qpos[lim_q] >= lim_hi - 1e-9
    dq = np.zeros(nv)
    for _ in range(3):
        cols = np.flatnonzero(free)
        Jf = J[:, free[mask]] if J.shape[1] else J
        A = Jf.T @ Jf + np.diag(reg[cols] ** 2 + cfg.damping)
        dq[:] = 0.0
        dq[cols] = np.linalg.solve(A, Jf.T @ b + reg[cols] * pull[cols])
        pushing = (at_lo & (dq[lim_v] < 0)) | (at_hi & (dq[lim_v] > 0))
        if not pushing.any():
            break
        free[lim_v[pushing]] = False
    step = np.abs(dq).max(initial=0.0)
    if step > cfg.max_step:
        dq *= cfg.max_step / step
    return dq


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of two 3-vectors (np.cross costs ~30% of an IK solve at this size)."""
    return np.array(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


def _contact_rows(model, data, own_set, cfg: IKConfig, rows: list, rhs: list) -> float:
    """Append one row per penetrating contact of our geoms; returns the deepest penetration.

    Rows start at half the tolerance, so a contact the solver has just pushed out keeps being
    held there instead of sinking back in and cycling."""
    deepest = 0.0
    jacp1 = np.zeros((3, model.nv))
    jacp2 = np.zeros((3, model.nv))
    ids, dist = own_contacts(data, own_set)
    for i, d in zip(ids, dist):
        depth = -d
        if depth <= 0.5 * cfg.penetration_tol:
            continue
        c = data.contact[int(i)]
        g1, g2 = c.geom1, c.geom2
        deepest = max(deepest, depth)
        n = c.frame[:3]  # normal points from geom1 to geom2
        # separate the two contact points along the normal: d(dist) = n . (J2 - J1) dq
        mujoco.mj_jac(model, data, jacp1, None, c.pos, model.geom_bodyid[g1])
        mujoco.mj_jac(model, data, jacp2, None, c.pos, model.geom_bodyid[g2])
        rows.append(cfg.contact_weight * (n @ (jacp2 - jacp1))[None])
        rhs.append(np.array([cfg.contact_weight * (depth - 0.5 * cfg.penetration_tol)]))
    return deepest
