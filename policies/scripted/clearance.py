"""The last pass over a timed climb: push the frames that sink in clear, smoothly.

Keyframes are solved with contacts, but the quintic interpolation between them can still swing
an arm through a volume standing between two holds or cross the knees. This pass finds every run
of frames deeper than the tolerance (plus a few frames either side) and solves them one after
the other with contact-resolving IK (`navenv.ik.solve_ik`), each warm-started from the frame
before so the solutions stay continuous: the limbs on holds are pinned where the plan has them,
the rest of the body is drawn toward the planned frame and pushed out of the contacts. The
corrections d, in the planner's joint coordinates, are then fitted smoothly,

    min_d  sum_t w_t |d_t - delta_t|^2 + lam * sum_t |d_{t-1} - 2 d_t + d_{t+1}|^2,

with w = 1 on the solved frames and a small `floor` elsewhere (so the fix dies out away from
them), `lam` doubling until the motion keeps its speed and acceleration bounds. A run whose fix
drags a limb on a hold further than the drift tolerance, or leaves its stretch sunk in no less,
is dropped and the rest refitted; a round is kept only if the motion sinks in less in all. A few
rounds run (the deepest runs first, up to a frame budget), each from the last one kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from scipy.sparse import diags
from scipy.sparse.linalg import splu

from navenv.body.rotations import quat_to_matrix
from navenv.humanoid.index import HumanoidIndex
from navenv.ik import IKConfig, SiteTarget, solve_ik
from navenv.sinking import SceneRays
from policies.scripted.keyframes import frame_quality
from policies.scripted.trajectory import TimingLimits, frame_rates, from_coords, to_coords

RATE_KEYS = ("joint_speed", "joint_accel", "root_speed", "root_accel")
FIXED_WEIGHT = 1e6  # fit weight that keeps a fixed frame's correction at zero


@dataclass
class ClearanceConfig:
    """How the clearance pass works (see the module docstring)."""

    rounds: int = 4
    """Rounds of solve-and-fit (0 turns the pass off)."""
    margin_frames: int = 4
    """Frames solved either side of each run of sunk frames, so the fix starts early."""
    max_frames: int = 400
    """Most frames solved in one round (the deepest runs first)."""
    ik_iterations: int = 30
    """IK iterations per frame (warm-started from the frame before)."""
    pin_weight: float = 5.0
    """IK weight of a limb on a hold staying where the plan has it."""
    contact_weight: float = 10.0
    """IK weight of the contact rows that push the body out."""
    posture_weight: float = 0.05
    """Pull of every joint (and the root) toward the planned frame."""
    smoothing: float = 1.0
    """Starting lam of the fit (frames^4); doubled up to 10 times until the bounds hold."""
    floor: float = 0.01
    """Fit weight pulling the correction to zero on frames not solved."""

    def __post_init__(self) -> None:
        if self.rounds < 0 or self.margin_frames < 0 or self.max_frames < 1:
            raise ValueError(f"ClearanceConfig: negative rounds/margin or max_frames < 1: {self}")
        if min(self.ik_iterations, self.pin_weight, self.contact_weight, self.smoothing) <= 0:
            raise ValueError(
                f"ClearanceConfig: iterations, weights and smoothing must be > 0: {self}"
            )
        if self.posture_weight < 0 or self.floor <= 0:
            raise ValueError(f"ClearanceConfig: posture_weight >= 0 and floor > 0 required: {self}")


@dataclass
class ClearanceReport:
    """What the pass did to one plan."""

    rounds_kept: int
    before_m: float  # deepest contact before, m
    after_m: float  # and after


@dataclass
class _Plan:
    """What stays fixed while the pass works on one motion."""

    model: mujoco.MjModel
    index: HumanoidIndex
    held: np.ndarray  # (T, 4) bool
    fixed: np.ndarray  # frame indices that must not change
    pinned: np.ndarray  # (T, 4, 3) grip sites of the input motion
    frame_rot: np.ndarray  # (3, 3) frame of the joint coordinates
    own: np.ndarray  # (ngeom,) bool: the humanoid's geoms
    allowed: dict[str, float]  # speed and acceleration bounds
    fps: float
    tolerance: float
    drift_tolerance: float
    rays: SceneRays | None

    def quality(self, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T,) deepest contact and (T, 4, 3) grip sites of a motion."""
        return frame_quality(self.model, qpos, self.own, self.index.grip_sites, self.rays)


