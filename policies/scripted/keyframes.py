"""Whole-body IK keyframes for the scripted climber, and how much a configuration penetrates.

`KeyframeSolver.solve` puts limbs on holds with `navenv.ik.solve_ik` (damped least squares on
MuJoCo Jacobians, joint limits by an active set) from the current configuration:

1. reach: the targets without contact rows (cheap; usually the result is already clear);
2. if that sinks into the wall, a hold or the body itself, resolve contacts from there with
   contact rows switched on early and small steps, so a limb pulled by its target cannot jump
   back through what the previous step pushed it out of;
3. if still in, the same from the previous (clear) configuration with twice the iterations, so
   limbs slide around volumes instead of tunnelling through them.
Contact rows switch on and off as limbs clear and re-enter, so the iterates cycle: contacts are
resolved in short chunks and the best state seen is kept (worst error plus twice the depth).

`WallClearance` pushes a planned pelvis position out from the wall and volumes behind it (rays on
a model of the scene alone, so they never hit the climber). Depth is measured by
`navenv.sinking.DepthGauge`: contacts, and with the scene's rays, limbs that went right through
a panel (which MuJoCo's contacts report as a graze); over a whole trajectory by
`navenv.penetration.frame_depths` (`frame_quality`, `frame_penetration`).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from navenv.body.rotations import matrix_to_quat
from navenv.envs.climb.spawn import limb_axes
from navenv.humanoid import names
from navenv.humanoid.index import HumanoidIndex
from navenv.ik import IKConfig, SiteTarget, solve_ik
from navenv.penetration import frame_depths
from navenv.sinking import DepthGauge, SceneRays
from navenv.world import hold_frame
from scenes.types import Hold

LIMBS = names.LIMBS
CLEAR_CHUNK = 8  # IK iterations between checks while resolving contacts
# a keyframe still sunk after every warm start is tried again from RESTARTS random shakes of up
# to RESTART_RAD per hinge (a local minimum of the contact rows, not a pose that cannot clear)
RESTARTS, RESTART_RAD, RESTART_SEED = 10, 0.5, 0
RESTART_BUDGET = 40  # keyframes shaken per plan at most: a route stuck everywhere stays affordable
# Clearance probes around the pelvis, (right, up) offsets in m, and the distance (m) each keeps
# from the wall or a volume behind it: the pelvis, and the knees less.
PROBES: tuple[tuple[tuple[float, float], float], ...] = (
    ((0.0, 0.0), 0.25),
    ((-0.2, -0.35), 0.1),
    ((0.2, -0.35), 0.1),
)


@dataclass
class IKWeights:
    """How the keyframe IK weighs its rows and when it stops (`PlannerConfig.ik`)."""

    iterations: int = 40
    """Iterations of an IK pass (a keyframe takes one to three, see the module docstring)."""
    hold_weight: float = 5.0
    """Weight of a limb on a hold (the travelling limb has 1), so posture never drags it off."""
    axis_weight: float = 0.3
    """Weight (per radian) of an arriving limb's turn for its hold (palm to the wall, toes in);
    the planner gives a travelling limb half of it."""
    held_axis_weight: float = 1.0
    """Weight (per radian) that keeps a holding limb turned as it was when it gripped."""
    contact_weight: float = 10.0
    """Weight of a contact-avoidance row: contacts win over targets."""
    damping: float = 1e-3
    """Levenberg-Marquardt damping of the IK steps (m^2)."""
    clear_max_step: float = 0.05
    """Largest joint step (rad or m) per iteration while resolving contacts."""
    tolerance_m: float = 0.002
    """An IK pass stops when every target is this close (m)."""
    root_prior_weight: float = 0.1
    """Pull of the pelvis toward its planned place in the first IK pass (per m and rad)."""
    penetration_tol: float = 0.005
    """Contacts shallower than this (m) are allowed on keyframes holding holds (the planner
    repairs frames deeper than twice this)."""
    good_error_m: float = 0.01
    """A contact-free solution whose holding limbs are this close (m) ends the contact search."""

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise ValueError(f"IKWeights.iterations: expected >= 1, got {self.iterations}")
        for name in ("damping", "clear_max_step"):
            if not (getattr(self, name) > 0):
                raise ValueError(f"IKWeights.{name}: expected > 0, got {getattr(self, name)}")
        for name in (
            "hold_weight",
            "axis_weight",
            "held_axis_weight",
            "contact_weight",
            "tolerance_m",
            "root_prior_weight",
            "penetration_tol",
            "good_error_m",
        ):
            if not (getattr(self, name) >= 0):
                raise ValueError(f"IKWeights.{name}: expected >= 0, got {getattr(self, name)}")


@dataclass
class Solution:
    """One keyframe's IK result."""

    qpos: np.ndarray
    held_error: float  # m, worst distance of a holding limb from its pin
    penetration: float  # m, deepest contact left
    free_error: float  # m, distance of the travelling limb from its point (0 if none)

    @property
    def score(self) -> float:
        """Badness: the worst error plus twice the penetration."""
        return max(self.held_error, self.free_error) + 2.0 * self.penetration


