"""Compiled (numba) twin of the analytic primitive tracer in navenv.render.primitives.

`JitTracer.trace` fills the same buffers as `AnalyticTracer.trace` (its numpy reference and
fallback), with the same conventions, in one compiled call per frame instead of ~200 numpy calls:

1. per geom, in the numpy tracer's kind-sorted order: the camera ray's frame in the geom (table
   rows A, B, C, LP, LO, HI, S, as in primitives.py), its box's world corners, the pixel rectangle
   they project to (near-plane clipped) and the same culling (invisible, beyond the cutoff, off
   screen);
2. per geom, a loop over its rectangle's pixels: ray / primitive test and a z-buffer update with
   `<=`, so an exact depth tie goes to the later geom in that order, as the numpy tracer's "later
   pair wins";
3. per hit pixel: the winner's hit is recomputed once for its normal (cheaper than keeping
   per-pair data for every candidate).

The arithmetic follows the numpy code's formulas and order, without fastmath (no reassociation,
no fused multiply-add). Three places round differently, so depths agree to ~1e-13 m rather than
bit for bit (tests ask 1e-9 m; ids agree exactly): numpy's BLAS matmul for the geom-to-camera
rotation; an ellipsoid's ray is scaled by its reciprocal radii (a multiply, not a division, per
pixel); a capsule or cylinder hit through its side skips the caps' tests, whose hits could only
come later. error_model="numpy": a float division by zero gives inf / NaN as in numpy instead of
raising, and NaN fails every comparison, so it reads as a miss in both tracers. This module
imports numba; navenv.render.primitives imports it on a camera's first render (`load_jit`),
never at `import navenv`.
"""

from __future__ import annotations

import math

import mujoco
import numba
import numpy as np

from navenv.render.primitives import (
    BOX,
    CAPSULE,
    CYLINDER,
    EDGES,
    N_KINDS,
    NEAR,
    PLANE,
    QUADRIC,
    ROWS,
    AnalyticTracer,
)

_OPTS = {"cache": True, "fastmath": False, "error_model": "numpy"}
_INLINE = {**_OPTS, "inline": "always"}
# first index of each 3-row block of a table row (see primitives.py)
_A, _B, _C, _LO, _HI, _LP, _S = (3 * i for i in range(7))
_INF = math.inf
_EDGE_A = np.ascontiguousarray(EDGES[:, 0])  # corner index: 4 * (x > 0) + 2 * (y > 0) + (z > 0)
_EDGE_B = np.ascontiguousarray(EDGES[:, 1])


# ---------------------------------------------------------------- ray / primitive intersection
# Each _hit_* takes one geom's per-frame constants and a ray (vx, vy, vz) in the geom frame and
# returns the ray parameter of the nearest hit at or after the camera (planar depth), or inf.
# Scalars, not table rows, so a geom's constants stay in registers across its pixel loop.


@numba.njit(**_INLINE)
def _fmin(a: float, b: float) -> float:
    """numpy.fmin: the smaller, ignoring one NaN."""
    return a if (a <= b or b != b) else b


@numba.njit(**_INLINE)
def _fmax(a: float, b: float) -> float:
    """numpy.fmax: the larger, ignoring one NaN."""
    return a if (a >= b or b != b) else b


