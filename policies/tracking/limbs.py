"""Limb feedback: hinge corrections that steer each limb's grip site to where the reference puts it.

A free limb the reference wants on a hold is moved, through its shoulder/elbow/wrist or
hip/knee/ankle hinges, toward the reference's grip-site position in the world (one damped
least-squares step on the site Jacobian per policy step), so it still arrives when the body
hangs a few cm off the reference. A holding limb's chain is bent so that, from the reference
root, its grip site lies where the grip actually closed (`hold_retarget`). Needs the humanoid's
model and the estimated root state; the corrections are hinge target offsets (rad).
"""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.body.rotations import matrix_to_axis_angle, matrix_to_quat
from navenv.envs.grips import Grips
from navenv.humanoid import names
from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.names import NUM_HINGES
from policies.tracking.config import TrackerConfig
from policies.tracking.estimator import RootState
from policies.tracking.reference import Reference

# the hinges limb feedback moves, per limb (names.LIMBS order)
LIMB_CHAINS: dict[str, tuple[str, ...]] = {
    "left_hand": ("left_shoulder", "left_elbow", "left_wrist"),
    "right_hand": ("right_shoulder", "right_elbow", "right_wrist"),
    "left_foot": ("left_hip", "left_knee", "left_ankle"),
    "right_foot": ("right_hip", "right_knee", "right_ankle"),
}
LIMB_DAMPING = 1e-2  # m^2, damped least squares of limb feedback
LIMB_FADE = 0.9  # per step: how a free limb's old correction fades while it travels


