"""Penetration of points (joints, body-surface samples) into static scene geometry, in metres.

Geometry is given as arrays grouped by shape family (`Boxes`, `Spheres`, `Capsules`,
`Cylinders`, `Ellipsoids`, `Planes`) inside a `StaticShapes`; `shapes_from_primitives` builds
one from scene primitives (anything with `.type`, `.size`, `.pos`, `.quat` in MuJoCo's geom
semantics, such as scenes.types.Primitive).

Penetration depth of a point into one solid is its distance to that solid's surface when it
is inside (the negated signed distance), and 0 outside. For a point inside several solids the
deepest one counts; for overlapping solids this is a lower bound on the distance to the
surface of their union. That depth convention (negated signed distance, clamped at 0) is
`navenv.penetration`'s, which the env, the IK and the planner measure contacts by; here it is
applied to analytic signed distances. Depths are exact for boxes, spheres, capsules, cylinders and planes;
ellipsoids use a lower bound (see `Ellipsoids`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from benchmarks.metrics._validate import float_array, rotation_array
from navenv.penetration import depths_m

_CHUNK_PAIRS = 1 << 21  # point-shape pairs per chunk: bounds temporaries to ~50 MB


def _set(obj: Any, **values: np.ndarray) -> None:
    """Store validated arrays on a frozen dataclass."""
    for key, value in values.items():
        object.__setattr__(obj, key, value)


def _centres(center: ArrayLike, name: str) -> np.ndarray:
    """Validate (N, 3) centres; N may be 0."""
    return float_array(
        np.reshape(center, (-1, 3)) if np.size(center) == 0 else center, name, ("N", 3), min_size=0
    )


def _per_shape(x: ArrayLike, name: str, n: int, tail: tuple = ()) -> np.ndarray:
    """Validate a per-shape parameter (N, *tail) with strictly positive values."""
    arr = float_array(
        np.reshape(x, (n, *tail)) if np.size(x) == 0 else x, name, (n, *tail), min_size=0
    )
    if np.any(arr <= 0):
        raise ValueError(f"{name}: all values must be > 0 (metres), got min {arr.min()}")
    return arr


def _orientations(rotation: ArrayLike | None, name: str, n: int) -> np.ndarray:
    """Validate (N, 3, 3) world-from-local rotations; None means identity."""
    if rotation is None:
        return np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    r = np.asarray(rotation, dtype=np.float64)
    return rotation_array(r.reshape(0, 3, 3) if r.size == 0 else r, name, (n, 3, 3), min_size=0)


@dataclass(frozen=True)
class Boxes:
    """Oriented boxes: centre (N, 3) m, half-extents (N, 3) m, rotation (N, 3, 3) world-from-box.

    Exact depth inside: min_i (half_extents_i - |q_i|) for the point q in the box frame.
    """

    center: np.ndarray
    half_extents: np.ndarray
    rotation: np.ndarray | None = None

    def __post_init__(self) -> None:
        c = _centres(self.center, "Boxes.center")
        h = _per_shape(self.half_extents, "Boxes.half_extents", len(c), (3,))
        _set(
            self,
            center=c,
            half_extents=h,
            rotation=_orientations(self.rotation, "Boxes.rotation", len(c)),
        )


@dataclass(frozen=True)
class Spheres:
    """Spheres: centre (N, 3) m, radius (N,) m. Exact depth inside: radius - |p - centre|."""

    center: np.ndarray
    radius: np.ndarray

    def __post_init__(self) -> None:
        c = _centres(self.center, "Spheres.center")
        _set(self, center=c, radius=_per_shape(self.radius, "Spheres.radius", len(c)))


@dataclass(frozen=True)
class Capsules:
    """Capsules along their local z axis (MuJoCo): centre (N, 3), rotation (N, 3, 3), radius (N,),
    half_length (N,) of the cylindrical part, metres. Exact depth: radius - distance to the axis
    segment."""

    center: np.ndarray
    radius: np.ndarray
    half_length: np.ndarray
    rotation: np.ndarray | None = None

    def __post_init__(self) -> None:
        c = _centres(self.center, "Capsules.center")
        _set(
            self,
            center=c,
            radius=_per_shape(self.radius, "Capsules.radius", len(c)),
            half_length=_per_shape(self.half_length, "Capsules.half_length", len(c)),
            rotation=_orientations(self.rotation, "Capsules.rotation", len(c)),
        )


@dataclass(frozen=True)
class Cylinders:
    """Solid cylinders along their local z axis: centre (N, 3), rotation (N, 3, 3), radius (N,),
    half_length (N,), metres. Exact depth: min(radius - |q_xy|, half_length - |q_z|)."""

    center: np.ndarray
    radius: np.ndarray
    half_length: np.ndarray
    rotation: np.ndarray | None = None

    def __post_init__(self) -> None:
        c = _centres(self.center, "Cylinders.center")
        _set(
            self,
            center=c,
            radius=_per_shape(self.radius, "Cylinders.radius", len(c)),
            half_length=_per_shape(self.half_length, "Cylinders.half_length", len(c)),
            rotation=_orientations(self.rotation, "Cylinders.rotation", len(c)),
        )


@dataclass(frozen=True)
class Ellipsoids:
    """Ellipsoids: centre (N, 3), rotation (N, 3, 3), radii (N, 3), metres.

    The exact distance to an ellipsoid's surface has no closed form; the depth used is
    (1 - |q / radii|) * min(radii), a lower bound on the true depth (the ball of that radius
    around the point lies inside the ellipsoid), exact for spheres and at the centre.
    """

    center: np.ndarray
    radii: np.ndarray
    rotation: np.ndarray | None = None

    def __post_init__(self) -> None:
        c = _centres(self.center, "Ellipsoids.center")
        r = _per_shape(self.radii, "Ellipsoids.radii", len(c), (3,))
        _set(
            self,
            center=c,
            radii=r,
            rotation=_orientations(self.rotation, "Ellipsoids.rotation", len(c)),
        )


@dataclass(frozen=True)
class Planes:
    """Half-spaces: a point on the plane (N, 3) m and the outward normal (N, 3).

    The solid is the side opposite the normal, infinite as in MuJoCo collision (a plane geom's
    size only affects rendering). Exact depth: -(p - point) . normal. Normals are normalised.
    """

    point: np.ndarray
    normal: np.ndarray

    def __post_init__(self) -> None:
        p = _centres(self.point, "Planes.point")
        n = float_array(
            np.reshape(self.normal, (-1, 3)) if np.size(self.normal) == 0 else self.normal,
            "Planes.normal",
            (len(p), 3),
            min_size=0,
        )
        length = np.linalg.norm(n, axis=1)
        if np.any(length == 0):
            raise ValueError(
                f"Planes.normal: row {int(np.argmin(length))} is zero; need a direction"
            )
        _set(self, point=p, normal=n / length[:, None])


@dataclass(frozen=True)
class StaticShapes:
    """Static geometry to test points against; every family is optional."""

    boxes: Boxes | None = None
    spheres: Spheres | None = None
    capsules: Capsules | None = None
    cylinders: Cylinders | None = None
    ellipsoids: Ellipsoids | None = None
    planes: Planes | None = None

    def __post_init__(self) -> None:
        kinds = {
            "boxes": Boxes,
            "spheres": Spheres,
            "capsules": Capsules,
            "cylinders": Cylinders,
            "ellipsoids": Ellipsoids,
            "planes": Planes,
        }
        for field_name, kind in kinds.items():
            value = getattr(self, field_name)
            if value is not None and not isinstance(value, kind):
                raise TypeError(
                    f"StaticShapes.{field_name}: expected {kind.__name__} or None, "
                    f"got {type(value).__name__}"
                )


def _local(p: np.ndarray, center: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Points (P, 3) in each shape's frame: (P, N, 3) = R^T (p - c)."""
    return np.einsum("nji,pnj->pni", rotation, p[:, None, :] - center[None], optimize=True)


