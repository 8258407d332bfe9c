"""Timing and smoothing of keyframed whole-body motion: piecewise quintic segments in joint space.

A keyframe is a humanoid qpos. Between keyframes we interpolate in flat coordinates of size nv:
the root position (m), the root's rotation vector relative to a fixed frame (rad; the climber
turns well under pi from the wall-facing frame, so the rotation vector never wraps) and the 69
hinge angles (rad). Each segment is a quintic Hermite polynomial with zero end accelerations:
rest-to-rest it is the minimum-jerk profile, and through via keyframes it passes with the
velocity of a monotone (harmonic-mean) slope estimate, so a reach flows through its waypoints
instead of stopping at each one. Segment durations are stretched until every joint's peak speed
and acceleration, and the root's, are within `TimingLimits`, then rounded up to whole frames so
every keyframe (a grip or a release) falls exactly on a frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from navenv.body.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quat,
    quat_to_matrix,
)
from navenv.humanoid.index import HumanoidIndex

_SAMPLES = 48  # points per segment at which peak speed and acceleration are evaluated
ROOT = slice(0, 3)  # coordinate slices: root position, root rotation vector, hinges
ROOT_ROT = slice(3, 6)
HINGES = slice(6, None)


@dataclass
class TimingLimits:
    """Speed and acceleration bounds of the interpolated motion, and its frame rate."""

    fps: float = 30.0
    """Output frames per second."""
    max_joint_speed: float = 3.0
    """rad/s, every hinge and the root's rotation vector."""
    max_joint_accel: float = 25.0
    """rad/s^2."""
    max_root_speed: float = 1.0
    """m/s of the pelvis."""
    max_root_accel: float = 6.0
    """m/s^2 of the pelvis."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"TimingLimits.{name}: expected a positive number, got {value!r}")


# ------------------------------------------------------------------ coordinates
def to_coords(qpos: np.ndarray, index: HumanoidIndex, frame: np.ndarray) -> np.ndarray:
    """(K, nq) qpos -> (K, 6 + 69) coordinates (root position, rotation vector in `frame`, hinges)."""
    q = np.atleast_2d(qpos)
    root = q[:, index.root_qpos]
    rel = np.swapaxes(frame, -1, -2) @ quat_to_matrix(root[:, 3:])
    return np.concatenate([root[:, :3], matrix_to_axis_angle(rel), q[:, index.hinge_qpos]], 1)


def from_coords(
    coords: np.ndarray, index: HumanoidIndex, frame: np.ndarray, template: np.ndarray
) -> np.ndarray:
    """Inverse of `to_coords`: (K, 75) -> (K, nq), other qpos entries copied from `template`."""
    c = np.atleast_2d(coords)
    out = np.tile(np.asarray(template, dtype=np.float64), (len(c), 1))
    start = index.root_qpos.start
    out[:, start : start + 3] = c[:, ROOT]
    out[:, start + 3 : start + 7] = matrix_to_quat(frame @ axis_angle_to_matrix(c[:, ROOT_ROT]))
    out[:, index.hinge_qpos] = c[:, HINGES]
    return out


# ------------------------------------------------------------------ quintic Hermite segments
def _basis(s: np.ndarray, order: int) -> np.ndarray:
    """(len(s), 4) quintic Hermite basis (x0, v0, v1, x1 weights; zero end accelerations) or its
    `order`-th derivative with respect to s."""
    s = np.asarray(s, dtype=np.float64)[:, None]
    # coefficients of s^0..s^5 for H0 (x0), H1 (v0), H4 (v1), H5 (x1)
    c = np.array(
        [
            [1, 0, 0, -10, 15, -6],
            [0, 1, 0, -6, 8, -3],
            [0, 0, 0, -4, 7, -3],
            [0, 0, 0, 10, -15, 6],
        ],
        dtype=np.float64,
    ).T  # (6, 4)
    powers = np.arange(6)
    for _ in range(order):
        c = c[1:] * powers[1 : len(c)][:, None]
        powers = np.arange(len(c))
    return (s ** np.arange(len(c))) @ c


def _segment(x0, v0, x1, v1, duration: float, t: np.ndarray, order: int = 0) -> np.ndarray:
    """Values (order 0), velocities (1) or accelerations (2) of one segment at times t in [0, T]."""
    b = _basis(t / duration, order) / duration**order
    return (
        b[:, 0:1] * x0 + b[:, 1:2] * (duration * v0) + b[:, 2:3] * (duration * v1) + b[:, 3:4] * x1
    )


def via_velocities(coords: np.ndarray, durations: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """(K, D) velocity at each keyframe: 0 at rest keyframes (and both ends), elsewhere the
    weighted harmonic mean of the neighbouring slopes when they agree in sign, else 0 (no
    overshoot past a waypoint)."""
    k = len(coords)
    v = np.zeros_like(coords)
    if k < 3:
        return v
    slopes = np.diff(coords, axis=0) / durations[:, None]  # (K-1, D)
    d0, d1 = slopes[:-1], slopes[1:]
    w0, w1 = durations[:-1, None], durations[1:, None]
    same = d0 * d1 > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Fritsch-Butland weights (as in PCHIP): the longer neighbouring segment counts more
        a, b = 2 * w1 + w0, w1 + 2 * w0
        hm = (a + b) / (a / d0 + b / d1)
    v[1:-1] = np.where(same, np.nan_to_num(hm), 0.0)
    v[np.asarray(rest, bool)] = 0.0
    v[0] = v[-1] = 0.0
    return v


def segment_ratios(
    coords: np.ndarray, vel: np.ndarray, durations: np.ndarray, limits: TimingLimits
) -> np.ndarray:
    """(K-1,) how far each segment exceeds the limits: the largest of peak speed / limit and
    sqrt(peak acceleration / limit) over its coordinates (root position by norm); <= 1 is within."""
    s = np.linspace(0.0, 1.0, _SAMPLES)
    out = np.empty(len(durations))
    for i, dur in enumerate(durations):
        t = s * dur
        args = (coords[i], vel[i], coords[i + 1], vel[i + 1], dur, t)
        v, a = _segment(*args, order=1), _segment(*args, order=2)
        out[i] = max(
            np.abs(v[:, 3:]).max() / limits.max_joint_speed,
            math.sqrt(np.abs(a[:, 3:]).max() / limits.max_joint_accel),
            np.linalg.norm(v[:, ROOT], axis=1).max() / limits.max_root_speed,
            math.sqrt(np.linalg.norm(a[:, ROOT], axis=1).max() / limits.max_root_accel),
        )
    return out


def fit_durations(
    coords: np.ndarray,
    rest: np.ndarray,
    min_durations: np.ndarray,
    limits: TimingLimits,
    max_rounds: int = 12,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment durations (s, whole frames, each >= its minimum) that keep every peak speed and
    acceleration within `limits`; returns (durations (K-1,), keyframe velocities (K, D))."""
    coords = np.asarray(coords, dtype=np.float64)
    k = len(coords)
    if k < 2:
        return np.zeros(0), np.zeros_like(coords)
    if len(min_durations) != k - 1:
        raise ValueError(f"min_durations: expected {k - 1} values, got {len(min_durations)}")
    diff = np.diff(coords, axis=0)
    joint = np.abs(diff[:, 3:]).max(1)
    root = np.linalg.norm(diff[:, ROOT], axis=1)

    def need(v: float | np.ndarray, a: float | np.ndarray) -> np.ndarray:
        """Shortest durations for peak speed v D / T and peak acceleration a D / T^2."""
        return np.maximum.reduce(
            [
                v * joint / limits.max_joint_speed,
                np.sqrt(a * joint / limits.max_joint_accel),
                v * root / limits.max_root_speed,
                np.sqrt(a * root / limits.max_root_accel),
            ]
        )

    rest = np.asarray(rest, bool)
    # rest-to-rest minimum jerk peaks at 1.875 D / T and 5.7735 D / T^2; a segment passing
    # through a via keyframe moves closer to constant speed: start from D / T, 2 D / T^2 there
    # and let the rounds below stretch what the via velocities still push over
    both_rest = rest[:-1] & rest[1:]
    start = np.where(both_rest, need(1.875, 5.7735), need(1.0, 2.0))
    dur = _whole_frames(np.maximum(np.asarray(min_durations, dtype=np.float64), start), limits.fps)
    vel = via_velocities(coords, dur, rest)
    for _ in range(max_rounds):
        ratio = segment_ratios(coords, vel, dur, limits)
        if (ratio <= 1.0 + 1e-9).all():
            break
        dur = _whole_frames(np.where(ratio > 1.0, dur * ratio * 1.02, dur), limits.fps)
        vel = via_velocities(coords, dur, rest)
    else:  # via velocities kept the bounds out of reach: stop at each keyframe instead
        vel = np.zeros_like(coords)
        dur = _whole_frames(np.maximum(dur, need(1.875, 5.7735)), limits.fps)
    return dur, vel


