"""Analytic ray / primitive intersection for the CPU ray-cast camera (navenv.render.raycast).

Planes, boxes, spheres, ellipsoids, capsules and cylinders, vectorised per geom kind: each geom's
bounding box is projected to a pixel rectangle and only the (pixel, geom) pairs inside it are
intersected, following MuJoCo's own ray functions; a z-buffer keeps the nearest hit.
"""

from __future__ import annotations

import mujoco
import numpy as np

_G = mujoco.mjtGeom
PLANE, BOX, QUADRIC, CAPSULE, CYLINDER = range(5)
N_KINDS = 5
KIND = {
    int(_G.mjGEOM_PLANE): PLANE,
    int(_G.mjGEOM_BOX): BOX,
    int(_G.mjGEOM_SPHERE): QUADRIC,
    int(_G.mjGEOM_ELLIPSOID): QUADRIC,
    int(_G.mjGEOM_CAPSULE): CAPSULE,
    int(_G.mjGEOM_CYLINDER): CYLINDER,
}
# mj_multiRay's cutoff drops geoms by centre distance, which would drop a large floor plane whose
# centre is far away although its surface is near; the cutoff is applied to hit distances instead.
MJ_NO_CUTOFF = 1e30
NEAR = 1e-6  # metres: boxes are clipped to this near plane before projection
_CORNERS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
EDGES = np.array([(a, a | bit) for a in range(8) for bit in (1, 2, 4) if not a & bit])  # (12, 2)


# ---------------------------------------------------------------- ray / primitive intersection
# Per-geom rows of the tracer's table (one column per geom), filled each frame: a camera ray
# (x, y, -1) in a geom's frame is v = x*A + y*B + C; the camera position there is LP; S is the
# size; LO = -S - LP and HI = S - LP are a box's slab planes relative to the camera.
_A, _B, _C, _LO, _HI, _LP, _S = (slice(3 * i, 3 * i + 3) for i in range(7))
ROWS = 21
# Each _hit_* takes its kind's table columns `tk` (rows above, one column per (pixel, geom) pair)
# and the ray directions `v` in the geom frame, and returns the ray parameter of the nearest hit
# at or after the camera in units of |v| (planar depth here), or inf, plus kind-specific data for
# the normal. Semantics follow MuJoCo's ray_* functions (front face of planes only; from inside a
# solid its exit is hit). NaN from 0/0 or 0*inf never passes a comparison, so it reads as a miss.


