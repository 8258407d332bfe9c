"""Motion metrics on joint positions: MPJPE, PA-MPJPE, acceleration error, jerk, skating.

Inputs are joint positions of shape (T, J, 3) in metres (T frames, J joints, world z up).
Position errors are reported in millimetres, the unit of the human-mesh-recovery literature
(Human3.6M protocols, HMR, VIBE); physical rates are reported in SI units.

`reduce` selects the output of the error metrics:
- "mean": one float, the mean over every frame and joint;
- "per_frame": a (T',) array, the mean over joints for each frame;
- "none": the (T', J) array of per-joint errors.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import uniform_filter1d

from benchmarks.metrics._validate import (
    bool_array,
    choice,
    float_array,
    positive,
    same_shape,
)

Reduce = Literal["mean", "per_frame", "none"]
Align = Literal["root", "none"]
_REDUCE = ("mean", "per_frame", "none")
_ALIGN = ("root", "none")
_M_TO_MM = 1000.0


def _reduce(err: np.ndarray, reduce: str) -> float | np.ndarray:
    """Apply a `reduce` option to a (T, J) error array."""
    choice(reduce, "reduce", _REDUCE)
    if reduce == "mean":
        return float(err.mean())
    if reduce == "per_frame":
        return err.mean(axis=1)
    return err


def _pair(pred: ArrayLike, gt: ArrayLike, min_frames: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (T, J, 3) prediction / ground-truth pair with at least `min_frames` frames."""
    p = float_array(pred, "pred", ("T", "J", 3))
    g = float_array(gt, "gt", ("T", "J", 3))
    same_shape(p, g, "pred", "gt")
    if p.shape[0] < min_frames:
        raise ValueError(f"pred: needs at least {min_frames} frames, got shape {p.shape}")
    return p, g


def _root_relative(x: np.ndarray, align: str, root_index: int) -> np.ndarray:
    """Subtract joint `root_index` from every joint per frame when `align` is "root"."""
    choice(align, "align", _ALIGN)
    if align == "none":
        return x
    n_joints = x.shape[1]
    if isinstance(root_index, bool) or not isinstance(root_index, int | np.integer):
        raise ValueError(f"root_index: expected an int, got {root_index!r}")
    if not -n_joints <= root_index < n_joints:
        raise ValueError(f"root_index: {root_index} is out of range for J = {n_joints} joints")
    return x - x[:, [root_index]]


def mpjpe_mm(
    pred: ArrayLike,
    gt: ArrayLike,
    *,
    align: Align = "root",
    root_index: int = 0,
    reduce: Reduce = "mean",
) -> float | np.ndarray:
    """Mean per-joint position error in millimetres.

    pred, gt: (T, J, 3) joint positions in metres.
    Definition: mean over frames t and joints j of ||p[t, j] - g[t, j]||_2 * 1000.
    align="root" (Human3.6M protocol 1): the root joint `root_index` is subtracted from every
    joint of its own frame first, so global translation is ignored; the root joint stays in the
    mean and contributes 0. align="none": global positions, no alignment.
    """
    p, g = _pair(pred, gt)
    p = _root_relative(p, align, root_index)
    g = _root_relative(g, align, root_index)
    return _reduce(np.linalg.norm(p - g, axis=-1) * _M_TO_MM, reduce)