@numba.njit(**_INLINE)
def _sign(x: float) -> float:
    """numpy.sign: -1, 0 or 1 (NaN stays NaN)."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x


@numba.njit(**_INLINE)
def _roots(a: float, b: float, c: float) -> tuple[float, float]:
    """Roots of a t^2 + 2 b t + c = 0, smaller first (for a > 0); NaN where there are none."""
    disc = b * b - a * c
    if not disc >= 0.0:
        return np.nan, np.nan
    sq = math.sqrt(disc)
    return (-b - sq) / a, (-b + sq) / a


@numba.njit(**_INLINE)
def _keep(best: float, t: float, ok: bool) -> float:
    """min(best, t) where `ok` and t >= 0."""
    return t if (ok and t >= 0.0 and t < best) else best


@numba.njit(**_INLINE)
def _hit_plane(l0, l1, l2, s0, s1, vx, vy, vz) -> float:
    """Front face only; a size of 0 is infinite along its axis."""
    if not vz < -1e-15:
        return _INF
    t = -l2 / vz
    if not t >= 0.0:
        return _INF
    if not (s0 <= 0.0 or abs(l0 + t * vx) <= s0):
        return _INF
    if not (s1 <= 0.0 or abs(l1 + t * vy) <= s1):
        return _INF
    return t


@numba.njit(**_INLINE)
def _slab(lo_plane: float, hi_plane: float, v: float) -> tuple[float, float]:
    """Entry and exit ray parameters of one slab (NaN-tolerant, as numpy's fmin / fmax)."""
    inv = 1.0 / v
    a, b = lo_plane * inv, hi_plane * inv
    return _fmin(a, b), _fmax(a, b)


@numba.njit(**_INLINE)
def _hit_box(lo0, lo1, lo2, hi0, hi1, hi2, vx, vy, vz) -> tuple[float, int, bool]:
    """Slab test, planes relative to the camera: (t, hit face's axis, camera inside: exit hit)."""
    near, far = _slab(lo0, hi0, vx)
    k_near = k_far = 0
    lo, hi = _slab(lo1, hi1, vy)
    if lo > near:
        k_near = 1
    if hi < far:
        k_far = 1
    near, far = _fmax(near, lo), _fmin(far, hi)
    lo, hi = _slab(lo2, hi2, vz)
    if lo > near:
        k_near = 2
    if hi < far:
        k_far = 2
    near, far = _fmax(near, lo), _fmin(far, hi)
    inside = near < 0.0
    t, k = (far, k_far) if inside else (near, k_near)
    if near <= far and far >= 0.0:
        return t, k, inside
    return _INF, k, inside


@numba.njit(**_INLINE)
def _hit_quadric(u0, u1, u2, c, w0, w1, w2) -> float:
    """Unit sphere in the ellipsoid's scaled frame: camera u = lp / s, ray w = v / s, c = |u|^2-1."""
    a = w0 * w0 + w1 * w1 + w2 * w2
    b = u0 * w0 + u1 * w1 + u2 * w2
    t0, t1 = _roots(a, b, c)
    t = t0 if t0 >= 0.0 else t1
    return t if t >= 0.0 else _INF


@numba.njit(**_INLINE)
def _hit_axial(l0, l1, l2, r2, h, vx, vy, vz, capsule) -> float:
    """Capsules (hemispherical caps) and cylinders (flat caps) of radius^2 r2, half-length h."""
    a = vx * vx + vy * vy
    b = l0 * vx + l1 * vy
    c = l0 * l0 + l1 * l1
    t0, t1 = _roots(a, b, c - r2)  # round side, between the caps
    if t0 >= 0.0 and abs(l2 + t0 * vz) <= h:
        # the entry into the infinite cylinder lies on the surface: no cap point (inside that
        # cylinder, so at t0 or later) can be nearer, which spares the caps' square roots
        return t0
    best = _keep(_INF, t1, abs(l2 + t1 * vz) <= h)
    for sign in (1.0, -1.0):
        if capsule:
            dz = l2 - sign * h
            s0, s1 = _roots(a + vz * vz, b + dz * vz, c + dz * dz - r2)
            best = _keep(best, s0, sign * (l2 + s0 * vz) >= h)
            best = _keep(best, s1, sign * (l2 + s1 * vz) >= h)
        else:
            t = (sign * h - l2) / vz
            x, y = l0 + t * vx, l1 + t * vy
            best = _keep(best, t, x * x + y * y <= r2)
    return best


@numba.njit(**_INLINE)
def _camera_normal(
    kind: int, r: np.ndarray, vx: float, vy: float, vz: float, t: float
) -> tuple[float, float, float]:
    """Unit camera-frame normal at the hit `t` of ray v (geom frame); rows of Rg are A, B, -C."""
    if kind == PLANE:  # the plane's z axis
        return r[_A + 2], r[_B + 2], -r[_C + 2]
    if kind == BOX:  # +-Rg[:, k] for face axis k, facing against the ray on entry
        lo0, lo1, lo2, hi0, hi1, hi2 = (
            r[_LO],
            r[_LO + 1],
            r[_LO + 2],
            r[_HI],
            r[_HI + 1],
            r[_HI + 2],
        )
        _, k, inside = _hit_box(lo0, lo1, lo2, hi0, hi1, hi2, vx, vy, vz)
        sign = _sign(vx if k == 0 else (vy if k == 1 else vz))
        if not inside:
            sign *= -1.0
        return sign * r[_A + k], sign * r[_B + k], -sign * r[_C + k]
    q0, q1, q2 = r[_LP] + t * vx, r[_LP + 1] + t * vy, r[_LP + 2] + t * vz
    s0, s1, s2 = r[_S], r[_S + 1], r[_S + 2]
    if kind == QUADRIC:
        n0, n1, n2 = q0 / (s0 * s0), q1 / (s1 * s1), q2 / (s2 * s2)
    elif kind == CAPSULE:  # away from the nearest point of the axis segment
        n0, n1, n2 = q0, q1, q2 - min(max(q2, -s1), s1)
    elif math.hypot(q0, q1) * s1 > abs(q2) * s0:  # cylinder, relatively nearer its side
        n0, n1, n2 = q0, q1, 0.0
    else:
        n0, n1, n2 = 0.0, 0.0, _sign(q2)
    o0 = r[_A] * n0 + r[_A + 1] * n1 + r[_A + 2] * n2
    o1 = r[_B] * n0 + r[_B + 1] * n1 + r[_B + 2] * n2
    o2 = -(r[_C] * n0 + r[_C + 1] * n1 + r[_C + 2] * n2)
    norm = math.sqrt(o0 * o0 + o1 * o1 + o2 * o2)
    return o0 / norm, o1 / norm, o2 / norm


@numba.njit(**_OPTS)
def _scan(
    kind: int,
    r: np.ndarray,
    i: int,
    rect: tuple[int, int, int, int],
    width: int,
    ray_x: np.ndarray,
    ray_y: np.ndarray,
    zbuf: np.ndarray,
    win: np.ndarray,
) -> None:
    """Z-buffer geom i (table row r) over its pixel rectangle (x0, x1, y0, y1), inclusive.

    The row is read into locals first: stores into zbuf might alias it as far as the compiler
    knows, so reading r[...] per pixel would reload it every time.
    """
    x0, x1, y0, y1 = rect
    a0, a1, a2, b0, b1, b2, c0, c1, c2 = r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]
    l0, l1, l2 = r[_LP], r[_LP + 1], r[_LP + 2]
    lo0, lo1, lo2, hi0, hi1, hi2 = r[_LO], r[_LO + 1], r[_LO + 2], r[_HI], r[_HI + 1], r[_HI + 2]
    s0, s1, s2 = r[_S], r[_S + 1], r[_S + 2]
    # per-geom constants: ellipsoid's scaled frame, cylinder radius^2 (inf / NaN for other kinds)
    is0, is1, is2 = 1.0 / s0, 1.0 / s1, 1.0 / s2
    u0, u1, u2 = l0 / s0, l1 / s1, l2 / s2
    cq = u0 * u0 + u1 * u1 + u2 * u2 - 1.0
    r2 = s0 * s0
    capsule = kind == CAPSULE
    for row in range(y0, y1 + 1):
        for p in range(row * width + x0, row * width + x1 + 1):
            px, py = ray_x[p], ray_y[p]
            vx = px * a0 + py * b0 + c0
            vy = px * a1 + py * b1 + c1
            vz = px * a2 + py * b2 + c2
            if kind == PLANE:
                t = _hit_plane(l0, l1, l2, s0, s1, vx, vy, vz)
            elif kind == BOX:
                t = _hit_box(lo0, lo1, lo2, hi0, hi1, hi2, vx, vy, vz)[0]
            elif kind == QUADRIC:
                t = _hit_quadric(u0, u1, u2, cq, vx * is0, vy * is1, vz * is2)
            else:
                t = _hit_axial(l0, l1, l2, r2, s1, vx, vy, vz, capsule)
            if t <= zbuf[p]:  # ties: the later geom, as the numpy tracer
                zbuf[p] = t
                win[p] = i


