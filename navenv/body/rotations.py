"""Rotation conversions for numpy arrays and torch tensors, batched over leading dimensions.

Every function accepts a ``numpy.ndarray`` or a ``torch.Tensor`` and returns the same kind,
with the same leading (batch) shape. Conventions, used everywhere in navenv:

- Rotation matrices act on column vectors: ``v_world = R @ v_local``.
- Quaternions are (w, x, y, z) (MuJoCo's order); ``matrix_to_quat`` returns w >= 0.
- Axis-angle is a 3-vector whose direction is the axis and whose norm is the angle (rad).
- 6D (Zhou et al., CVPR 2019) is the first two *columns* of the matrix, concatenated:
  ``(R[:, 0], R[:, 1])``; ``rot6d_to_matrix`` recovers R by Gram-Schmidt.
- Euler XYZ is intrinsic: ``R = Rx(a) @ Ry(b) @ Rz(c)``, which is exactly what three nested MuJoCo
  hinges with axes x, y, z (in that order, in one body) produce. ``b`` lies in [-pi/2, pi/2].
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import TypeVar

import numpy as np

torch = None  # imported on first use with a tensor: numpy-only users skip torch's import time

Array = TypeVar("Array")  # np.ndarray or torch.Tensor

_EPS = 1e-8


def _is_torch(x) -> bool:
    global torch
    if not type(x).__module__.startswith("torch"):
        return False
    if torch is None:
        import torch as _torch

        torch = _torch
    return isinstance(x, torch.Tensor)


_NEXT, _PREV = np.array([1, 2, 0]), np.array([2, 0, 1])  # c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}


def _np_cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross of 3-vectors, the same products and differences without its per-call set-up."""
    return a[..., _NEXT] * b[..., _PREV] - a[..., _PREV] * b[..., _NEXT]


def _np_clip(a, low, high):
    """np.clip without its wrapper: a missing bound is the one ufunc np.clip calls itself."""
    if high is None:
        return np.maximum(a, low)
    if low is None:
        return np.minimum(a, high)
    return np.clip(a, low, high)


def _np_norm(a, axis, keepdims=False):
    """np.linalg.norm along one axis: its own special case for real arrays, sqrt(sum(a * a))."""
    if a.dtype.kind != "f":
        return np.linalg.norm(a, axis=axis, keepdims=keepdims)
    return np.sqrt(np.add.reduce(a * a, axis=axis, keepdims=keepdims))


_TORCH_OPS: SimpleNamespace | None = None
_NUMPY_OPS = SimpleNamespace(
    stack=lambda xs, axis: np.stack(xs, axis=axis),
    cat=lambda xs, axis: np.concatenate(xs, axis=axis),
    norm=_np_norm,
    cross=_np_cross,
    clip=_np_clip,
    where=np.where,
    sqrt=np.sqrt,
    sin=np.sin,
    cos=np.cos,
    atan2=np.arctan2,
    asin=np.arcsin,
    sum=lambda a, axis, keepdims=False: np.add.reduce(a, axis=axis, keepdims=keepdims),
    zeros_like=np.zeros_like,
    ones_like=np.ones_like,
    argmax=lambda a, axis: np.argmax(a, axis=axis),
    abs=np.abs,
)


def _ops(x) -> SimpleNamespace:
    """The handful of array operations we need, for x's backend (built once per backend: the
    conversions run per frame in the envs, where building them per call cost more than the math)."""
    global _TORCH_OPS
    if not _is_torch(x):
        return _NUMPY_OPS
    if _TORCH_OPS is None:
        _TORCH_OPS = SimpleNamespace(
            stack=lambda xs, axis: torch.stack(xs, dim=axis),
            cat=lambda xs, axis: torch.cat(xs, dim=axis),
            norm=lambda a, axis, keepdims=False: torch.linalg.norm(a, dim=axis, keepdim=keepdims),
            cross=lambda a, b: torch.linalg.cross(a, b, dim=-1),
            clip=torch.clamp,
            where=torch.where,
            sqrt=torch.sqrt,
            sin=torch.sin,
            cos=torch.cos,
            atan2=torch.atan2,
            asin=torch.asin,
            sum=lambda a, axis, keepdims=False: torch.sum(a, dim=axis, keepdim=keepdims),
            zeros_like=torch.zeros_like,
            ones_like=torch.ones_like,
            argmax=lambda a, axis: torch.argmax(a, dim=axis),
            abs=torch.abs,
        )
    return _TORCH_OPS