def _depth_chunk(p: np.ndarray, s: StaticShapes) -> np.ndarray:
    """Deepest signed inside-distance (P,) over all shapes; negative or 0 means outside."""
    best = np.full(p.shape[0], -np.inf)
    if s.boxes is not None and len(s.boxes.center):
        q = np.abs(_local(p, s.boxes.center, s.boxes.rotation))
        best = np.maximum(best, (s.boxes.half_extents[None] - q).min(axis=2).max(axis=1))
    if s.spheres is not None and len(s.spheres.center):
        dist = np.linalg.norm(p[:, None] - s.spheres.center[None], axis=2)
        best = np.maximum(best, (s.spheres.radius[None] - dist).max(axis=1))
    if s.capsules is not None and len(s.capsules.center):
        q = _local(p, s.capsules.center, s.capsules.rotation)
        along = np.clip(q[..., 2], -s.capsules.half_length[None], s.capsules.half_length[None])
        q[..., 2] -= along  # offset from the nearest point of the axis segment
        best = np.maximum(best, (s.capsules.radius[None] - np.linalg.norm(q, axis=2)).max(axis=1))
    if s.cylinders is not None and len(s.cylinders.center):
        q = _local(p, s.cylinders.center, s.cylinders.rotation)
        radial = s.cylinders.radius[None] - np.linalg.norm(q[..., :2], axis=2)
        axial = s.cylinders.half_length[None] - np.abs(q[..., 2])
        best = np.maximum(best, np.minimum(radial, axial).max(axis=1))
    if s.ellipsoids is not None and len(s.ellipsoids.center):
        q = _local(p, s.ellipsoids.center, s.ellipsoids.rotation)
        level = np.linalg.norm(q / s.ellipsoids.radii[None], axis=2)
        bound = (1.0 - level) * s.ellipsoids.radii.min(axis=1)[None]
        best = np.maximum(best, bound.max(axis=1))
    if s.planes is not None and len(s.planes.point):
        height = np.einsum("pnk,nk->pn", p[:, None] - s.planes.point[None], s.planes.normal)
        best = np.maximum(best, (-height).max(axis=1))
    return best