# ---------------------------------------------------------------- per-geom frames and rectangles


@numba.njit(**_OPTS)
def _fill_row(r: np.ndarray, xpos: np.ndarray, xmat: np.ndarray, pose: np.ndarray) -> None:
    """Table row of one geom (size rows S already set): the camera ray's frame in the geom."""
    for b in range(3):  # Rg = cam_mat^T geom_mat, geom-to-camera; rows of Rg: A, B, -C
        r[_A + b] = pose[3] * xmat[b] + pose[6] * xmat[3 + b] + pose[9] * xmat[6 + b]
        r[_B + b] = pose[4] * xmat[b] + pose[7] * xmat[3 + b] + pose[10] * xmat[6 + b]
        r[_C + b] = -(pose[5] * xmat[b] + pose[8] * xmat[3 + b] + pose[11] * xmat[6 + b])
    rel0, rel1, rel2 = xpos[0] - pose[0], xpos[1] - pose[1], xpos[2] - pose[2]
    for i in range(3):  # camera position in the geom frame: Rg_world^T (pos - xpos)
        r[_LP + i] = xmat[i] * -rel0 + xmat[3 + i] * -rel1 + xmat[6 + i] * -rel2
        r[_LO + i] = -r[_S + i] - r[_LP + i]
        r[_HI + i] = r[_S + i] - r[_LP + i]