class LimbFeedback:
    """The limb corrections of one tracker (see the module doc).

    State, reset by `reset`: `offset` (69,) rad hinge target corrections, `site_error` (4,) m
    from each grip site to its reference, `anchors` (4, 3) world point where each held grip
    closed (NaN while free), `ref_hinges` (69,) this step's reference hinges. `data` holds the
    estimated configuration, `ref_data` the reference one (root at the reference pose) after
    `update`.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        index: HumanoidIndex,
        hinge_range: np.ndarray,
        config: TrackerConfig,
        grips: Grips | None = None,
    ) -> None:
        self.model, self.index, self.config, self.grips = model, index, config, grips
        self.hinge_range = hinge_range
        self.data = mujoco.MjData(model)
        self.ref_data = mujoco.MjData(model)
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))
        self._chains = [
            np.array([names.HINGE_NAMES.index(f"{b}_{a}") for b in bodies for a in "xyz"])
            for bodies in LIMB_CHAINS.values()
        ]
        self.offset = np.zeros(NUM_HINGES)
        self.site_error = np.zeros(4)
        self.anchors = np.full((4, 3), np.nan)
        self.ref_hinges = np.zeros(NUM_HINGES)

    def reset(self) -> None:
        """Forget every correction and anchor (a new reference)."""
        self.offset[:] = 0.0
        self.site_error[:] = 0.0
        self.anchors[:] = np.nan

    def update(
        self,
        ref: Reference,
        time: float,
        state: RootState,
        angles: np.ndarray,
        held: np.ndarray,
        next_hold: np.ndarray | None,
    ) -> None:
        """Move each free limb's hinge corrections so its grip site heads for where the
        reference at `time` puts it in the world; `state` and `angles` (69,) rad place the body,
        `held` (4,) bool says which limbs grip, `next_hold` (T, 4) each limb's next hold."""
        m, idx, d, rd = self.model, self.index, self.data, self.ref_data
        start = idx.root_qpos.start
        d.qpos[start : start + 3] = state.pos
        d.qpos[start + 3 : start + 7] = matrix_to_quat(state.rot)
        d.qpos[idx.hinge_qpos] = angles
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        hinges, _, pos, _ = ref.sample(time)
        self.ref_hinges = hinges
        rd.qpos[start : start + 3] = pos
        rd.qpos[start + 3 : start + 7] = matrix_to_quat(ref.root_rot[ref.frame_at(time)])
        rd.qpos[idx.hinge_qpos] = hinges
        mujoco.mj_kinematics(m, rd)
        site_rot = rd.site_xmat[idx.grip_sites].reshape(4, 3, 3).copy()
        goals = rd.site_xpos[idx.grip_sites] + self._match_shift(ref, time, held, next_hold)
        errors = goals - d.site_xpos[idx.grip_sites]
        self.site_error = np.linalg.norm(errors, axis=1)
        pending = ref.grips[ref.frame_at(time)] & ~held
        self.anchors[~held] = np.nan
        new = held & np.isnan(self.anchors[:, 0])
        self.anchors[new] = d.site_xpos[idx.grip_sites[new]]
        if self.config.hold_retarget > 0 and held.any():
            self._retarget_held(held, site_rot)
        if self.config.limb_feedback <= 0:
            return
        for limb in np.flatnonzero(~held):
            if not pending[limb] and self.config.travel_feedback <= 0:
                self.offset[self._chains[limb]] *= LIMB_FADE
                continue
            # reaching for a grip the reference already holds: close the remaining gap; a
            # travelling limb follows its path in the world, which the plan kept off the wall
            gain = self.config.limb_feedback if pending[limb] else self.config.travel_feedback
            self._chain_step(d, limb, errors[limb], site_rot[limb], gain)

    def _match_shift(
        self, ref: Reference, time: float, held: np.ndarray, next_hold: np.ndarray | None
    ) -> np.ndarray:
        """(4, 3) world shift of each limb's reference site: a hand heading for the hold its
        partner hand already holds goes at least `match_gap_m` beside the partner's actual
        anchor (along the hold's horizontal axis, on its own side), not where the plan put the
        partner."""
        shift = np.zeros((4, 3))
        if next_hold is None or self.grips is None or self.config.match_gap_m <= 0:
            return shift
        frame = ref.frame_at(time)
        rd = self.ref_data
        for limb, partner, sign in ((0, 1, -1.0), (1, 0, 1.0)):
            hold = next_hold[frame, limb]
            if hold < 0 or held[limb] or not held[partner]:
                continue
            if ref.contacts[frame, partner] != hold or np.isnan(self.anchors[partner, 0]):
                continue
            geom = self.grips.hold_geoms[hold]
            right = rd.geom_xmat[geom].reshape(3, 3)[:, 0]  # hold frame x: the climber's right
            centre = rd.geom_xpos[geom]
            planned = float(np.dot(rd.site_xpos[self.index.grip_sites[limb]] - centre, right))
            other = float(np.dot(self.anchors[partner] - centre, right))
            gap = self.config.match_gap_m
            if abs(planned - other) >= gap:
                continue
            # beside the partner on the hand's own side (the partner's arm blocks the other)
            shift[limb] = right * (other + sign * gap - planned)
        return shift

    def _retarget_held(self, held: np.ndarray, site_rot: np.ndarray) -> None:
        """Bend each holding limb's chain so that, from the reference root, its grip site lies
        where the grip actually closed (its anchor), turned as the reference turns it
        (`site_rot`, (4, 3, 3)): the hinge targets then agree with the closed chain the grips
        make, instead of pulling the body against its own holds."""
        m, idx, rd = self.model, self.index, self.ref_data
        rd.qpos[idx.hinge_qpos] += self.offset
        mujoco.mj_kinematics(m, rd)
        mujoco.mj_comPos(m, rd)
        for limb in np.flatnonzero(held):
            err = self.anchors[limb] - rd.site_xpos[self.index.grip_sites[limb]]
            self._chain_step(rd, limb, err, site_rot[limb], self.config.hold_retarget)

    def _chain_step(
        self, data: mujoco.MjData, limb: int, err: np.ndarray, rot: np.ndarray | None, gain: float
    ) -> None:
        """One damped least-squares step of `limb`'s chain corrections toward moving its grip
        site by `err` (m) and (if `rot` is given) turning it to the world rotation `rot`."""
        m, idx = self.model, self.index
        chain = self._chains[limb]
        site = idx.grip_sites[limb]
        jacp, jacr = self._jacp, self._jacr
        mujoco.mj_jacSite(m, data, jacp, jacr, site)
        cols = idx.hinge_qvel[chain]
        j, e = jacp[:, cols], err
        w = self.config.limb_turn_weight
        if rot is not None and w > 0:
            turn = matrix_to_axis_angle(rot @ data.site_xmat[site].reshape(3, 3).T)
            j = np.concatenate([j, w * jacr[:, cols]])
            e = np.concatenate([err, w * turn])
        # hinges whose target sits at a range limit and that the step would push further out
        # are left out (once): a correction there only winds up, the joint cannot follow it
        lo, hi = self.hinge_range[chain, 0], self.hinge_range[chain, 1]
        target = self.ref_hinges[chain] + self.offset[chain]
        free = np.ones(len(chain), bool)
        for _ in range(2):
            jf = j[:, free]
            step = np.zeros(len(chain))
            step[free] = jf.T @ np.linalg.solve(jf @ jf.T + LIMB_DAMPING * np.eye(len(e)), e)
            pushing = ((target <= lo + 1e-6) & (step < 0)) | ((target >= hi - 1e-6) & (step > 0))
            if not pushing.any():
                break
            free &= ~pushing
        lim = self.config.limb_correction_limit
        moved = np.clip(target + gain * step, lo, hi) - self.ref_hinges[chain]
        self.offset[chain] = np.clip(moved, -lim, lim)


__all__ = ["LIMB_CHAINS", "LimbFeedback"]
