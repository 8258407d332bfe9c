"""Best-of-K forecasting metrics: minADE / minFDE for positions, geodesic minADE for rotations.

Conventions follow the ETH/UCY trajectory-forecasting protocol (Social GAN, Gupta et al. 2018)
and Agent-to-Sim (ATS, arXiv 2410.16259):
- N agents (or forecast instances), K samples per agent, H future steps, D coordinates.
- For each agent the error of each sample is averaged over the horizon, the best (minimum)
  sample is kept, and the result is averaged over agents. minADE and minFDE each pick their
  own best sample.
- ATS scores goal (3D position 5.6 s ahead) and path (root trajectory) with positional minADE
  in metres, and root orientation and joint angles with geodesic minADE in radians, over K
  samples. The numbers depend on K, the horizon H and the frame rate, which are the caller's
  choice: report them next to every number.

`reduce="mean"` returns the mean over agents (a float); `reduce="none"` the (N,) per-agent
best-of-K errors.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from benchmarks.metrics._validate import choice, float_array, rotation_array

Reduce = Literal["mean", "none"]
_REDUCE = ("mean", "none")


def _reduce(per_agent: np.ndarray, reduce: str) -> float | np.ndarray:
    """Mean over agents, or the (N,) array itself."""
    choice(reduce, "reduce", _REDUCE)
    return float(per_agent.mean()) if reduce == "mean" else per_agent


def _match(pred: np.ndarray, gt: np.ndarray) -> None:
    """Raise ValueError unless pred (N, K, ...) and gt (N, ...) agree outside the K axis."""
    if pred.shape[:1] + pred.shape[2:] != gt.shape:
        raise ValueError(
            f"pred and gt disagree: pred {pred.shape} must be gt {gt.shape} with a sample axis "
            f"K inserted after N"
        )


def geodesic_angle_rad(r1: ArrayLike, r2: ArrayLike) -> np.ndarray:
    """Geodesic distance on SO(3) in radians, in [0, pi], between rotation matrices (..., 3, 3).

    Definition: the rotation angle of R1^T R2, arccos((trace(R1^T R2) - 1) / 2). Computed as
    atan2(|sin|, cos) with sin taken from the skew part of R1^T R2: the same value for exact
    rotations, but accurate near 0 and pi where arccos loses half the digits, and it needs no
    clipping when rounding pushes the cosine past +-1.
    """
    a = rotation_array(r1, "r1", (*(None,) * max(0, np.ndim(r1) - 2), 3, 3))
    b = rotation_array(r2, "r2", (*(None,) * max(0, np.ndim(r2) - 2), 3, 3))
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError as exc:
        raise ValueError(f"r1 {a.shape} and r2 {b.shape} do not broadcast") from exc
    return _angle(a, b)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unvalidated core of `geodesic_angle_rad`."""
    m = np.swapaxes(a, -1, -2) @ b
    cos = (np.trace(m, axis1=-2, axis2=-1) - 1.0) / 2.0
    skew = np.stack(
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]],
        axis=-1,
    )
    sin = np.linalg.norm(skew, axis=-1) / 2.0
    return np.arctan2(sin, cos)


def min_ade_k(pred: ArrayLike, gt: ArrayLike, *, reduce: Reduce = "mean") -> float | np.ndarray:
    """Best-of-K average displacement error, in the units of the input (metres for navenv).

    pred: (N, K, H, D) samples; gt: (N, H, D). For agent n:
    minADE_n = min_k (1/H) sum_h ||pred[n, k, h] - gt[n, h]||_2; result = mean_n minADE_n.
    A goal forecast is the H = 1 case.
    """
    p = float_array(pred, "pred", ("N", "K", "H", "D"))
    g = float_array(gt, "gt", ("N", "H", "D"))
    _match(p, g)
    dist = np.linalg.norm(p - g[:, None], axis=-1)  # (N, K, H)
    return _reduce(dist.mean(axis=2).min(axis=1), reduce)


def min_fde_k(pred: ArrayLike, gt: ArrayLike, *, reduce: Reduce = "mean") -> float | np.ndarray:
    """Best-of-K final displacement error, in the units of the input (metres for navenv).

    pred: (N, K, H, D); gt: (N, H, D). minFDE_n = min_k ||pred[n, k, H-1] - gt[n, H-1]||_2;
    result = mean_n minFDE_n. The best sample is chosen independently of minADE's.
    """
    p = float_array(pred, "pred", ("N", "K", "H", "D"))
    g = float_array(gt, "gt", ("N", "H", "D"))
    _match(p, g)
    dist = np.linalg.norm(p[:, :, -1] - g[:, None, -1], axis=-1)  # (N, K)
    return _reduce(dist.min(axis=1), reduce)


def min_ade_orientation_rad(
    pred: ArrayLike, gt: ArrayLike, *, reduce: Reduce = "mean"
) -> float | np.ndarray:
    """Best-of-K mean geodesic error of a global orientation, in radians (ATS "orient").

    pred: (N, K, H, 3, 3) rotation matrices; gt: (N, H, 3, 3). For agent n:
    min_k (1/H) sum_h angle(pred[n, k, h], gt[n, h]) with `geodesic_angle_rad`; result =
    mean over n. ATS reports it at a 5.6 s horizon over K samples; K, H and the frame rate
    are the caller's and must be reported with the number.
    """
    p = rotation_array(pred, "pred", ("N", "K", "H", 3, 3))
    g = rotation_array(gt, "gt", ("N", "H", 3, 3))
    _match(p, g)
    angle = _angle(p, g[:, None])  # (N, K, H)
    return _reduce(angle.mean(axis=2).min(axis=1), reduce)


def min_ade_joint_angles_rad(
    pred: ArrayLike, gt: ArrayLike, *, reduce: Reduce = "mean"
) -> float | np.ndarray:
    """Best-of-K mean geodesic error of joint rotations, in radians (ATS "joints").

    pred: (N, K, H, J, 3, 3) local joint rotation matrices; gt: (N, H, J, 3, 3). For agent n:
    min_k of the mean over h and j of angle(pred[n, k, h, j], gt[n, h, j]); result = mean
    over n. ATS reports it at a 5.6 s horizon over K samples; K, H, J and the frame rate are
    the caller's and must be reported with the number.
    """
    p = rotation_array(pred, "pred", ("N", "K", "H", "J", 3, 3))
    g = rotation_array(gt, "gt", ("N", "H", "J", 3, 3))
    _match(p, g)
    angle = _angle(p, g[:, None])  # (N, K, H, J)
    return _reduce(angle.mean(axis=(2, 3)).min(axis=1), reduce)