@numba.njit(**_OPTS)
def _camera_corners(
    xpos: np.ndarray, xmat: np.ndarray, aabb: np.ndarray, pose: np.ndarray, q: np.ndarray
) -> None:
    """q (3, 8): camera-frame corners of a geom's bounding box (`aabb`: centre, half-size)."""
    for k in range(8):
        sx = aabb[3] if k & 4 else -aabb[3]
        sy = aabb[4] if k & 2 else -aabb[4]
        sz = aabb[5] if k & 1 else -aabb[5]
        d0 = d1 = d2 = 0.0
        for i in range(3):  # world corner, relative to the camera
            rel = (
                xpos[i]
                + xmat[3 * i] * (aabb[0] + sx)
                + xmat[3 * i + 1] * (aabb[1] + sy)
                + xmat[3 * i + 2] * (aabb[2] + sz)
                - pose[i]
            )
            d0 += pose[3 + 3 * i] * rel  # camera frame: cam_mat^T rel
            d1 += pose[4 + 3 * i] * rel
            d2 += pose[5 + 3 * i] * rel
        q[0, k], q[1, k], q[2, k] = d0, d1, d2


@numba.njit(**_INLINE)
def _extend(
    bounds: np.ndarray, x: float, y: float, z: float, width: int, height: int, f: float
) -> None:
    """Grow float pixel-centre bounds (col min, col max, row min, row max) by one point."""
    depth = max(-z, NEAR)
    col = f * x / depth + (0.5 * width - 0.5)
    row = (0.5 * height - 0.5) - f * y / depth
    bounds[0] = min(bounds[0], col)
    bounds[1] = max(bounds[1], col)
    bounds[2] = min(bounds[2], row)
    bounds[3] = max(bounds[3], row)