def _const(x, values: np.ndarray):
    """`values` as an array of x's backend, dtype and device."""
    if _is_torch(x):
        return torch.as_tensor(values, dtype=x.dtype, device=x.device)
    return values.astype(x.dtype, copy=False)


def _asarray(x):
    if _is_torch(x):
        return x if x.is_floating_point() else x.double()
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _check_last(x, dims: tuple[int, ...], name: str) -> None:
    if tuple(x.shape[len(x.shape) - len(dims) :]) != dims or len(x.shape) < len(dims):
        raise ValueError(
            f"{name}: expected shape (..., {', '.join(map(str, dims))}), got {tuple(x.shape)}"
        )


def axis_angle_to_matrix(aa: Array) -> Array:
    """Axis-angle (..., 3) to rotation matrices (..., 3, 3) by Rodrigues' formula."""
    aa = _asarray(aa)
    _check_last(aa, (3,), "axis_angle_to_matrix")
    o = _ops(aa)
    theta = o.norm(aa, -1, keepdims=True)  # (..., 1)
    small = theta < 1e-6
    safe = o.where(small, o.ones_like(theta), theta)
    # sin(t)/t and (1-cos(t))/t^2 with Taylor series near zero (no 0/0)
    a = o.where(small, 1.0 - theta**2 / 6.0, o.sin(safe) / safe)
    b = o.where(small, 0.5 - theta**2 / 24.0, (1.0 - o.cos(safe)) / safe**2)
    x, y, z = aa[..., 0], aa[..., 1], aa[..., 2]
    zero = o.zeros_like(x)
    k = o.stack(
        [
            o.stack([zero, -z, y], -1),
            o.stack([z, zero, -x], -1),
            o.stack([-y, x, zero], -1),
        ],
        -2,
    )  # (..., 3, 3) cross-product matrix
    eye = _eye_like(aa)
    return eye + a[..., None] * k + b[..., None] * (k @ k)


def _eye_like(x):
    shape = (*tuple(x.shape[:-1]), 3, 3)
    if _is_torch(x):
        return torch.eye(3, dtype=x.dtype, device=x.device).expand(shape)
    return np.broadcast_to(np.eye(3, dtype=x.dtype), shape)


# Shepperd's method. 4 q_i^2 = 1 +- m00 +- m11 +- m22 for i = w, x, y, z: the signs per row
# (a - b is exactly a + (-b), so the sums are the textbook ones to the last bit).
_SHEPPERD_SIGNS = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float)
# Flat (row-major) indices of the diagonal and of the off-diagonal pairs (m21, m12), (m02, m20),
# (m10, m01).
_DIAG, _PAIR_A, _PAIR_B = np.array([0, 4, 8]), np.array([7, 2, 3]), np.array([5, 6, 1])
# Numerator of candidate i (row), component j: an index into (4 q_i^2 for i = w, x, y, z;
# m21 - m12, m02 - m20, m10 - m01; m21 + m12, m02 + m20, m10 + m01). Candidate i is it / 2|q_i|.
_SHEPPERD_TERMS = np.array([[0, 4, 5, 6], [4, 1, 9, 8], [5, 9, 2, 7], [6, 8, 7, 3]])
_ARANGE4 = np.arange(4)


def matrix_to_quat(m: Array) -> Array:
    """Rotation matrices (..., 3, 3) to unit quaternions (..., 4), (w, x, y, z), w >= 0.

    Uses the numerically best of the four Shepperd candidates for each matrix.
    """
    m = _asarray(m)
    _check_last(m, (3, 3), "matrix_to_quat")
    o = _ops(m)
    flat = m.reshape(*m.shape[:-2], 9)
    diag = flat[..., _DIAG][..., None, :] * _const(m, _SHEPPERD_SIGNS)  # (..., 4, 3)
    sq = 1.0 + diag[..., 0] + diag[..., 1] + diag[..., 2]  # (..., 4) = 4 q_i^2
    r = o.sqrt(o.clip(sq, _EPS, None))  # (..., 4) = 2|q_i|
    a, b = flat[..., _PAIR_A], flat[..., _PAIR_B]
    terms = o.cat([r**2, a - b, a + b], -1)  # (..., 10)
    index, arange = _SHEPPERD_TERMS, _ARANGE4
    if is_torch := _is_torch(m):
        index, arange = torch.as_tensor(index, device=m.device), torch.arange(4, device=m.device)
    candidates = terms[..., index] / (2 * r)[..., :, None]  # (..., 4 candidates, 4)
    best = o.argmax(sq, -1)[..., None]  # (..., 1)
    onehot = (best == arange).to(m.dtype) if is_torch else (best == arange).astype(m.dtype)
    q = o.sum(candidates * onehot[..., :, None], -2)  # (..., 4)
    q = q / o.norm(q, -1, keepdims=True)
    return o.where(q[..., 0:1] < 0, -q, q)