def penetration_depth_m(points: ArrayLike, shapes: StaticShapes) -> np.ndarray:
    """Per-point penetration depth in metres (>= 0) into the static `shapes`.

    points: (..., 3) positions in metres (joints (T, J, 3), surface samples (T, V, 3), ...).
    Returns an array of shape `points.shape[:-1]`: for each point the largest depth over all
    shapes of the distance from the point to the surface of a solid containing it, 0 for a
    point outside every solid (or on a surface). See the module docstring for exactness.
    """
    raw = np.asarray(points)
    spec = (*(None,) * max(0, raw.ndim - 1), 3)
    x = float_array(raw, "points", spec, min_size=0)
    if not isinstance(shapes, StaticShapes):
        raise TypeError(f"shapes: expected StaticShapes, got {type(shapes).__name__}")
    flat = x.reshape(-1, 3)
    n_shapes = sum(
        len(getattr(f, "center", getattr(f, "point", ())))
        for f in (
            shapes.boxes,
            shapes.spheres,
            shapes.capsules,
            shapes.cylinders,
            shapes.ellipsoids,
            shapes.planes,
        )
        if f is not None
    )
    inside = np.zeros(flat.shape[0])
    step = max(1, _CHUNK_PAIRS // max(1, n_shapes))
    for start in range(0, flat.shape[0], step):
        inside[start : start + step] = _depth_chunk(flat[start : start + step], shapes)
    return depths_m(-inside).reshape(x.shape[:-1])  # inside distance = -signed distance


def _depths(depth_m: ArrayLike) -> np.ndarray:
    """Validate a non-empty array of penetration depths (finite, >= 0)."""
    d = np.asarray(depth_m, dtype=np.float64)
    if d.size == 0:
        raise ValueError("depth_m: is empty; need at least one penetration depth")
    d = float_array(d, "depth_m", (None,) * d.ndim)
    if np.any(d < 0):
        raise ValueError(f"depth_m: penetration depths are >= 0, got min {d.min()}")
    return d


def mean_penetration_m(depth_m: ArrayLike) -> float:
    """Mean penetration depth in metres over all points (points outside count as 0)."""
    return float(_depths(depth_m).mean())


def max_penetration_m(depth_m: ArrayLike) -> float:
    """Largest penetration depth in metres over all points."""
    return float(_depths(depth_m).max())


class PrimitiveLike(Protocol):
    """What `shapes_from_primitives` reads from a primitive (scenes.types.Primitive fits)."""

    type: str
    size: tuple[float, float, float]
    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float]