def _roots(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Roots of a t^2 + 2 b t + c = 0, smaller first (for a > 0); NaN where there are none."""
    disc = b * b - a * c
    disc[disc < 0.0] = np.nan
    sq = np.sqrt(disc)
    return (-b - sq) / a, (-b + sq) / a


def _keep(best: np.ndarray, t: np.ndarray, ok: np.ndarray) -> None:
    """best = min(best, t) where `ok` and t >= 0."""
    np.minimum(best, np.where(ok & (t >= 0.0), t, np.inf), out=best)


def _hit_plane(tk: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, None]:
    l, s = tk[_LP], tk[_S]
    t = -l[2] / v[2]
    ok = (v[2] < -1e-15) & (t >= 0.0)
    ok &= (s[0] <= 0.0) | (np.abs(l[0] + t * v[0]) <= s[0])  # size 0: infinite
    ok &= (s[1] <= 0.0) | (np.abs(l[1] + t * v[1]) <= s[1])
    return np.where(ok, t, np.inf), None


def _hit_box(tk: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slab test; the extra result is the hit face's axis and whether it is the exit face."""
    lo_planes, hi_planes = tk[_LO], tk[_HI]
    near = far = np.empty(0)
    k_near = np.zeros(v[0].shape, np.intp)
    k_far = np.zeros(v[0].shape, np.intp)
    for i in range(3):
        inv = 1.0 / v[i]
        a, b = lo_planes[i] * inv, hi_planes[i] * inv
        lo, hi = np.fmin(a, b), np.fmax(a, b)  # fmin/fmax skip the NaN of a ray in a face plane
        if i == 0:
            near, far = lo, hi
            continue
        k_near[lo > near] = i
        k_far[hi < far] = i
        np.fmax(near, lo, out=near)
        np.fmin(far, hi, out=far)
    inside = near < 0.0
    t = np.where(inside, far, near)
    k_near[inside] = k_far[inside]
    return np.where((near <= far) & (far >= 0.0), t, np.inf), (k_near, inside)


def _hit_quadric(tk: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, None]:
    l, s = tk[_LP], tk[_S]
    u = [l[i] / s[i] for i in range(3)]
    w = [v[i] / s[i] for i in range(3)]
    a = w[0] * w[0] + w[1] * w[1] + w[2] * w[2]
    b = u[0] * w[0] + u[1] * w[1] + u[2] * w[2]
    c = u[0] * u[0] + u[1] * u[1] + u[2] * u[2] - 1.0
    t0, t1 = _roots(a, b, c)
    t = np.where(t0 >= 0.0, t0, t1)
    return np.where(t >= 0.0, t, np.inf), None


def _hit_axial(tk: np.ndarray, v: np.ndarray, capsule: bool) -> np.ndarray:
    l, s = tk[_LP], tk[_S]
    r2, h = s[0] * s[0], s[1]
    a = v[0] * v[0] + v[1] * v[1]
    b = l[0] * v[0] + l[1] * v[1]
    c = l[0] * l[0] + l[1] * l[1]
    best = np.full(a.shape, np.inf)
    for t in _roots(a, b, c - r2):  # round side, between the caps
        _keep(best, t, np.abs(l[2] + t * v[2]) <= h)
    if capsule:  # hemispherical caps
        a3 = a + v[2] * v[2]
        for sign in (1.0, -1.0):
            dz = l[2] - sign * h
            for t in _roots(a3, b + dz * v[2], c + dz * dz - r2):
                _keep(best, t, sign * (l[2] + t * v[2]) >= h)
    else:  # flat caps
        for sign in (1.0, -1.0):
            t = (sign * h - l[2]) / v[2]
            x, y = l[0] + t * v[0], l[1] + t * v[1]
            _keep(best, t, x * x + y * y <= r2)
    return best


_HIT = {
    PLANE: _hit_plane,
    BOX: _hit_box,
    QUADRIC: _hit_quadric,
    CAPSULE: lambda tk, v: (_hit_axial(tk, v, capsule=True), None),
    CYLINDER: lambda tk, v: (_hit_axial(tk, v, capsule=False), None),
}


def _local_normal(kind: int, q: np.ndarray, s: np.ndarray) -> list[np.ndarray]:
    """Outward normals (unnormalised, geom frame) at local hit points q of curved geoms."""
    if kind == QUADRIC:
        return [q[i] / (s[i] * s[i]) for i in range(3)]
    if kind == CAPSULE:  # away from the nearest point of the axis segment
        return [q[0], q[1], q[2] - np.clip(q[2], -s[1], s[1])]
    side = np.hypot(q[0], q[1]) * s[1] > np.abs(q[2]) * s[0]  # cylinder: relatively nearer side
    return [
        np.where(side, q[0], 0.0),
        np.where(side, q[1], 0.0),
        np.where(side, 0.0, np.sign(q[2])),
    ]


def _camera_normals(
    kind: int, tk: np.ndarray, v: np.ndarray, j: np.ndarray, t: np.ndarray, aux: tuple | None
) -> np.ndarray:
    """(3, n) unit camera-frame normals at the winning pairs `j` (hit at `t`) of one kind.

    `tk`, `v`, `aux`: the kind's table columns, geom-frame rays and hit data, for all its pairs.
    """
    if kind == PLANE:  # the plane's z axis, Rg[:, 2]; rows of Rg are A, B, -C
        return np.stack([tk[2, j], tk[5, j], -tk[8, j]])
    if kind == BOX:  # +-Rg[:, k] for face axis k, facing against the ray on entry
        assert aux is not None
        n = tk.shape[1]
        flat = aux[0][j] * n + j  # index of (axis k, pair j) in a flattened (3, n) row block
        sign = np.sign(v.ravel()[flat])
        sign[~aux[1][j]] *= -1.0
        rows = tk.ravel()
        return np.stack([sign * rows[flat], sign * rows[flat + 3 * n], -sign * rows[flat + 6 * n]])
    tk, v = tk[:, j], v[:, j]
    q = tk[_LP] + t * v
    n = _local_normal(kind, q, tk[_S])
    out = np.stack(
        [tk[3 * i] * n[0] + tk[3 * i + 1] * n[1] + tk[3 * i + 2] * n[2] for i in range(3)]
    )
    out[2] *= -1.0
    out /= np.sqrt(out[0] * out[0] + out[1] * out[1] + out[2] * out[2])
    return out


def geom_visible(model: mujoco.MjModel) -> np.ndarray:
    """(ngeom,) bool: alpha > 0, of the material where the geom has one (as mj_ray decides)."""
    alpha = model.geom_rgba[:, 3].copy()
    if model.nmat:
        has_mat = model.geom_matid >= 0
        alpha[has_mat] = model.mat_rgba[model.geom_matid[has_mat], 3]
    return alpha > 0.0


def box_corners(xpos: np.ndarray, xmat: np.ndarray, aabb: np.ndarray) -> np.ndarray:
    """(3, 8, G) world corners of boxes given in geom frames (`aabb`: centre, half-size)."""
    xmat = xmat.reshape(-1, 3, 3)
    centre = xpos + np.einsum("gij,gj->gi", xmat, aabb[:, :3])
    axes = (xmat * aabb[:, None, 3:]).transpose(1, 2, 0)  # (3, 3, G) [i, j]: half-axis j
    return centre.T[:, None, :] + np.tensordot(_CORNERS, axes, axes=([1], [1])).transpose(1, 0, 2)


class Projector:
    """Pixel rectangles covered by boxes, for one camera's intrinsics."""

    def __init__(self, width: int, height: int, focal_px: float) -> None:
        self.w, self.h, self.f = width, height, focal_px

    def rects(
        self, corners: np.ndarray, pos: np.ndarray, mat: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x0, x1, y0, y1, empty): inclusive pixel ranges holding every pixel centre whose ray
        can hit one of the boxes with (3, 8, G) world `corners`, for camera `pos`, `mat`."""
        g = corners.shape[2]
        q = (mat.T @ (corners.reshape(3, -1) - pos[:, None])).reshape(3, 8, g)  # camera frame
        front = -q[2] > NEAR
        n_front = front.sum(axis=0)
        x0, x1, y0, y1 = self._bounds(q, front)
        # A box crossing the near plane: clipped to it the box stays convex, with the corners in
        # front and the points where edges cross the plane as vertices; bound their projections.
        cut = np.flatnonzero((n_front > 0) & (n_front < 8))
        if cut.size:
            qc = q[:, :, cut]
            z = -qc[2] - NEAR
            za, zb = z[EDGES[:, 0]], z[EDGES[:, 1]]
            cross = za * zb < 0.0
            alpha = np.where(cross, za / np.where(cross, za - zb, 1.0), 0.0)
            qa, qb = qc[:, EDGES[:, 0]], qc[:, EDGES[:, 1]]
            pts = np.concatenate([qc, qa + alpha * (qb - qa)], axis=1)
            ok = np.concatenate([front[:, cut], cross], axis=0)
            x0[cut], x1[cut], y0[cut], y1[cut] = self._bounds(pts, ok)
        empty = (n_front == 0) | (x0 > self.w - 1) | (x1 < 0) | (y0 > self.h - 1) | (y1 < 0)
        x0 = np.clip(x0, 0, self.w - 1).astype(np.int64)
        x1 = np.clip(x1, 0, self.w - 1).astype(np.int64)
        y0 = np.clip(y0, 0, self.h - 1).astype(np.int64)
        y1 = np.clip(y1, 0, self.h - 1).astype(np.int64)
        return x0, x1, y0, y1, empty | (x0 > x1) | (y0 > y1)

    def _bounds(self, q: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, ...]:
        """Float pixel-centre index bounds of the projections of the `ok` points (3, K, G)."""
        depth = np.where(ok, np.maximum(-q[2], NEAR), 1.0)
        col = self.f * q[0] / depth + (0.5 * self.w - 0.5)
        row = (0.5 * self.h - 0.5) - self.f * q[1] / depth
        return (
            np.ceil(np.where(ok, col, np.inf).min(axis=0) - 1e-6),
            np.floor(np.where(ok, col, -np.inf).max(axis=0) + 1e-6),
            np.ceil(np.where(ok, row, np.inf).min(axis=0) - 1e-6),
            np.floor(np.where(ok, row, -np.inf).max(axis=0) + 1e-6),
        )


class AnalyticTracer:
    """Nearest hits among a fixed set of primitive geoms, for every pixel of one camera."""

    def __init__(
        self,
        model: mujoco.MjModel,
        geom_ids: np.ndarray,
        projector: Projector,
        ray_x: np.ndarray,
        ray_y: np.ndarray,
    ) -> None:
        kind = np.array([KIND[int(t)] for t in model.geom_type[geom_ids]], dtype=np.int64)
        order = np.argsort(kind, kind="stable")  # pairs come out grouped by kind
        self.gid = geom_ids[order]
        self.kind_start = np.searchsorted(kind[order], np.arange(N_KINDS + 1))
        self.is_plane = kind[order] == PLANE
        size = model.geom_size[self.gid].copy()
        sphere = model.geom_type[self.gid] == _G.mjGEOM_SPHERE
        size[sphere] = size[sphere, :1]  # a sphere is an ellipsoid with equal radii
        size[self.is_plane, 2] = 0.0
        self.aabb = model.geom_aabb[self.gid].copy()
        # a plane's box is flat, 1,000 km on an infinite side; near-plane clipping bounds it
        half = size[self.is_plane, :2]
        self.aabb[self.is_plane, :3] = 0.0
        self.aabb[self.is_plane, 3:5] = np.where(half > 0.0, half, 1e6)
        self.aabb[self.is_plane, 5] = 0.0
        self.rbound = model.geom_rbound[self.gid]
        self.proj = projector
        self.x, self.y = ray_x, ray_y
        self.zbuf = np.empty(ray_x.shape[0])
        self.win = np.zeros(ray_x.shape[0], np.int64)
        self.table = np.empty((ROWS, self.gid.size))
        self.table[_S] = size.T
        # World corners of each geom's box: static geoms' are recomputed only if they moved.
        self.corners = np.zeros((3, 8, self.gid.size))
        self.static = np.flatnonzero(model.body_weldid[model.geom_bodyid[self.gid]] == 0)
        self.moving = np.flatnonzero(model.body_weldid[model.geom_bodyid[self.gid]] != 0)
        self._static_pose = np.full((self.static.size, 12), np.nan)

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
        """Fill out_gid (-1 on a miss), out_t (planar depth) and out_n (camera-frame normals).

        `cutoff`: ray distance limit (m); `planar_cutoff`: (N,) the same limit as planar depth.
        """
        out_gid.fill(-1)
        if self.gid.size == 0:
            return
        xpos, xmat = data.geom_xpos[self.gid], data.geom_xmat[self.gid]
        self._update_corners(xpos, xmat)
        rel = xpos - pos
        rg = np.matmul(mat.T, xmat.reshape(-1, 3, 3))  # geom-to-camera rotations
        tab = self.table
        tab[_A] = rg[:, 0, :].T  # Rg^T (x, y, -1), with Rg's rows
        tab[_B] = rg[:, 1, :].T
        tab[_C] = -rg[:, 2, :].T
        tab[_LP] = np.einsum("gji,gj->ig", xmat.reshape(-1, 3, 3), -rel)
        np.subtract(-tab[_S], tab[_LP], out=tab[_LO])
        np.subtract(tab[_S], tab[_LP], out=tab[_HI])

        x0, x1, y0, y1, empty = self.proj.rects(self.corners, pos, mat)
        height = tab[_LP][2]  # camera height above each plane (its local z)
        far = np.where(
            self.is_plane,
            (height < 0.0) | (height > cutoff),
            np.linalg.norm(rel, axis=1) > cutoff + self.rbound,
        )
        sel = np.flatnonzero(~(empty | far) & visible[self.gid])
        if sel.size == 0:
            return

        # (pixel, geom) pairs, built one rectangle row (a run of consecutive pixels) at a time
        w, h = x1[sel] - x0[sel] + 1, y1[sel] - y0[sel] + 1
        seg = np.repeat(np.arange(sel.size), h)
        h_end = np.cumsum(h)
        seg_row = y0[sel][seg] + np.arange(h_end[-1]) - np.repeat(h_end - h, h)
        seg_w = w[seg]
        seg_end = np.cumsum(seg_w)
        pix = np.repeat(seg_row * self.proj.w + x0[sel][seg] - (seg_end - seg_w), seg_w)
        pix += np.arange(seg_end[-1])
        pg = np.repeat(sel[seg], seg_w)  # pair -> geom (index into the sorted arrays)

        t = np.empty(pix.size)
        px, py = self.x[pix], self.y[pix]
        bounds = np.searchsorted(pg, self.kind_start)
        kinds = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for kind in range(N_KINDS):
                lo, hi = bounds[kind], bounds[kind + 1]
                if lo == hi:
                    continue
                rows = tab[:15] if kind == BOX else tab  # boxes need no lp or size
                tk = np.take(rows, pg[lo:hi], axis=1)
                v = px[lo:hi] * tk[_A] + py[lo:hi] * tk[_B] + tk[_C]  # (3, n) rays, geom frame
                t[lo:hi], aux = _HIT[kind](tk, v)
                kinds.append((kind, lo, hi, tk, v, aux))

        zbuf, win = self.zbuf, self.win
        zbuf.fill(np.inf)
        np.minimum.at(zbuf, pix, t)
        best = np.flatnonzero(t == zbuf[pix])
        win[pix[best]] = best  # winning pair per pixel; ties: the later pair, deterministically
        hits = np.flatnonzero(zbuf <= planar_cutoff)
        if hits.size == 0:
            return
        is_win = np.zeros(pix.size, bool)
        is_win[win[hits]] = True
        for kind, lo, hi, tk, v, aux in kinds:  # ids, depths and normals of each kind's winners
            j = np.flatnonzero(is_win[lo:hi])
            if j.size == 0:
                continue
            pixels, tj = pix[lo + j], t[lo + j]
            out_gid[pixels] = self.gid[pg[lo + j]]
            out_t[pixels] = tj
            out_n[:, pixels] = _camera_normals(kind, tk, v, j, tj, aux)

    def _update_corners(self, xpos: np.ndarray, xmat: np.ndarray) -> None:
        """Refresh world box corners: moving geoms every frame, static ones when they changed."""
        if self.moving.size:
            m = self.moving
            self.corners[:, :, m] = box_corners(xpos[m], xmat[m], self.aabb[m])
        if self.static.size:
            s = self.static
            pose = np.concatenate([xpos[s], xmat[s]], axis=1)
            if not np.array_equal(pose, self._static_pose):
                self.corners[:, :, s] = box_corners(xpos[s], xmat[s], self.aabb[s])
                self._static_pose = pose