def quat_to_matrix(q: Array) -> Array:
    """Quaternions (..., 4), (w, x, y, z), normalised first, to rotation matrices (..., 3, 3)."""
    q = _asarray(q)
    _check_last(q, (4,), "quat_to_matrix")
    o = _ops(q)
    q = q / o.clip(o.norm(q, -1, keepdims=True), _EPS, None)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    rows = [
        1 - 2 * (y * y + z * z),
        2 * (x * y - w * z),
        2 * (x * z + w * y),
        2 * (x * y + w * z),
        1 - 2 * (x * x + z * z),
        2 * (y * z - w * x),
        2 * (x * z - w * y),
        2 * (y * z + w * x),
        1 - 2 * (x * x + y * y),
    ]
    return o.stack(rows, -1).reshape(*q.shape[:-1], 3, 3)


def quat_to_axis_angle(q: Array) -> Array:
    """Unit quaternions (..., 4), (w, x, y, z), to axis-angle (..., 3) with angle in [0, pi]."""
    q = _asarray(q)
    _check_last(q, (4,), "quat_to_axis_angle")
    o = _ops(q)
    q = o.where(q[..., 0:1] < 0, -q, q)
    v = q[..., 1:]
    s = o.norm(v, -1, keepdims=True)
    angle = 2.0 * o.atan2(s, q[..., 0:1])
    small = s < 1e-8
    # angle / sin(angle/2) -> 2 as angle -> 0
    scale = o.where(
        small, 2.0 / o.clip(q[..., 0:1], _EPS, None), angle / o.where(small, o.ones_like(s), s)
    )
    return v * scale


def matrix_to_axis_angle(m: Array) -> Array:
    """Rotation matrices (..., 3, 3) to axis-angle (..., 3), angle in [0, pi]."""
    return quat_to_axis_angle(matrix_to_quat(m))


def axis_angle_to_quat(aa: Array) -> Array:
    """Axis-angle (..., 3) to unit quaternions (..., 4), (w, x, y, z)."""
    aa = _asarray(aa)
    _check_last(aa, (3,), "axis_angle_to_quat")
    o = _ops(aa)
    theta = o.norm(aa, -1, keepdims=True)
    small = theta < 1e-6
    safe = o.where(small, o.ones_like(theta), theta)
    k = o.where(small, 0.5 - theta**2 / 48.0, o.sin(safe / 2) / safe)
    return o.cat([o.cos(theta / 2), aa * k], -1)


def matrix_to_rot6d(m: Array) -> Array:
    """Rotation matrices (..., 3, 3) to 6D (..., 6): the first two columns, concatenated."""
    m = _asarray(m)
    _check_last(m, (3, 3), "matrix_to_rot6d")
    return _ops(m).cat([m[..., :, 0], m[..., :, 1]], -1)


def rot6d_to_matrix(r6: Array) -> Array:
    """6D (..., 6) to rotation matrices (..., 3, 3) by Gram-Schmidt on the two columns."""
    r6 = _asarray(r6)
    _check_last(r6, (6,), "rot6d_to_matrix")
    o = _ops(r6)
    a1, a2 = r6[..., 0:3], r6[..., 3:6]
    b1 = a1 / o.clip(o.norm(a1, -1, keepdims=True), _EPS, None)
    a2 = a2 - o.sum(b1 * a2, -1, keepdims=True) * b1
    b2 = a2 / o.clip(o.norm(a2, -1, keepdims=True), _EPS, None)
    b3 = o.cross(b1, b2)
    return o.stack([b1, b2, b3], -1)