@numba.njit(**_OPTS)
def _rect(
    q: np.ndarray, width: int, height: int, f: float, bounds: np.ndarray
) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1): inclusive pixel ranges of the box with camera-frame corners q (3, 8)
    whose rays can hit it, as primitives.Projector.rects; x0 > x1 when no pixel can."""
    bounds[0] = bounds[2] = _INF
    bounds[1] = bounds[3] = -_INF
    n_front = 0
    for k in range(8):
        if -q[2, k] > NEAR:
            n_front += 1
            _extend(bounds, q[0, k], q[1, k], q[2, k], width, height, f)
    if n_front == 0:
        return 0, -1, 0, -1
    if n_front < 8:  # clipped to the near plane: the edges' crossings are vertices too
        for e in range(_EDGE_A.size):
            a, b = _EDGE_A[e], _EDGE_B[e]
            za, zb = -q[2, a] - NEAR, -q[2, b] - NEAR
            if za * zb < 0.0:
                alpha = za / (za - zb)
                _extend(
                    bounds,
                    q[0, a] + alpha * (q[0, b] - q[0, a]),
                    q[1, a] + alpha * (q[1, b] - q[1, a]),
                    q[2, a] + alpha * (q[2, b] - q[2, a]),
                    width,
                    height,
                    f,
                )
    x0, x1 = np.ceil(bounds[0] - 1e-6), np.floor(bounds[1] + 1e-6)
    y0, y1 = np.ceil(bounds[2] - 1e-6), np.floor(bounds[3] + 1e-6)
    # clipped as floats: far off-screen bounds of a huge plane need not fit an int
    x0, x1 = max(x0, 0.0), min(x1, width - 1.0)
    y0, y1 = max(y0, 0.0), min(y1, height - 1.0)
    if not (x0 <= x1 and y0 <= y1):  # off screen, between pixel centres, or NaN
        return 0, -1, 0, -1
    return int(x0), int(x1), int(y0), int(y1)


# ---------------------------------------------------------------- the frame


@numba.njit(**_OPTS)
def _trace_kernel(
    geom_xpos: np.ndarray,  # (ngeom, 3) world
    geom_xmat: np.ndarray,  # (ngeom, 9) geom-to-world, row-major
    gid: np.ndarray,  # (G,) int64 geom ids, kind-sorted
    kinds: np.ndarray,  # (G,) int64 tracer kind per geom
    aabb: np.ndarray,  # (G, 6) box to project (geom frame): centre, half-size
    rbound: np.ndarray,  # (G,) bounding-sphere radius (m)
    visible: np.ndarray,  # (ngeom,) bool
    pose: np.ndarray,  # (12,) camera position, then camera-to-world rotation row-major
    width: int,
    height: int,
    focal_px: float,
    ray_x: np.ndarray,  # (N,) camera-frame ray directions (x, y, -1)
    ray_y: np.ndarray,
    cutoff: float,  # ray distance (m)
    planar_cutoff: np.ndarray,  # (N,) the cutoff as planar depth
    tab: np.ndarray,  # (G, ROWS) table, size rows set; the rest is filled here
    zbuf: np.ndarray,  # (N,) scratch
    win: np.ndarray,  # (N,) int64 scratch
    out_gid: np.ndarray,  # (N,) int32
    out_t: np.ndarray,  # (N,) float64 planar depth
    out_n: np.ndarray,  # (3, N) float32 camera-frame normals
) -> None:
    """Nearest visible primitive per pixel: `AnalyticTracer.trace` compiled (see the module)."""
    out_gid[:] = -1
    zbuf[:] = _INF
    q = np.empty((3, 8))
    bounds = np.empty(4)
    for i in range(gid.size):
        g = gid[i]
        if not visible[g]:
            continue
        r = tab[i]
        _fill_row(r, geom_xpos[g], geom_xmat[g], pose)
        if kinds[i] == PLANE:  # the camera must be above a plane, within the cutoff
            if r[_LP + 2] < 0.0 or r[_LP + 2] > cutoff:
                continue
        else:
            d0 = geom_xpos[g, 0] - pose[0]
            d1 = geom_xpos[g, 1] - pose[1]
            d2 = geom_xpos[g, 2] - pose[2]
            if math.sqrt(d0 * d0 + d1 * d1 + d2 * d2) > cutoff + rbound[i]:
                continue
        _camera_corners(geom_xpos[g], geom_xmat[g], aabb[i], pose, q)
        rect = _rect(q, width, height, focal_px, bounds)
        _scan(kinds[i], r, i, rect, width, ray_x, ray_y, zbuf, win)
    for p in range(zbuf.size):
        t = zbuf[p]
        if not t <= planar_cutoff[p]:
            continue
        i = win[p]
        r = tab[i]
        px, py = ray_x[p], ray_y[p]
        vx = px * r[_A] + py * r[_B] + r[_C]
        vy = px * r[_A + 1] + py * r[_B + 1] + r[_C + 1]
        vz = px * r[_A + 2] + py * r[_B + 2] + r[_C + 2]
        out_n[0, p], out_n[1, p], out_n[2, p] = _camera_normal(kinds[i], r, vx, vy, vz, t)
        out_gid[p] = gid[i]
        out_t[p] = t


class JitTracer:
    """`AnalyticTracer`'s compiled twin: built from one, with the same `trace` signature."""

    def __init__(self, ref: AnalyticTracer) -> None:
        self.gid = ref.gid.astype(np.int64)
        self.kinds = np.repeat(np.arange(N_KINDS, dtype=np.int64), np.diff(ref.kind_start))
        self.aabb = np.ascontiguousarray(ref.aabb, dtype=np.float64)
        self.rbound = np.ascontiguousarray(ref.rbound, dtype=np.float64)
        self.width, self.height, self.focal_px = int(ref.proj.w), int(ref.proj.h), ref.proj.f
        self.x = np.ascontiguousarray(ref.x, dtype=np.float64)
        self.y = np.ascontiguousarray(ref.y, dtype=np.float64)
        self.table = np.zeros((self.gid.size, ROWS))
        self.table[:, _S : _S + 3] = ref.table[_S : _S + 3].T
        self.zbuf = np.empty(self.x.size)
        self.win = np.zeros(self.x.size, np.int64)
        self.pose = np.empty(12)  # one writable float64 array: one compiled signature

    def trace(
        self,
        data: mujoco.MjData,
        pos: np.ndarray,
        mat: np.ndarray,
        visible: np.ndarray,
        cutoff: float,
        planar_cutoff: np.ndarray,
        out_gid: np.ndarray,
        out_t: np.ndarray,
        out_n: np.ndarray,
    ) -> None:
        """Fill out_gid (-1 on a miss), out_t (planar depth) and out_n (camera-frame normals)."""
        self.pose[:3] = pos
        self.pose[3:] = mat.reshape(9)
        _trace_kernel(
            data.geom_xpos, data.geom_xmat, self.gid, self.kinds, self.aabb, self.rbound,
            visible, self.pose, self.width, self.height, self.focal_px, self.x, self.y,
            float(cutoff), planar_cutoff, self.table, self.zbuf, self.win, out_gid, out_t, out_n,
        )  # fmt: skip