def quat_to_matrix(quat: ArrayLike) -> np.ndarray:
    """Rotation matrix (3, 3) of a quaternion (w, x, y, z); normalised here, must be non-zero."""
    q = float_array(quat, "quat", (4,))
    norm = float(np.linalg.norm(q))
    if norm == 0.0:
        raise ValueError("quat: is zero; need a non-zero (w, x, y, z) quaternion")
    w, x, y, z = q / norm
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


_SIZE_ENTRIES = {"box": 3, "sphere": 1, "capsule": 2, "cylinder": 2, "ellipsoid": 3, "plane": 0}
"""How many leading entries of a primitive's MuJoCo `size` are used (and must be > 0)."""


def shapes_from_primitives(
    primitives: Iterable[PrimitiveLike], *, include_visual: bool = False
) -> StaticShapes:
    """Convert scene primitives (MuJoCo geom semantics) into `StaticShapes` arrays.

    size is read as MuJoCo does: box half-extents; sphere (radius, -, -); capsule and cylinder
    (radius, half-length, -) along local z; ellipsoid radii; plane: the solid lies below the
    local z axis through `pos` (size ignored: planes collide as infinite half-spaces). All
    conversions are exact (ellipsoid depths use the bound documented on `Ellipsoids`).
    Primitives with `collision == "none"` are visual only and skipped unless `include_visual`.
    Meshes are not handled (they need a mesh signed distance).
    """
    pos: dict[str, list[np.ndarray]] = {k: [] for k in _SIZE_ENTRIES}
    size: dict[str, list[np.ndarray]] = {k: [] for k in _SIZE_ENTRIES}
    rot: dict[str, list[np.ndarray]] = {k: [] for k in _SIZE_ENTRIES}
    for i, prim in enumerate(primitives):
        label = f"primitives[{i}] ({getattr(prim, 'name', '?')!r})"
        kind = getattr(prim, "type", None)
        if kind not in _SIZE_ENTRIES:
            raise ValueError(
                f"{label}: type {kind!r} is not supported; accepted: {list(_SIZE_ENTRIES)}"
            )
        if not include_visual and getattr(prim, "collision", "primitive") == "none":
            continue
        try:
            sz = float_array(prim.size, "size", (3,))
            pos[kind].append(float_array(prim.pos, "pos", (3,)))
            rot[kind].append(quat_to_matrix(prim.quat))
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from exc
        used = _SIZE_ENTRIES[kind]
        if np.any(sz[:used] <= 0):
            raise ValueError(
                f"{label}: size {tuple(sz)} must have its first {used} entries > 0 for a {kind}"
            )
        size[kind].append(sz)

    def arrays(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.array(pos[kind]).reshape(-1, 3),
            np.array(size[kind]).reshape(-1, 3),
            np.array(rot[kind]).reshape(-1, 3, 3),
        )

    box, sphere, capsule = arrays("box"), arrays("sphere"), arrays("capsule")
    cylinder, ellipsoid, plane = arrays("cylinder"), arrays("ellipsoid"), arrays("plane")
    return StaticShapes(
        boxes=Boxes(box[0], box[1], box[2]),
        spheres=Spheres(sphere[0], sphere[1][:, 0]),
        capsules=Capsules(capsule[0], capsule[1][:, 0], capsule[1][:, 1], capsule[2]),
        cylinders=Cylinders(cylinder[0], cylinder[1][:, 0], cylinder[1][:, 1], cylinder[2]),
        ellipsoids=Ellipsoids(ellipsoid[0], ellipsoid[1], ellipsoid[2]),
        planes=Planes(plane[0], plane[2][:, :, 2]),  # local z axis is the outward normal
    )
