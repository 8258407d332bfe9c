"""Repair of a timed plan: keyframes inserted where interpolation sinks in or lets a holding limb
drift, and travelling keyframes that sink in solved again.

Frames are measured by `policies.scripted.keyframes.frame_quality` (a `navenv.sinking.DepthGauge`
with the scene's rays); badness is depth over twice the IK's `penetration_tol`, or a holding
limb's drift over `drift_tolerance_m`, whichever is worse.
"""

from __future__ import annotations

import numpy as np

from navenv.body.rotations import quat_to_matrix
from navenv.humanoid import names
from policies.scripted.keyframes import Solution, frame_quality
from policies.scripted.planner.moves import MovePlanner
from policies.scripted.planner.types import Keyframe, common_limbs

LIMBS = names.LIMBS
REPAIR_GAIN = 0.8  # a repair keyframe must bring its frame's badness below this share of it
LIMB_CLEARANCE_M = 0.06  # m: a travelling grip site keeps this far in front of any surface


def repair(planner: MovePlanner, qpos: np.ndarray, at: np.ndarray, min_durations: list) -> bool:
    """Insert a keyframe where interpolation between two keyframes sinks into the wall, a hold
    or the body, or lets a holding limb drift off its hold; returns whether it did (or made a
    sunk travelling keyframe better). `qpos` (T, nq) are the timed frames, `at` the keyframes'
    frames; `min_durations` (per segment) is split where a keyframe goes in."""
    cfg, tol, keyframes, ik = (
        planner.cfg,
        planner.cfg.ik.penetration_tol,
        planner.keyframes,
        planner.ik,
    )
    pen, sites = frame_quality(planner.m, qpos, ik.own, planner.idx.grip_sites, planner.clearance)
    inserts = []
    for i in range(len(keyframes) - 1):
        a, b = int(at[i]), int(at[i + 1])
        if b - a < 4:
            continue
        k0, k1 = keyframes[i], keyframes[i + 1]
        bad = pen[a + 1 : b] / (2.0 * tol)
        for l in common_limbs(k0, k1):
            drift = np.linalg.norm(sites[a + 1 : b, LIMBS.index(l)] - k0.pins[l][0], axis=1)
            bad = np.maximum(bad, drift / cfg.drift_tolerance_m)
        if bad.max() > 1.0:
            inserts.append((i, a + 1 + int(np.argmax(bad)), float(bad.max())))
    resolved = resolve_sunk_keyframes(planner, pen, at)
    inserted = False
    for i, f, worst in reversed(inserts):
        k0, k1 = keyframes[i], keyframes[i + 1]
        pins = {l: k0.pins[l] for l in common_limbs(k0, k1)}
        ik.set_qpos(qpos[f])
        free = None
        moving = [l for l in LIMBS if l not in pins]
        if moving:  # the travelling limb keeps its place, out past any face it sank into
            point = planner.clearance.clear_point(
                ik.site(moving[0])[0], planner.normal(k0.holds), LIMB_CLEARANCE_M
            )
            free = (moving[0], point, None, 0.0)
        root = (qpos[f, :3].copy(), quat_to_matrix(qpos[f, 3:7]))
        # from the frame itself, then from either (clear) keyframe around it
        sol = ik.solve(
            pins, root, free=free, posture=qpos[f], fallback=False, warm_starts=(k0.qpos, k1.qpos)
        )
        if free is not None and sol.penetration > 2.0 * tol:
            sol = _unpinned(planner, sol, pins, root, qpos[f], k0.qpos, k1.qpos)
        badness = max(sol.penetration / (2.0 * tol), sol.held_error / cfg.drift_tolerance_m)
        if badness > REPAIR_GAIN * worst:
            continue  # no better than the frame it would replace: it would only stall there
        holds = {l: k0.holds[l] for l in pins}
        kf = Keyframe("clear", sol.qpos, False, holds, k1.limb, sol.held_error, sol.penetration)
        kf.pins = pins
        keyframes.insert(i + 1, kf)
        min_durations[i : i + 1] = [0.5 * min_durations[i]] * 2
        inserted = True
    return inserted or resolved


def resolve_sunk_keyframes(planner: MovePlanner, pen: np.ndarray, at: np.ndarray) -> bool:
    """Re-solve each travelling keyframe (lift, via, approach, clear) that sinks in more than
    twice the tolerance with its travelling limb let free (it only passes through), from
    itself and from the keyframes either side; returns whether any got better. `pen` (T,) is
    the depth of each timed frame, `at` the keyframes' frames."""
    cfg, keyframes, ik = planner.cfg, planner.keyframes, planner.ik
    limit = 2.0 * cfg.ik.penetration_tol
    better = False
    for i in range(1, len(keyframes) - 1):
        k = keyframes[i]
        if k.rest or pen[at[i]] <= limit:
            continue
        ik.set_qpos(k.qpos)
        root = (k.qpos[:3].copy(), quat_to_matrix(k.qpos[3:7]))
        sol = ik.solve(
            k.pins,
            root,
            posture=k.qpos,
            fallback=False,
            warm_starts=(keyframes[i - 1].qpos, keyframes[i + 1].qpos),
        )
        if sol.penetration < min(k.penetration, float(pen[at[i]])) and sol.held_error <= max(
            k.error, cfg.drift_tolerance_m
        ):
            k.qpos, k.penetration, k.error = sol.qpos, sol.penetration, sol.held_error
            better = True
    return better


def _unpinned(
    planner: MovePlanner, sol: Solution, pins: dict, root, posture: np.ndarray, q0, q1
) -> Solution:
    """A repair keyframe between q0 and q1 solved again without its travelling limb's
    target (the better of the two)."""
    again = planner.ik.solve(pins, root, posture=posture, fallback=False, warm_starts=(q0, q1))
    return again if again.score < sol.score else sol