def procrustes_align(
    source: ArrayLike, target: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame similarity transform (Umeyama 1991) mapping `source` joints onto `target`.

    source, target: (T, J, 3). Returns (aligned (T, J, 3), scale (T,), rotation (T, 3, 3),
    translation (T, 3)) minimising sum_j ||s R x_j + t - y_j||^2 with R a proper rotation:
    the sign correction on the smallest singular vector forbids reflections, so a mirrored pose
    is not aligned away. A frame whose source joints all coincide gets scale 0 (the aligned
    joints collapse onto the target centroid).
    """
    x = float_array(source, "source", ("T", "J", 3))
    y = float_array(target, "target", ("T", "J", 3))
    same_shape(x, y, "source", "target")
    mu_x = x.mean(axis=1, keepdims=True)
    mu_y = y.mean(axis=1, keepdims=True)
    xc, yc = x - mu_x, y - mu_y
    n_joints = x.shape[1]
    cov = np.einsum("tji,tjk->tik", yc, xc) / n_joints  # (T, 3, 3) target-source covariance
    u, d, vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    sign[sign == 0] = 1.0
    s = np.ones_like(d)
    s[:, 2] = sign
    rotation = u @ (s[:, :, None] * vt)
    var_x = np.einsum("tji,tji->t", xc, xc) / n_joints
    scale = np.divide((d * s).sum(axis=1), var_x, out=np.zeros_like(var_x), where=var_x > 0)
    translation = mu_y[:, 0] - scale[:, None] * np.einsum("tik,tk->ti", rotation, mu_x[:, 0])
    aligned = scale[:, None, None] * np.einsum("tik,tjk->tji", rotation, x) + translation[:, None]
    return aligned, scale, rotation, translation


def pa_mpjpe_mm(pred: ArrayLike, gt: ArrayLike, *, reduce: Reduce = "mean") -> float | np.ndarray:
    """Procrustes-aligned MPJPE in millimetres (Human3.6M protocol 2, HMR/SPIN convention).

    pred, gt: (T, J, 3) joint positions in metres. Each frame of `pred` is first aligned to
    `gt` by the best similarity transform (rotation without reflection, translation, uniform
    scale; see `procrustes_align`), then MPJPE is taken without further alignment.
    """
    p, g = _pair(pred, gt)
    aligned = procrustes_align(p, g)[0]
    return _reduce(np.linalg.norm(aligned - g, axis=-1) * _M_TO_MM, reduce)


def accel_error_mm(
    pred: ArrayLike,
    gt: ArrayLike,
    *,
    align: Align = "root",
    root_index: int = 0,
    reduce: Reduce = "mean",
) -> float | np.ndarray:
    """Acceleration error in mm/frame^2 (HMR-video / VIBE convention).

    pred, gt: (T, J, 3) joint positions in metres, T >= 3.
    Definition: a[t] = x[t+1] - 2 x[t] + x[t-1] for t = 1..T-2 (a second difference per frame,
    not per second); error = mean over t, j of ||a_pred[t, j] - a_gt[t, j]|| * 1000.
    align="root" subtracts joint `root_index` per frame first, as VIBE does (it evaluates on
    pelvis-centred joints); align="none" also scores global acceleration. Per-frame outputs
    have T - 2 rows, row i belonging to frame i + 1. Multiply by fps^2 / 1000 for m/s^2.
    """
    p, g = _pair(pred, gt, min_frames=3)
    p = _root_relative(p, align, root_index)
    g = _root_relative(g, align, root_index)
    acc_p = p[2:] - 2.0 * p[1:-1] + p[:-2]
    acc_g = g[2:] - 2.0 * g[1:-1] + g[:-2]
    return _reduce(np.linalg.norm(acc_p - acc_g, axis=-1) * _M_TO_MM, reduce)


def mean_jerk_m_s3(
    positions: ArrayLike, *, fps: float, reduce: Reduce = "mean"
) -> float | np.ndarray:
    """Mean jerk magnitude of a motion in m/s^3 (a smoothness measure; lower is smoother).

    positions: (T, J, 3) in metres, T >= 4; fps: frames per second.
    Definition: j[t] = (x[t+3] - 3 x[t+2] + 3 x[t+1] - x[t]) * fps^3 for t = 0..T-4;
    result = mean over t, j of ||j[t, j]||. Per-frame outputs have T - 3 rows.
    """
    x = float_array(positions, "positions", ("T", "J", 3))
    rate = positive(fps, "fps")
    if x.shape[0] < 4:
        raise ValueError(f"positions: needs at least 4 frames for jerk, got shape {x.shape}")
    jerk = (x[3:] - 3.0 * x[2:-1] + 3.0 * x[1:-2] - x[:-3]) * rate**3
    return _reduce(np.linalg.norm(jerk, axis=-1), reduce)


def _contact_speeds(
    positions: ArrayLike,
    contact: ArrayLike | None,
    fps: float,
    contact_height_m: float,
    up: ArrayLike,
    ground_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Tangential speed (T-1, J) in m/s of each joint and whether it was in contact throughout."""
    raw = np.asarray(positions)
    spec = ("T", 3) if raw.ndim == 2 else ("T", "J", 3)
    x = float_array(raw, "positions", spec)
    if x.ndim == 2:
        x = x[:, None, :]
    n_frames, n_joints = x.shape[:2]
    if n_frames < 2:
        raise ValueError(f"positions: needs at least 2 frames, got shape {raw.shape}")
    rate = positive(fps, "fps")
    n = float_array(up, "up", (3,))
    norm = float(np.linalg.norm(n))
    if norm == 0.0:
        raise ValueError("up: must be a non-zero 3-vector (the contact surface normal)")
    n = n / norm
    if contact is None:
        positive(contact_height_m, "contact_height_m")
        in_contact = (x @ n - float(ground_m)) < contact_height_m  # (T, J)
    else:
        c = np.asarray(contact)
        spec_c = ("T",) if c.ndim == 1 else ("T", "J")
        in_contact = bool_array(c, "contact", spec_c)
        if in_contact.shape[0] != n_frames or (c.ndim == 2 and in_contact.shape[1] != n_joints):
            raise ValueError(
                f"contact: expected shape ({n_frames},) or ({n_frames}, {n_joints}) to match "
                f"positions {raw.shape}, got {in_contact.shape}"
            )
        if in_contact.ndim == 1:
            in_contact = np.repeat(in_contact[:, None], n_joints, axis=1)
    step = x[1:] - x[:-1]
    tangential = step - (step @ n)[..., None] * n  # drop motion along the surface normal
    speed = np.linalg.norm(tangential, axis=-1) * rate
    # Lift-off and touch-down steps move legitimately; only count steps in contact at both ends.
    both = in_contact[1:] & in_contact[:-1]
    return speed, both


def skating_speed_m_s(
    positions: ArrayLike,
    contact: ArrayLike | None = None,
    *,
    fps: float,
    contact_height_m: float = 0.05,
    up: ArrayLike = (0.0, 0.0, 1.0),
    ground_m: float = 0.0,
) -> float:
    """Mean sliding speed in m/s of contact joints (feet, hands) while they are in contact.

    positions: (T, 3) for one joint or (T, J, 3) for several, metres; fps: frames per second.
    contact: boolean (T,) (applies to every joint) or (T, J); if None, a joint is in contact
    when its height `positions @ up - ground_m` is below `contact_height_m` (5 cm, as in GMD,
    Karunratanakul et al. 2023). `up` is the contact surface normal: (0, 0, 1) for the floor,
    the wall normal for holds on a wall.
    Definition: for each step t -> t+1 and joint j in contact at both t and t+1, the speed
    ||P (x[t+1, j] - x[t, j])|| * fps, with P projecting onto the surface plane (horizontal
    for the floor); result = mean over those (t, j). 0.0 when nothing is ever in contact.
    """
    speed, both = _contact_speeds(positions, contact, fps, contact_height_m, up, ground_m)
    if not both.any():
        return 0.0
    return float(speed[both].mean())


def skating_ratio(
    positions: ArrayLike,
    contact: ArrayLike | None = None,
    *,
    fps: float,
    contact_height_m: float = 0.05,
    speed_threshold_m_s: float = 0.5,
    window_frames: int = 5,
    up: ArrayLike = (0.0, 0.0, 1.0),
    ground_m: float = 0.0,
) -> float:
    """Fraction of steps in which some contact joint skates (GMD's foot-skating ratio), in [0, 1].

    Arguments as in `skating_speed_m_s`. A step t -> t+1 skates when any joint that is in
    contact at t and t+1 moves tangentially faster than `speed_threshold_m_s` (0.5 m/s in
    GMD) both in that step and on average over a centred window of `window_frames` steps
    (zero-padded at the ends, scipy `uniform_filter1d(mode="constant")`, as GMD does; 1
    disables the window). Result = skating steps / (T - 1).
    """
    speed, both = _contact_speeds(positions, contact, fps, contact_height_m, up, ground_m)
    threshold = positive(speed_threshold_m_s, "speed_threshold_m_s")
    if isinstance(window_frames, bool) or not isinstance(window_frames, int) or window_frames < 1:
        raise ValueError(f"window_frames: expected an int >= 1, got {window_frames!r}")
    smooth = uniform_filter1d(speed, size=window_frames, axis=0, mode="constant", cval=0.0)
    skating = both & (speed > threshold) & (smooth > threshold)
    return float(skating.any(axis=1).mean())
