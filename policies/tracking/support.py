"""Gravity feed-forward: the static hinge torques that hold the reference still under gravity.

MuJoCo's static balance is ``qfrc_bias = qfrc_actuator + J^T f``: the grip forces f (3 per
holding limb, at its grip site) must cancel the root's 6 bias components (the root has no
actuator); f is the weighted least-norm solution (each limb's share proportional to its grip
force limit) and the hinges make up the rest. The torques become PD target offsets tau / kp, so
the position-actuated joints do not sag by tau / kp.
"""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.names import NUM_HINGES

SUPPORT_DAMPING = 1e-4  # damping of the support force distribution (m^2 per unit share)


class GravitySupport:
    """Static support offsets for one humanoid model (see the module doc)."""

    def __init__(
        self, model: mujoco.MjModel, index: HumanoidIndex, grip_limits: np.ndarray | None = None
    ) -> None:
        """`grip_limits` (4,) N: each limb's grip force limit (inf = unlimited; None: equal)."""
        self.model, self.index = model, index
        self._bias = np.zeros(model.nv)
        self._kp = model.actuator_gainprm[index.actuators, 0].copy()
        self._peak = model.actuator_forcerange[index.actuators, 1].copy()
        # each limb's share of the body's support, by its grip's force limit
        limits = np.ones(4) if grip_limits is None else np.asarray(grip_limits)
        self._grip_share = np.where(np.isfinite(limits), limits, 1.0) / 1000.0

    def offsets(self, data: mujoco.MjData, hinges: np.ndarray, held: np.ndarray) -> np.ndarray:
        """(69,) rad target offsets that hold the body at `hinges` (69,) rad, its root where
        `data` has it, while the limbs `held` (4,) bool carry it (zeros when none holds).
        Overwrites `data`'s hinges, velocities and derived quantities."""
        m, idx = self.model, self.index
        limbs = np.flatnonzero(held)
        if len(limbs) == 0:
            return np.zeros(NUM_HINGES)
        data.qpos[idx.hinge_qpos] = hinges
        data.qvel[:] = 0.0
        mujoco.mj_kinematics(m, data)
        mujoco.mj_comPos(m, data)
        mujoco.mj_comVel(m, data)
        bias = self._bias
        mujoco.mj_rne(m, data, 0, bias)
        jac = np.empty((3 * len(limbs), m.nv))
        for k, limb in enumerate(limbs):
            mujoco.mj_jacSite(m, data, jac[3 * k : 3 * k + 3], None, idx.grip_sites[limb])
        root = slice(idx.root_qvel.start, idx.root_qvel.stop)
        a = jac[:, root].T  # (6, 3k)
        w = np.repeat(self._grip_share[limbs], 3)
        # weighted least norm with a little damping: one or two limbs cannot cancel every
        # root component (the rest is the residual the assist and the dynamics take)
        aw = a * w
        f = w * (a.T @ np.linalg.solve(aw @ a.T + SUPPORT_DAMPING * np.eye(6), bias[root]))
        tau = bias[idx.hinge_qvel] - jac[:, idx.hinge_qvel].T @ f
        return np.clip(tau, -self._peak, self._peak) / self._kp


__all__ = ["GravitySupport"]
