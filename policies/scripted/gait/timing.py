"""Where the root is, and when: a floor path by arc length, its heading, and a speed profile.

The polyline is resampled every `PATH_STEP_M` and its corners are rounded by a Gaussian of
`CORNER_SMOOTHING_M` over arc length (odd reflection at the ends keeps the end points and the
end directions). The body's heading follows the path's tangent, smoothed more
(`HEADING_SMOOTHING_M`) so the body turns into a corner before it reaches it. Speed starts
and ends at rest: it ramps up over `RAMP_S` from the start and down over `RAMP_S` to the end at
constant acceleration, and changes between per-point speeds at most `MAX_ACCEL_M_S2`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from policies.scripted.gait.poses import direction_yaw

PATH_STEP_M = 0.01
CORNER_SMOOTHING_M = 0.08  # rounds a right angle by about 0.05 m
HEADING_SMOOTHING_M = 0.25
RAMP_S = 0.5
MAX_ACCEL_M_S2 = 1.0  # everyday walking changes speed at well under 1 m/s^2
MIN_PATH_M = 0.01  # shorter paths are a turn on the spot, not a walk


@dataclass(frozen=True)
class PathTiming:
    """The root's floor trajectory, one row per output frame.

    t: (T,) seconds from the start; s: (T,) arc length, m; v: (T,) speed, m/s; xy: (T, 2) root
    position; yaw: (T,) body heading, rad (unwrapped). t_accel: when the start ramp ends,
    t_decel: when the end ramp begins (equal on paths too short to reach speed).
    """

    fps: float
    t: np.ndarray
    s: np.ndarray
    v: np.ndarray
    xy: np.ndarray
    yaw: np.ndarray
    length_m: float
    t_accel: float
    t_decel: float


def check_path(path_xy) -> np.ndarray:
    """(K, 2) float path, or ValueError naming path_xy."""
    try:
        p = np.asarray(path_xy, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"path_xy: not a numeric (K, 2) array ({e})") from e
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 2:
        raise ValueError(f"path_xy: expected a (K >= 2, 2) polyline of floor points, got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(
            f"path_xy: NaN or inf at rows {np.flatnonzero(~np.isfinite(p).all(1)).tolist()}"
        )
    return p


def check_speed(speed, num_points: int) -> np.ndarray:
    """(K,) per-point speeds (m/s) from a scalar or a (K,) array, or ValueError naming speed."""
    try:
        v = np.asarray(speed, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"speed: not a number or a (K,) array ({e})") from e
    if v.ndim == 0:
        v = np.full(num_points, float(v))
    if v.shape != (num_points,):
        raise ValueError(
            f"speed: expected a number or ({num_points},) per-point speeds, got {v.shape}"
        )
    if not (np.isfinite(v).all() and (v > 0).all()):
        raise ValueError(f"speed: must be finite and > 0 m/s, got {np.unique(v).tolist()[:5]}")
    return v


def path_length(path_xy: np.ndarray) -> float:
    """Length (m) of a (K, 2) polyline."""
    return float(np.linalg.norm(np.diff(path_xy, axis=0), axis=1).sum())


def _resample(
    path_xy: np.ndarray, per_point: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arc lengths (n,), points (n, 2) every PATH_STEP_M and speeds (n,) along a polyline."""
    seg = np.linalg.norm(np.diff(path_xy, axis=0), axis=1)
    s_raw = np.r_[0.0, np.cumsum(seg)]
    n = max(2, math.ceil(s_raw[-1] / PATH_STEP_M) + 1)
    s = np.linspace(0.0, s_raw[-1], n)
    keep = np.r_[True, seg > 0]  # np.interp needs increasing abscissae
    xy = np.stack([np.interp(s, s_raw[keep], path_xy[keep, k]) for k in range(2)], axis=1)
    return s, xy, np.interp(s, s_raw[keep], per_point[keep])


def _smooth(x: np.ndarray, sigma_m: float, odd: bool) -> np.ndarray:
    """Gaussian along the first axis of samples PATH_STEP_M apart; odd reflection keeps ends."""
    sigma = sigma_m / PATH_STEP_M
    pad = math.ceil(4 * sigma)
    width = ((pad, pad),) + ((0, 0),) * (x.ndim - 1)
    ext = (
        np.pad(x, width, mode="reflect", reflect_type="odd")
        if odd
        else np.pad(x, width, mode="edge")
    )
    return gaussian_filter1d(ext, sigma, axis=0, mode="nearest")[pad:-pad]


def _speed_profile(s: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Speeds (n,) from rest to rest under the ramp and acceleration limits; ramp end indices."""
    ds = np.diff(s)
    n = len(s)
    fwd, bwd = np.zeros(n), np.zeros(n)
    i_acc, i_dec = n - 1, 0
    accel = target[0] / RAMP_S
    for i in range(1, n):
        fwd[i] = min(target[i], math.sqrt(fwd[i - 1] ** 2 + 2.0 * accel * ds[i - 1]))
        if fwd[i] >= target[i] and i_acc == n - 1:
            i_acc, accel = i, MAX_ACCEL_M_S2
    accel = target[-1] / RAMP_S
    for i in range(n - 2, -1, -1):
        bwd[i] = min(target[i], math.sqrt(bwd[i + 1] ** 2 + 2.0 * accel * ds[i]))
        if bwd[i] >= target[i] and i_dec == 0:
            i_dec, accel = i, MAX_ACCEL_M_S2
    v = np.minimum(fwd, bwd)
    if i_acc >= i_dec:  # too short to reach speed: the two ramps meet at the fastest point
        i_acc = i_dec = int(np.argmax(v))
    return v, i_acc, i_dec


def time_along(path_xy: np.ndarray, speeds: np.ndarray, fps: float) -> PathTiming:
    """The per-frame root trajectory along a checked (K, 2) path at (K,) per-point speeds."""
    s, xy, target = _resample(path_xy, speeds)
    xy = _smooth(xy, CORNER_SMOOTHING_M, odd=True)
    # re-parameterise by the smoothed curve's own arc length (corners are now shorter)
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))]
    yaw = np.unwrap(direction_yaw(np.gradient(xy, axis=0)))
    yaw = _smooth(yaw, HEADING_SMOOTHING_M, odd=False)
    v, i_acc, i_dec = _speed_profile(s, target)
    dt = np.diff(s) / np.maximum(0.5 * (v[1:] + v[:-1]), 1e-9)
    t_fine = np.r_[0.0, np.cumsum(dt)]
    n_frames = math.ceil(t_fine[-1] * fps - 1e-9) + 1
    t = np.minimum(np.arange(n_frames) / fps, t_fine[-1])
    s_t = np.interp(t, t_fine, s)
    return PathTiming(
        fps=float(fps),
        t=np.arange(n_frames) / fps,
        s=s_t,
        v=np.interp(t, t_fine, v),
        xy=np.stack([np.interp(s_t, s, xy[:, k]) for k in range(2)], axis=1),
        yaw=np.interp(s_t, s, yaw),
        length_m=float(s[-1]),
        t_accel=float(t_fine[i_acc]),
        t_decel=float(t_fine[i_dec]),
    )