class KeyframeSolver:
    """Solves keyframes on one model (its own MjData holds the current configuration)."""

    def __init__(
        self,
        model: mujoco.MjModel,
        index: HumanoidIndex,
        holds: dict[str, Hold],
        prior: np.ndarray,
        weights: IKWeights,
        rays: SceneRays | None = None,
    ) -> None:
        self.m, self.idx, self.holds, self.prior, self.w = model, index, holds, prior, weights
        self.d = mujoco.MjData(model)
        self.own = index.geom_mask(model.ngeom)
        self.gauge = DepthGauge(model, self.own, rays)  # with rays: limbs through a panel count
        self.rng = np.random.default_rng(RESTART_SEED)
        self.restarts_left = RESTART_BUDGET  # keyframes that may be shaken, per solver (plan)
        self.iterations: list[int] = []  # per IK pass (negative: contact passes), for profiling

    def set_qpos(self, qpos: np.ndarray) -> None:
        """Put the solver's configuration (the start of the next solve) at `qpos`, posed."""
        self.d.qpos[:] = qpos
        mujoco.mj_kinematics(self.m, self.d)

    def site(self, limb: str) -> tuple[np.ndarray, np.ndarray]:
        """Current world position and rotation (3, 3) of `limb`'s grip site."""
        s = self.idx.grip_sites[LIMBS.index(limb)]
        return self.d.site_xpos[s].copy(), self.d.site_xmat[s].reshape(3, 3).copy()

    def solve(
        self,
        pins: dict[str, tuple[np.ndarray, np.ndarray]],
        root: tuple[np.ndarray, np.ndarray],
        free: tuple | None = None,
        posture: np.ndarray | None = None,
        fallback: bool = True,
        warm_starts: tuple[np.ndarray, ...] = (),
    ) -> Solution:
        """IK from the current configuration: each limb in `pins` stays at its (position,
        rotation); `free` = (limb, point, hold id or None, axis weight) puts a travelling or
        arriving limb on a point, turned for that hold; the pelvis is drawn toward `root` =
        (position, rotation) and the hinges toward `posture` (default: the style prior).
        If contacts remain, they are resolved from the IK result, then (with `fallback`) from
        the configuration before, then from each of `warm_starts`."""
        m, d, idx, w = self.m, self.d, self.idx, self.w
        targets = self._targets(pins, free)
        prior = d.qpos.copy()
        prior[idx.hinge_qpos] = (self.prior if posture is None else posture)[idx.hinge_qpos]
        start = idx.root_qpos.start
        prior[start : start + 3] = root[0]
        prior[start + 3 : start + 7] = matrix_to_quat(root[1])
        previous = d.qpos.copy()
        n = len(pins)
        reach = IKConfig(
            iterations=w.iterations,
            damping=w.damping,
            root_posture_weight=w.root_prior_weight,
            avoid_contacts=False,
            tolerance=w.tolerance_m,
        )
        res = solve_ik(m, d, targets, posture=prior, config=reach, humanoid_geoms=idx.geoms)
        self.iterations.append(res.iterations)
        best = self._solution(res.qpos, res.errors, n)
        if best.penetration > w.penetration_tol:
            chunk = IKConfig(
                iterations=CLEAR_CHUNK,
                damping=w.damping,
                root_posture_weight=w.root_prior_weight,
                avoid_contacts=True,
                penetration_tol=0.5 * w.penetration_tol,
                max_step=w.clear_max_step,
                contact_weight=w.contact_weight,
                tolerance=w.tolerance_m,
            )
            tries = ((res.qpos, 1), (previous, 2)) if fallback else ((res.qpos, 1),)
            tries += tuple((q, 1) for q in warm_starts)
            best = self._clear(targets, prior, chunk, tries, n, best)
            if best.penetration > w.penetration_tol and self.restarts_left > 0:
                # stuck (a knee on the other ankle, say): shake it loose
                self.restarts_left -= 1
                best = self._clear(targets, prior, chunk, self._shaken(best.qpos), n, best)
        d.qpos[:] = best.qpos
        mujoco.mj_kinematics(m, d)
        return best

    def _shaken(self, qpos: np.ndarray) -> tuple[tuple[np.ndarray, int], ...]:
        """RESTARTS warm starts: `qpos` with every hinge moved by up to RESTART_RAD at random
        (from the solver's own seeded generator, so plans stay a function of their inputs)."""
        out = []
        for _ in range(RESTARTS):
            q = qpos.copy()
            hinges = self.idx.hinge_qpos
            q[hinges] += self.rng.uniform(-RESTART_RAD, RESTART_RAD, len(hinges))
            lo, hi = self.idx.hinge_range.T
            q[hinges] = np.clip(q[hinges], lo, hi)
            out.append((q, 1))
        return tuple(out)

    def _clear(self, targets, prior, chunk, tries, n, best: Solution) -> Solution:
        """Resolve contacts from each warm start in turn, in chunks; the best state seen."""
        m, d, w = self.m, self.d, self.w
        for warm, scale in tries:
            d.qpos[:] = warm
            for _ in range(scale * w.iterations // CLEAR_CHUNK):
                r = solve_ik(
                    m, d, targets, posture=prior, config=chunk, humanoid_geoms=self.idx.geoms
                )
                self.iterations.append(-r.iterations)
                cand = self._solution(r.qpos, r.errors, n)
                if cand.score < best.score:
                    best = cand
                if cand.penetration <= w.penetration_tol and cand.held_error <= w.good_error_m:
                    return best
                if r.iterations < CLEAR_CHUNK:  # converged: more of the same will not help
                    break
        return best

    def _solution(self, qpos: np.ndarray, errors: np.ndarray, n_held: int) -> Solution:
        # solve_ik's own penetration figure is from before its last step: measure the result
        return Solution(
            qpos.copy(),
            float(errors[:n_held].max(initial=0.0)),
            self.gauge(self.d),
            float(errors[n_held:].max(initial=0.0)),
        )

    def _targets(self, pins, free) -> list[SiteTarget]:
        idx, w, eye = self.idx, self.w, np.eye(3)
        targets = [
            SiteTarget(
                site=int(idx.grip_sites[LIMBS.index(l)]),
                pos=p,
                weight=w.hold_weight,
                # a holding limb keeps the turn it gripped with: its local z and x axes stay put
                axes=[(eye[2], r[:, 2]), (eye[0], r[:, 0])],
                axis_weight=w.held_axis_weight,
            )
            for l, (p, r) in pins.items()
        ]
        if free is not None:
            limb, point, hold_id, axis_weight = free
            axes = limb_axes(limb, np.asarray(self.holds[hold_id].normal)) if hold_id else []
            targets.append(
                SiteTarget(
                    site=int(idx.grip_sites[LIMBS.index(limb)]),
                    pos=point,
                    weight=w.hold_weight,
                    axes=axes,
                    axis_weight=axis_weight,
                )
            )
        return targets


class WallClearance(SceneRays):
    """Where the planned body keeps clear of the scene's wall and volumes (rays on a model of
    the scene alone, so they never hit the climber)."""

    def push_out(self, pelvis: np.ndarray, normal: np.ndarray) -> np.ndarray:
        """`pelvis` moved out along `normal` until the pelvis and knee probes (PROBES) keep their
        clearances from what is behind them."""
        frame = hold_frame(normal)
        right, up = frame[:, 0], frame[:, 1]
        push = 0.0
        for (across, along), clearance in PROBES:
            push = max(push, clearance - self.depth(pelvis + across * right + along * up, normal))
        return pelvis + normal * max(push, 0.0)

    def clear_point(self, point: np.ndarray, normal: np.ndarray, clearance: float) -> np.ndarray:
        """`point` moved out along `normal` until it is at least `clearance` (m) in front of
        the surface behind it (a volume the point sits inside pushes it out past its face)."""
        return point + normal * max(0.0, clearance - self.depth(point, normal))


# ------------------------------------------------------------------ penetration
def frame_quality(
    model: mujoco.MjModel,
    qpos: np.ndarray,
    own: np.ndarray,
    sites: np.ndarray,
    rays: SceneRays | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(T,) depth (m) of each configuration of `qpos` (T, nq) by a `DepthGauge` (`own`: the
    humanoid's geoms; `rays`: the scene alone, so bones through a panel count too) and
    (T, S, 3) positions of `sites`."""
    return frame_depths(model, qpos, DepthGauge(model, own, rays), sites)


def frame_penetration(
    model: mujoco.MjModel, qpos: np.ndarray, own: np.ndarray, rays: SceneRays | None = None
) -> np.ndarray:
    """(T,) depth (m) of each configuration (see `frame_quality`)."""
    return frame_quality(model, qpos, own, np.zeros(0, int), rays)[0]