def warm_up() -> None:
    """Compile (or load from cache) and run the kernel on a known 1-pixel scene; raise if wrong.

    Along the optical axis of a camera at the origin looking down world -z: a sphere (r 0.5,
    centre 2 m away, so planar depth 1.5 m, normal +z) in front of a box, capsule, cylinder and a
    floor plane, which exercise every other kind's code.
    """
    kinds = np.array([PLANE, BOX, QUADRIC, CAPSULE, CYLINDER], np.int64)
    centre_z = np.array([-10.0, -4.0, -2.0, -6.0, -8.0])
    xpos = np.zeros((5, 3))
    xpos[:, 2] = centre_z
    xmat = np.tile(np.eye(3).reshape(1, 9), (5, 1))
    size = np.array(
        [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5], [0.3, 0.5, 0], [0.3, 0.5, 0]]
    )
    aabb = np.hstack([np.zeros((5, 3)), np.full((5, 3), 1.0)])
    aabb[0, 3:] = [1e6, 1e6, 0.0]  # an infinite plane's box, as AnalyticTracer makes it
    table = np.zeros((5, ROWS))
    table[:, _S : _S + 3] = size
    pose = np.concatenate([np.zeros(3), np.eye(3).reshape(9)])
    one = np.zeros(1)
    gid, t, n = np.zeros(1, np.int32), np.zeros(1), np.zeros((3, 1), np.float32)
    _trace_kernel(
        xpos, xmat, np.arange(5, dtype=np.int64), kinds, aabb, np.full(5, 1.5), np.ones(5, bool),
        pose, 1, 1, 1.0, one, one, 30.0, np.full(1, 30.0), table, np.empty(1),
        np.zeros(1, np.int64), gid, t, n,
    )  # fmt: skip
    if gid[0] != 2 or abs(t[0] - 1.5) > 1e-12 or abs(n[2, 0] - 1.0) > 1e-6:
        raise RuntimeError(f"warm-up frame wrong: geom {gid[0]}, depth {t[0]}, normal {n[:, 0]}")
