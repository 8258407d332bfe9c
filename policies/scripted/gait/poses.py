"""Small pose helpers: headings (yaw about z from facing -y), frame sampling and slerp blends.

Heading convention (navenv's rest frame: z up, the body faces -y): a yaw is a rotation about
+z applied to the rest facing, so yaw 0 faces -y, yaw +pi/2 faces +x (the body's left), and a
floor direction (dx, dy) has yaw ``atan2(dx, -dy)``. Rotations are blended as quaternions
(`navenv.body.rotations.quat_slerp`), which always gives orthonormal matrices back.
"""

from __future__ import annotations

import numpy as np

from navenv.body.rotations import matrix_to_quat, quat_slerp, quat_to_matrix

_FORWARD = np.array([0.0, -1.0, 0.0])  # the rest facing in navenv's body frame


def direction_yaw(d: np.ndarray) -> np.ndarray:
    """(...,) yaw (rad) of floor directions (..., 2): ``atan2(dx, -dy)``."""
    d = np.asarray(d, dtype=np.float64)
    return np.arctan2(d[..., 0], -d[..., 1])


def heading_yaw(rot: np.ndarray) -> np.ndarray:
    """(...,) yaw (rad) of the rest facing (-y) carried by rotations (..., 3, 3), on the floor."""
    f = np.asarray(rot)[..., :, 1] * -1.0  # R @ (0, -1, 0)
    return direction_yaw(f[..., :2])


def yaw_matrix(yaw: np.ndarray | float) -> np.ndarray:
    """(..., 3, 3) rotations about z by yaw (rad)."""
    yaw = np.asarray(yaw, dtype=np.float64)
    c, s = np.cos(yaw), np.sin(yaw)
    out = np.zeros((*yaw.shape, 3, 3))
    out[..., 0, 0], out[..., 0, 1] = c, -s
    out[..., 1, 0], out[..., 1, 1] = s, c
    out[..., 2, 2] = 1.0
    return out


def wrap_angle(a: np.ndarray | float) -> np.ndarray:
    """Angles wrapped to [-pi, pi)."""
    return (np.asarray(a, dtype=np.float64) + np.pi) % (2.0 * np.pi) - np.pi


def remove_yaw(rot: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations with their heading yaw taken off (they then face about -y)."""
    return yaw_matrix(-heading_yaw(rot)) @ rot


def smoothstep(x: np.ndarray | float) -> np.ndarray:
    """3x^2 - 2x^3 on x clipped to [0, 1]: a ramp with zero slope at both ends."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def slerp_matrices(r0: np.ndarray, r1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations r0 -> r1 at fractions w (broadcast to r0's leading shape)."""
    q0, q1 = matrix_to_quat(r0), matrix_to_quat(r1)
    q0, q1 = np.broadcast_arrays(q0, q1)
    w = np.broadcast_to(np.asarray(w, dtype=np.float64), q0.shape[:-1])
    return quat_to_matrix(quat_slerp(q0, q1, w))


def sample_frames(
    transl: np.ndarray, rots: np.ndarray, frames: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Translation (M, 3) and rotations (M, J, 3, 3) at fractional frame indices (M,).

    transl: (T, 3); rots: (T, J, 3, 3). Indices are clamped to [0, T - 1]; translation is linear,
    rotations are slerped between the two neighbouring frames.
    """
    n = transl.shape[0]
    f = np.clip(np.asarray(frames, dtype=np.float64), 0.0, n - 1)
    i0 = np.minimum(np.floor(f).astype(int), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w = f - i0
    t = transl[i0] * (1.0 - w)[:, None] + transl[i1] * w[:, None]
    r = slerp_matrices(rots[i0], rots[i1], w[:, None])
    return t, r
