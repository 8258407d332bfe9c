"""Timing a draw's keyframes into frames, and settling them: repair rounds, the clearance pass,
and retime rounds that slow the segments still sunk in.

Timing is `policies.scripted.trajectory` (quintic segments within the speed and acceleration
bounds, fitted into `max_duration_s`); the clearance pass is `policies.scripted.clearance`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from navenv.body.rotations import quat_to_matrix
from policies.scripted.clearance import clear_frames
from policies.scripted.keyframes import frame_penetration
from policies.scripted.planner.moves import MovePlanner
from policies.scripted.planner.repair import repair
from policies.scripted.planner.timeline import contact_timeline
from policies.scripted.planner.types import Keyframe
from policies.scripted.trajectory import fit_timing, from_coords, sample, scaled, to_coords


@dataclass
class Timed:
    """One timing of the keyframes, cleared, and how much it still sinks in."""

    qpos: np.ndarray  # (T, nq)
    at: np.ndarray  # (K,) frame of each keyframe
    contacts: np.ndarray  # (T, 4) hold slot per limb, -1 off
    grip: np.ndarray  # (T, 4) bool
    sunk: list[int]  # keyframe segments i (i to i + 1) with a frame deeper than the tolerance
    excess: float  # m x frames deeper than the tolerance, all told
    deepest: float  # m, the deepest frame
    speed_scale: float  # the speed bounds were raised by this to fit max_duration_s


def settle(planner: MovePlanner, min_durations: list[float]) -> Timed:
    """Time the planner's keyframes, repair them (`repair_rounds`), clear the frames and retime
    the segments still sunk in (`retime_rounds`); the least sunk timing. `min_durations` (per
    keyframe segment) is updated in place as keyframes go in and segments slow down."""
    cfg = planner.cfg
    for round_ in range(cfg.repair_rounds + 1):
        qpos, at, speed = time_keyframes(planner, np.asarray(min_durations))
        if round_ == cfg.repair_rounds or not repair(planner, qpos, at, min_durations):
            break
    best = cleared(planner, qpos, at, speed)
    for _ in range(cfg.retime_rounds):
        if not best.sunk:
            break
        # more frames give the clearance fit room to bend the motion within the bounds
        for i in best.sunk:
            duration = (best.at[i + 1] - best.at[i]) / cfg.limits.fps
            min_durations[i] = max(min_durations[i], cfg.retime_factor * duration)
        timed = cleared(planner, *time_keyframes(planner, np.asarray(min_durations)))
        if timed.excess >= best.excess:
            break
        best = timed
    return best


def time_keyframes(
    planner: MovePlanner, min_durations: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """(T, nq) frames through the keyframes, (K,) keyframe frame indices and the speed scale
    the timing needed (> 1: bounds raised to fit `max_duration_s`)."""
    cfg, idx, keyframes = planner.cfg, planner.idx, planner.keyframes
    kq = np.array([k.qpos for k in keyframes])
    frame_rot = quat_to_matrix(kq[0, idx.root_qpos][3:])
    coords = to_coords(kq, idx, frame_rot)
    rest = np.array([k.rest for k in keyframes])
    durations, vel, speed = fit_timing(coords, rest, min_durations, cfg.limits, cfg.max_duration_s)
    frames, at = sample(coords, vel, durations, cfg.limits.fps)
    return from_coords(frames, idx, frame_rot, kq[0]), at, speed


def cleared(planner: MovePlanner, qpos: np.ndarray, at: np.ndarray, speed: float) -> Timed:
    """The timed frames (keyframes at frames `at`, timed at speed scale `speed`) after the
    clearance pass, and how far they still sink in."""
    cfg, keyframes = planner.cfg, planner.keyframes
    limit = 2.0 * cfg.ik.penetration_tol
    place(keyframes, qpos, at)
    contacts, grip = contact_timeline(keyframes, planner.world.hold_slot, len(qpos))
    if cfg.clearance.rounds > 0:
        qpos, _ = clear_frames(
            planner.m,
            planner.idx,
            qpos,
            contacts >= 0,
            np.array([k.frame for k in keyframes if k.rest], dtype=int),
            limit,
            cfg.drift_tolerance_m,
            scaled(cfg.limits, max(speed, 1.0)),  # as the timing was allowed
            cfg.clearance,
            rays=planner.clearance,
        )
    pen = frame_penetration(planner.m, qpos, planner.ik.own, planner.clearance)
    sunk = [i for i in range(len(at) - 1) if pen[at[i] : at[i + 1] + 1].max() > limit]
    excess = float(np.maximum(pen - limit, 0.0).sum())
    return Timed(qpos, np.asarray(at).copy(), contacts, grip, sunk, excess, float(pen.max()), speed)


def place(keyframes: list[Keyframe], qpos: np.ndarray, at: np.ndarray) -> None:
    """Set each keyframe's `frame` from `at` and write the keyframes into `qpos` exactly (the
    rotation round trip of the timing is ~1e-16 off)."""
    for k, f in zip(keyframes, at):
        k.frame = int(f)
        qpos[f] = k.qpos