def clear_frames(
    model: mujoco.MjModel,
    index: HumanoidIndex,
    qpos: np.ndarray,
    held: np.ndarray,
    fixed: np.ndarray,
    tolerance: float,
    drift_tolerance: float,
    limits: TimingLimits,
    config: ClearanceConfig,
    rays: SceneRays | None = None,
) -> tuple[np.ndarray, ClearanceReport]:
    """`qpos` (T, nq) with its sunk frames pushed clear (the input itself if no round helped),
    and a report. held: (T, 4) bool, limbs on holds (names.LIMBS order); fixed: frames that
    must not change (the start, grips and releases); tolerance: contacts shallower than this (m)
    are fine; drift_tolerance: how far (m) a limb on a hold may move; limits: speed and
    acceleration bounds (the motion's own peaks are allowed where higher); rays: the scene
    alone, so frames with a limb through a panel count as sunk (`navenv.sinking.DepthGauge`)."""
    own = index.geom_mask(model.ngeom)
    pen, pinned = frame_quality(model, qpos, own, index.grip_sites, rays)
    frame_rot = quat_to_matrix(qpos[0, index.root_qpos][3:])
    coords = to_coords(qpos, index, frame_rot)
    rates = frame_rates(coords, limits.fps)
    allowed = {k: max(rates[k], getattr(limits, f"max_{k}")) for k in RATE_KEYS}
    plan = _Plan(
        model,
        index,
        held,
        fixed,
        pinned,
        frame_rot,
        own,
        allowed,
        limits.fps,
        tolerance,
        drift_tolerance,
        rays,
    )
    report = ClearanceReport(0, float(pen.max(initial=0.0)), float(pen.max(initial=0.0)))
    best = qpos
    for _ in range(config.rounds):
        runs = _worst_runs(pen, tolerance, config.margin_frames, config.max_frames)
        if not runs:
            break
        solved = _solve_runs(model, index, best, held, pinned, runs, fixed, config)
        fit = _fit_runs(plan, runs, to_coords(solved, index, frame_rot), coords, pen, best, config)
        if fit is None or _excess(fit[1], tolerance) >= _excess(pen, tolerance):
            break
        best, pen, coords = fit
        report.rounds_kept += 1
    report.after_m = float(pen.max(initial=0.0))
    return best, report


def _fit_runs(
    plan: _Plan,
    runs: list[tuple[int, int]],
    target: np.ndarray,
    coords: np.ndarray,
    pen: np.ndarray,
    qpos: np.ndarray,
    config: ClearanceConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Fit the solved runs' corrections (`target`: (T, D) coordinates with the runs solved) to
    the motion (`qpos`, its `coords` and per-frame `pen`), dropping the runs whose fix drags a
    limb off its hold or leaves their stretch sunk in no less and refitting the rest. Returns
    the fitted motion's (qpos, per-frame penetration, coordinates), or None if no run survives
    or the bounds cannot be kept."""
    pad = 2 * config.margin_frames  # how far a run's smoothed fix reaches
    kept = np.ones(len(runs), bool)
    for _attempt in range(4):
        use = np.zeros(len(qpos), bool)
        for (a, b), k in zip(runs, kept):
            use[a : b + 1] = k
        use[plan.fixed] = False
        fitted = _fit(
            coords, np.flatnonzero(use), target[use], plan.fixed, plan.allowed, plan.fps, config
        )
        if fitted is None:
            return None
        cand = from_coords(fitted, plan.index, plan.frame_rot, qpos[0])
        cand[plan.fixed] = qpos[plan.fixed]  # exactly (the fit leaves them ~1e-8 off)
        cand_pen, cand_sites = plan.quality(cand)
        off = np.linalg.norm(cand_sites - plan.pinned, axis=2) > plan.drift_tolerance
        dragged = (off & plan.held).any(axis=1)
        worse = _regress(cand_pen, pen, plan.tolerance, runs, pad)
        failed = kept & (worse | _touches(dragged, runs, pad))
        if not failed.any():
            return cand, cand_pen, fitted
        kept &= ~failed
        if not kept.any():
            break
    return None


def _excess(pen: np.ndarray, tol: float) -> float:
    """m x frames of contact deeper than `tol`: how much a motion sinks in, all told."""
    return float(np.maximum(pen - tol, 0.0).sum())


def _worst_runs(pen: np.ndarray, tol: float, margin: int, budget: int) -> list[tuple[int, int]]:
    """The runs of frames deeper than `tol` (widened by `margin`), deepest first until
    `budget` frames, back in time order."""
    runs = _runs(pen > tol, margin)
    runs.sort(key=lambda r: -_excess(pen[r[0] : r[1] + 1], tol))
    chosen, total = [], 0
    for a, b in runs:
        if total + b - a + 1 <= budget:
            chosen.append((a, b))
            total += b - a + 1
    return sorted(chosen)


def _windows(runs: list[tuple[int, int]], pad: int, n: int) -> list[slice]:
    """Each run's frames widened by `pad` (where its smoothed fix reaches)."""
    return [slice(max(a - pad, 0), min(b + 1 + pad, n)) for a, b in runs]


def _touches(flags: np.ndarray, runs: list[tuple[int, int]], pad: int) -> np.ndarray:
    """(R,) whether any flagged frame lies in each run's widened window."""
    return np.array([flags[w].any() for w in _windows(runs, pad, len(flags))], dtype=bool)


def _regress(
    new: np.ndarray, old: np.ndarray, tol: float, runs: list[tuple[int, int]], pad: int
) -> np.ndarray:
    """(R,) whether a run's widened window sinks in more (all told) after the fix."""
    return np.array(
        [_excess(new[w], tol) >= _excess(old[w], tol) for w in _windows(runs, pad, len(new))],
        dtype=bool,
    )


def _runs(bad: np.ndarray, margin: int) -> list[tuple[int, int]]:
    """Inclusive (first, last) frame of each run of `bad` frames widened by `margin`, merged
    where they touch."""
    runs: list[tuple[int, int]] = []
    n = len(bad)
    for t in np.flatnonzero(bad):
        a, b = max(int(t) - margin, 0), min(int(t) + margin, n - 1)
        if runs and a <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], max(runs[-1][1], b))
        else:
            runs.append((a, b))
    return runs