def euler_xyz_to_matrix(angles: Array) -> Array:
    """Intrinsic Euler XYZ angles (..., 3), rad, to matrices ``Rx(a) @ Ry(b) @ Rz(c)``."""
    angles = _asarray(angles)
    _check_last(angles, (3,), "euler_xyz_to_matrix")
    o = _ops(angles)
    ca, cb, cc = o.cos(angles[..., 0]), o.cos(angles[..., 1]), o.cos(angles[..., 2])
    sa, sb, sc = o.sin(angles[..., 0]), o.sin(angles[..., 1]), o.sin(angles[..., 2])
    rows = [
        cb * cc,
        -cb * sc,
        sb,
        ca * sc + sa * sb * cc,
        ca * cc - sa * sb * sc,
        -sa * cb,
        sa * sc - ca * sb * cc,
        sa * cc + ca * sb * sc,
        ca * cb,
    ]
    return o.stack(rows, -1).reshape(*angles.shape[:-1], 3, 3)


def matrix_to_euler_xyz(m: Array) -> Array:
    """Rotation matrices (..., 3, 3) to intrinsic Euler XYZ angles (..., 3), b in [-pi/2, pi/2].

    At gimbal lock (|b| = pi/2) the split between a and c is arbitrary: c is set to 0.
    """
    m = _asarray(m)
    _check_last(m, (3, 3), "matrix_to_euler_xyz")
    o = _ops(m)
    sb = o.clip(m[..., 0, 2], -1.0, 1.0)
    b = o.asin(sb)
    locked = o.abs(sb) > 1.0 - 1e-9
    a = o.where(locked, o.atan2(m[..., 2, 1], m[..., 1, 1]), o.atan2(-m[..., 1, 2], m[..., 2, 2]))
    c = o.where(locked, o.zeros_like(b), o.atan2(-m[..., 0, 1], m[..., 0, 0]))
    return o.stack([a, b, c], -1)


def quat_slerp(q0: Array, q1: Array, t: Array) -> Array:
    """Spherical interpolation between unit quaternions (..., 4) at fractions t (...,)."""
    q0, q1, t = _asarray(q0), _asarray(q1), _asarray(t)
    o = _ops(q0)
    dot = o.sum(q0 * q1, -1, keepdims=True)
    q1 = o.where(dot < 0, -q1, q1)  # shortest path
    dot = o.abs(dot)
    t = t[..., None]
    theta = o.atan2(o.sqrt(o.clip(1.0 - dot**2, 0.0, None)), dot)
    near = theta < 1e-6
    s = o.where(near, o.ones_like(theta), o.sin(theta))
    w0 = o.where(near, 1.0 - t, o.sin((1.0 - t) * theta) / s)
    w1 = o.where(near, t, o.sin(t * theta) / s)
    q = w0 * q0 + w1 * q1
    return q / o.norm(q, -1, keepdims=True)


def geodesic_angle(m0: Array, m1: Array) -> Array:
    """Angle (rad) of the relative rotation between matrices (..., 3, 3)."""
    m0, m1 = _asarray(m0), _asarray(m1)
    o = _ops(m0)
    rel = m0.swapaxes(-1, -2) @ m1 if not _is_torch(m0) else m0.transpose(-1, -2) @ m1
    tr = rel[..., 0, 0] + rel[..., 1, 1] + rel[..., 2, 2]
    # atan2 form is accurate near 0 and pi, unlike arccos((tr-1)/2)
    skew = o.stack(
        [
            rel[..., 2, 1] - rel[..., 1, 2],
            rel[..., 0, 2] - rel[..., 2, 0],
            rel[..., 1, 0] - rel[..., 0, 1],
        ],
        -1,
    )
    return o.atan2(o.norm(skew, -1) / 2.0, (tr - 1.0) / 2.0)


def rotation_x(angle: float) -> np.ndarray:
    """A (3, 3) rotation about x by angle (rad)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_z(angle: float) -> np.ndarray:
    """A (3, 3) rotation about z by angle (rad)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def is_rotation(m: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """Boolean (...,): which (..., 3, 3) matrices are proper rotations within tol."""
    m = np.asarray(m, dtype=np.float64)
    eye_err = np.abs(np.swapaxes(m, -1, -2) @ m - np.eye(3)).max(axis=(-1, -2))
    return (eye_err < tol) & (_det3(m) > 0) & np.isfinite(m).all(axis=(-1, -2))


def _det3(m: np.ndarray) -> np.ndarray:
    """Determinants (...,) of (..., 3, 3) by cofactors: a tenth of np.linalg.det's time on stacks
    of small matrices. Its sign is all is_rotation reads, where M^T M is near I (|det| near 1)."""
    r0, r1, r2 = m[..., 0, :], m[..., 1, :], m[..., 2, :]
    return (r0 * _np_cross(r1, r2)).sum(axis=-1)
