"""Shared argument checks for the metric functions: shapes, finiteness, integer labels.

Every metric validates its inputs here so that a wrong shape or a NaN fails loudly with the
argument's name instead of broadcasting into a plausible-looking number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

# A dimension spec: an int fixes the size, a str names a free size (shown in messages and
# required to agree between arguments by the caller), None means any size.
DimSpec = int | str | None


def _describe(spec: Sequence[DimSpec]) -> str:
    """Render a shape spec as '(T, J, 3)'."""
    parts = ["?" if d is None else str(d) for d in spec]
    return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")


def float_array(
    x: ArrayLike, name: str, spec: Sequence[DimSpec], *, min_size: int = 1
) -> np.ndarray:
    """`x` as a float64 array of the given shape spec, finite everywhere.

    Raises ValueError naming `name` when the rank or a fixed dimension differs, when a free
    dimension is below `min_size`, or when any value is NaN or infinite.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a numeric array of shape {_describe(spec)}") from exc
    check_shape(arr, name, spec, min_size=min_size)
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(
            f"{name}: contains NaN or inf (first at index {bad}); all values must be finite"
        )
    return arr


def check_shape(arr: np.ndarray, name: str, spec: Sequence[DimSpec], *, min_size: int = 1) -> None:
    """Raise ValueError naming `name` unless `arr.shape` matches `spec`."""
    want = _describe(spec)
    if arr.ndim != len(spec):
        raise ValueError(f"{name}: expected shape {want}, got {arr.shape} ({arr.ndim}-D)")
    for axis, (got, d) in enumerate(zip(arr.shape, spec, strict=True)):
        if isinstance(d, int) and got != d:
            raise ValueError(f"{name}: expected shape {want}, got {arr.shape} (axis {axis})")
        if not isinstance(d, int) and got < min_size:
            raise ValueError(
                f"{name}: expected shape {want} with every free axis >= {min_size}, "
                f"got {arr.shape} (axis {axis})"
            )


def same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ValueError naming both arguments unless their shapes are equal."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape; got {a.shape} and {b.shape}"
        )


ORTHONORMAL_TOL = 1e-3
"""Largest |R^T R - I| entry accepted for a rotation matrix; float32 6D->matrix conversions
are orthonormal to ~1e-6, a wrongly reshaped feature vector is off by far more."""


def rotation_array(
    x: ArrayLike, name: str, spec: Sequence[DimSpec], *, min_size: int = 1
) -> np.ndarray:
    """`x` as float64 rotation matrices (..., 3, 3): finite, orthonormal, det +1."""
    r = float_array(x, name, spec, min_size=min_size)
    if r.size == 0:
        return r
    gram = np.einsum("...ji,...jk->...ik", r, r)
    bad = (np.abs(gram - np.eye(3)).max(axis=(-2, -1)) > ORTHONORMAL_TOL) | (np.linalg.det(r) <= 0)
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: matrix at index {where} is not a rotation "
            f"(need R^T R = I within {ORTHONORMAL_TOL} and det(R) = +1)"
        )
    return r


def int_array(x: ArrayLike, name: str, spec: Sequence[DimSpec], *, min_value: int) -> np.ndarray:
    """`x` as an int64 array of the given shape spec with every value >= `min_value`.

    Floats are rejected even when integral: hold and limb indices must come from integer
    arrays so that a float position array passed by mistake cannot be silently truncated.
    """
    arr = np.asarray(x)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        if arr.size == 0 and arr.dtype == np.float64:
            arr = arr.astype(np.int64)  # an empty list arrives as float64; nothing to truncate
        else:
            raise ValueError(f"{name}: expected an integer array, got dtype {arr.dtype}")
    check_shape(arr, name, spec, min_size=0)
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < min_value:
        bad = tuple(int(i) for i in np.argwhere(arr < min_value)[0])
        raise ValueError(
            f"{name}: value {int(arr[bad])} at index {bad} is below the minimum {min_value}"
        )
    return arr


def bool_array(x: ArrayLike, name: str, spec: Sequence[DimSpec]) -> np.ndarray:
    """`x` as a bool array of the given shape spec (bool dtype required, or 0/1 integers)."""
    arr = np.asarray(x)
    if arr.dtype != np.bool_:
        if np.issubdtype(arr.dtype, np.integer) and np.all((arr == 0) | (arr == 1)):
            arr = arr.astype(bool)
        else:
            raise ValueError(f"{name}: expected a boolean mask, got dtype {arr.dtype}")
    check_shape(arr, name, spec, min_size=0)
    return arr


def positive(value: float, name: str) -> float:
    """`value` as a float, raising ValueError naming `name` unless it is finite and > 0."""
    v = float(value)
    if not np.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name}: expected a finite value > 0, got {value!r}")
    return v


def choice(value: str, name: str, accepted: Sequence[str]) -> str:
    """`value` if it is one of `accepted`, else ValueError naming `name` and the options."""
    if value not in accepted:
        raise ValueError(f"{name}: expected one of {list(accepted)}, got {value!r}")
    return value