def _solve_runs(
    model: mujoco.MjModel,
    index: HumanoidIndex,
    qpos: np.ndarray,
    held: np.ndarray,
    pinned: np.ndarray,
    runs: list[tuple[int, int]],
    fixed: np.ndarray,
    config: ClearanceConfig,
) -> np.ndarray:
    """(T, nq): `qpos` with every frame of `runs` solved contact-free, in order, each from the
    solution before it moved on by the plan's own step (fixed frames stay)."""
    data = mujoco.MjData(model)
    ik = IKConfig(
        iterations=config.ik_iterations,
        posture_weight=config.posture_weight,
        root_posture_weight=config.posture_weight,
        max_step=0.05,
        avoid_contacts=True,
        contact_weight=config.contact_weight,
    )
    quat = slice(index.root_qpos.start + 3, index.root_qpos.start + 7)
    out = qpos.copy()
    is_fixed = np.zeros(len(qpos), bool)
    is_fixed[fixed] = True
    for a, b in runs:
        previous = None
        for t in range(a, b + 1):
            if is_fixed[t]:
                previous = qpos[t]
                continue
            start = qpos[t] if previous is None else previous + (qpos[t] - qpos[t - 1])
            data.qpos[:] = start
            data.qpos[quat] /= np.linalg.norm(data.qpos[quat])
            targets = [
                SiteTarget(
                    site=int(index.grip_sites[j]), pos=pinned[t, j], weight=config.pin_weight
                )
                for j in np.flatnonzero(held[t])
            ]
            res = solve_ik(
                model, data, targets, posture=qpos[t], config=ik, humanoid_geoms=index.geoms
            )
            out[t] = previous = res.qpos
    return out


def _fit(
    coords: np.ndarray,
    frames: np.ndarray,
    target: np.ndarray,
    fixed: np.ndarray,
    allowed: dict[str, float],
    fps: float,
    config: ClearanceConfig,
) -> np.ndarray | None:
    """coords (T, D) + d, fitted toward `target` (K, D) at `frames` (K,) and held at zero on
    `fixed` (see the module docstring); None if no lam keeps the bounds `allowed`."""
    n = len(coords)
    delta = np.zeros_like(coords)
    delta[frames] = target - coords[frames]
    delta[fixed] = 0.0
    weight = np.full(n, config.floor)
    weight[frames] = 1.0
    weight[fixed] = FIXED_WEIGHT
    second = diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    curvature = (second.T @ second).tocsc()
    lam = config.smoothing
    for _ in range(11):
        system = (diags(weight) + lam * curvature).tocsc()
        out = coords + splu(system).solve(weight[:, None] * delta)
        rates = frame_rates(out, fps)
        if all(rates[k] <= allowed[k] * 1.001 for k in RATE_KEYS):
            return out
        lam *= 2.0
    return None