def fit_timing(
    coords: np.ndarray,
    rest: np.ndarray,
    min_durations: np.ndarray,
    limits: TimingLimits,
    max_duration: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """`fit_durations`, then fitted into `max_duration` seconds: first the minimum durations
    give way (down to what the limits allow), then, if the limits themselves take too long, the
    same path is played r times faster (speed limits x r, acceleration limits x r^2).
    Returns (durations, keyframe velocities, r) with r = 1 when the limits hold."""
    durations, vel = fit_durations(coords, rest, min_durations, limits)
    if durations.sum() <= max_duration:
        return durations, vel, 1.0
    tiny = np.full(len(durations), 1e-3)
    bound, bound_vel = fit_durations(coords, rest, tiny, limits)
    if bound.sum() <= max_duration:  # squeeze the slack above the bounds evenly
        slack = np.maximum(durations - bound, 0.0)
        share = min(1.0, (durations.sum() - max_duration) / max(slack.sum(), 1e-9))
        durations, vel = fit_durations(coords, rest, durations - share * slack, limits)
    else:
        durations, vel = bound, bound_vel
    r = 1.0
    for _ in range(6):  # whole-frame rounding adds up over many short segments: iterate
        if durations.sum() <= max_duration:
            break
        r *= 1.005 * durations.sum() / max_duration
        durations, vel = fit_durations(coords, rest, tiny, scaled(limits, r))
    return durations, vel, r


def scaled(limits: TimingLimits, r: float) -> TimingLimits:
    """Limits for the same motion played r times faster."""
    return TimingLimits(
        limits.fps,
        limits.max_joint_speed * r,
        limits.max_joint_accel * r * r,
        limits.max_root_speed * r,
        limits.max_root_accel * r * r,
    )


def _whole_frames(durations: np.ndarray, fps: float) -> np.ndarray:
    return np.maximum(np.ceil(durations * fps - 1e-6), 1.0) / fps


def sample(
    coords: np.ndarray, vel: np.ndarray, durations: np.ndarray, fps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Frames at `fps` through the keyframes: (T, D) coordinates and (K,) keyframe frame indices."""
    frames = [coords[:1]]
    at = [0]
    for i, dur in enumerate(durations):
        n = round(dur * fps)
        t = np.arange(1, n + 1) / fps
        seg = _segment(coords[i], vel[i], coords[i + 1], vel[i + 1], dur, t)
        seg[-1] = coords[i + 1]  # land exactly on the keyframe
        frames.append(seg)
        at.append(at[-1] + n)
    return np.concatenate(frames), np.asarray(at)


def frame_rates(coords: np.ndarray, fps: float) -> dict[str, float]:
    """Finite-difference peak speeds and accelerations of sampled coordinates (T, D):
    joint (rad/s, rad/s^2, hinges and root rotation) and root (m/s, m/s^2)."""
    c = np.asarray(coords, dtype=np.float64)
    if len(c) < 3:
        return dict(joint_speed=0.0, joint_accel=0.0, root_speed=0.0, root_accel=0.0)
    v = np.diff(c, axis=0) * fps
    a = np.diff(c, 2, axis=0) * fps * fps
    return dict(
        joint_speed=float(np.abs(v[:, 3:]).max()),
        joint_accel=float(np.abs(a[:, 3:]).max()),
        root_speed=float(np.linalg.norm(v[:, ROOT], axis=1).max()),
        root_accel=float(np.linalg.norm(a[:, ROOT], axis=1).max()),
    )
