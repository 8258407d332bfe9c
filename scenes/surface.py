"""Wall-surface geometry: robust plane fits, height maps over a plane, point-cloud meshing.

A `HeightMap` stores, for a regular grid in a plane frame, the highest surface point along the
plane normal in each cell (what a climber in front of the wall can touch). It is the common
ground for heightfield collision, hold detection, surface sampling and meshing wall scans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.spatial

from scenes.errors import SceneError


@dataclass
class Plane:
    """A plane through `point` with unit `normal`."""

    point: np.ndarray  # (3,)
    normal: np.ndarray  # (3,) unit

    def signed_distance(self, pts: np.ndarray) -> np.ndarray:
        """Distance of each point along the normal (positive in front), same units as pts."""
        return (pts - self.point) @ self.normal


def triangle_areas(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Area of each triangle (units squared)."""
    t = v[f]
    return 0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1)


def face_normals(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Unit normal of each triangle by its winding (zero for degenerate ones)."""
    t = v[f]
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)


def sample_surface(v: np.ndarray, f: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points uniformly distributed by area over the triangles (or the vertices if no faces)."""
    if len(f) == 0:
        return v[rng.choice(len(v), size=min(n, len(v)), replace=False)]
    area = triangle_areas(v, f)
    if area.sum() <= 0:
        raise SceneError("mesh has zero surface area")
    idx = rng.choice(len(f), size=n, p=area / area.sum())
    r = rng.random((n, 2))
    flip = r.sum(axis=1) > 1.0
    r[flip] = 1.0 - r[flip]
    t = v[f[idx]]
    return t[:, 0] + r[:, :1] * (t[:, 1] - t[:, 0]) + r[:, 1:] * (t[:, 2] - t[:, 0])


def fit_plane(
    pts: np.ndarray, rng: np.random.Generator, *, inlier_dist: float, iterations: int = 256
) -> tuple[Plane, np.ndarray]:
    """RANSAC plane with the most points within `inlier_dist`, refined by least squares.

    Returns the plane and the inlier mask. Robust to protrusions (holds, volumes) and side
    panels as long as the main panel holds the largest share of the points.
    """
    if len(pts) < 3:
        raise SceneError(f"need at least 3 points to fit a plane, got {len(pts)}")
    tri = pts[rng.integers(0, len(pts), size=(iterations, 3))]
    nrm = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(nrm, axis=1)
    ok = length > 1e-12 * max(float(np.ptp(pts, axis=0).max()), 1e-300) ** 2
    if not ok.any():
        raise SceneError("points are collinear; cannot fit a plane")
    nrm = nrm[ok] / length[ok, None]
    offset = np.sum(tri[ok, 0] * nrm, axis=1)
    counts = (np.abs(pts @ nrm.T - offset) < inlier_dist).sum(axis=0)  # (points, hypotheses)
    best = int(np.argmax(counts))
    inliers = np.abs(pts @ nrm[best] - offset[best]) < inlier_dist
    # Refit on the inliers, then tighten to 3 robust sigmas: the consensus band is wide enough
    # to include hold bases, which would bias a plain least-squares fit.
    thr = inlier_dist
    for _ in range(3):
        centre = pts[inliers].mean(axis=0)
        normal = np.linalg.svd(pts[inliers] - centre, full_matrices=False)[2][-1]
        res = (pts - centre) @ normal
        mad = float(np.median(np.abs(res[inliers] - np.median(res[inliers]))))
        thr = min(thr, max(3.0 * 1.4826 * mad, 1e-9 * inlier_dist))
        tight = np.abs(res) < thr
        if tight.sum() < 3:
            break
        inliers = tight
    return Plane(centre, normal / np.linalg.norm(normal)), inliers


def plane_axes(normal: np.ndarray, u_hint: np.ndarray) -> np.ndarray:
    """Right-handed orthonormal rows (u, v, n) with u along `u_hint` projected into the plane."""
    n = normal / np.linalg.norm(normal)
    u = u_hint - (u_hint @ n) * n
    if np.linalg.norm(u) < 1e-6:  # hint parallel to the normal: take any perpendicular axis
        u = np.eye(3)[int(np.argmin(np.abs(n)))]
        u = u - (u @ n) * n
    u = u / np.linalg.norm(u)
    return np.stack([u, np.cross(n, u), n])


@dataclass
class HeightMap:
    """Highest surface point per grid cell, in a plane frame.

    Frame: `origin` plus orthonormal rows `axes` = (u, v, n). Cell (i, j) covers
    u in [u0 + j*cell, u0 + (j+1)*cell] and v in [v0 + i*cell, ...]; `heights[i, j]` is the
    largest n-coordinate of the surface over it (NaN where there is none). Units: metres once
    the mesh is in scene units.
    """

    origin: np.ndarray  # (3,)
    axes: np.ndarray  # (3, 3) rows u, v, n
    u0: float
    v0: float
    cell: float
    heights: np.ndarray  # (nv, nu)

    def to_frame(self, pts: np.ndarray) -> np.ndarray:
        """World points -> (u, v, h) frame coordinates."""
        return (pts - self.origin) @ self.axes.T

    def to_world(self, uvh: np.ndarray) -> np.ndarray:
        """(u, v, h) frame coordinates -> world points."""
        return self.origin + uvh @ self.axes

    def cell_of(self, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of frame points, clipped into the grid."""
        nv, nu = self.heights.shape
        col = np.floor((uv[:, 0] - self.u0) / self.cell).astype(np.int64).clip(0, nu - 1)
        row = np.floor((uv[:, 1] - self.v0) / self.cell).astype(np.int64).clip(0, nv - 1)
        return row, col

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Frame (u, v) of every cell centre as two (nv, nu) arrays."""
        nv, nu = self.heights.shape
        u = self.u0 + (np.arange(nu) + 0.5) * self.cell
        v = self.v0 + (np.arange(nv) + 0.5) * self.cell
        return np.meshgrid(u, v)

    def filled(
        self, max_gap_cells: int | None = None, fill_value: float | None = None
    ) -> np.ndarray:
        """Heights with NaN cells set from the nearest valid cell (within `max_gap_cells`)."""
        h = self.heights
        nan = np.isnan(h)
        if not nan.any():
            return h.copy()
        if nan.all():
            raise SceneError("height map has no valid cells")
        dist, (ri, ci) = scipy.ndimage.distance_transform_edt(nan, return_indices=True)
        out = h[ri, ci]
        if max_gap_cells is not None:
            far = dist > max_gap_cells
            out[far] = np.nan if fill_value is None else fill_value
        return out

    def normals(self, heights: np.ndarray | None = None, smooth_cells: float = 1.0) -> np.ndarray:
        """World unit normals (nv, nu, 3) of the height surface (filled, Gaussian-smoothed)."""
        h = self.filled() if heights is None else heights
        if smooth_cells > 0:
            h = scipy.ndimage.gaussian_filter(h, smooth_cells, mode="nearest")
        dv, du = np.gradient(h, self.cell)
        local = np.stack([-du, -dv, np.ones_like(h)], axis=-1)
        local /= np.linalg.norm(local, axis=-1, keepdims=True)
        return local @ self.axes


def _lattice(k: int) -> np.ndarray:
    """Barycentric weights of a triangle subdivided k times: ((k+1)(k+2)/2, 3)."""
    i, j = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="ij")
    keep = i + j <= k
    a, b = i[keep] / k, j[keep] / k
    return np.stack([1.0 - a - b, a, b], axis=1)


def rasterize_max(
    v: np.ndarray,
    f: np.ndarray,
    axes: np.ndarray,
    cell: float,
    *,
    origin: np.ndarray | None = None,
    bounds: tuple | None = None,
    max_cells: int = 4_000_000,
    h_max: float = np.inf,
) -> HeightMap:
    """Height map of the highest surface along axes[2], sampling each triangle densely.

    Triangles are sampled on a barycentric lattice with spacing <= cell/2 so every cell a
    triangle covers receives samples. `bounds` = (u_min, v_min, u_max, v_max) in frame
    coordinates, default the mesh's extent. Samples higher than `h_max` are ignored (a room's
    ceiling).
    """
    origin = np.zeros(3) if origin is None else np.asarray(origin, np.float64)
    p = (v - origin) @ axes.T
    if bounds is None:
        bounds = (p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max())
    u0, v0, u1, v1 = (float(b) for b in bounds)
    nu = max(1, int(np.ceil((u1 - u0) / cell)))
    nv = max(1, int(np.ceil((v1 - v0) / cell)))
    if nu * nv > max_cells:
        raise SceneError(
            f"height map of {nv}x{nu} cells exceeds {max_cells:,}; use a larger cell than {cell:g}"
        )
    flat = np.full(nv * nu, -np.inf)
    t = p[f]
    longest = np.max(np.linalg.norm(t - np.roll(t, 1, axis=1), axis=2), axis=1)
    ks = np.maximum(1, np.ceil(longest / (0.5 * cell)).astype(np.int64))
    # Keep each batch to a few million samples; huge triangles get their own batches.
    order = np.argsort(ks, kind="stable")
    ks_sorted = ks[order]
    for k in np.unique(ks_sorted):
        ids = order[np.searchsorted(ks_sorted, k) : np.searchsorted(ks_sorted, k, side="right")]
        w = _lattice(int(k))
        step = max(1, 3_000_000 // len(w))
        for s in range(0, len(ids), step):
            pts = np.einsum("mk,tkd->tmd", w, t[ids[s : s + step]]).reshape(-1, 3)
            col = np.floor((pts[:, 0] - u0) / cell).astype(np.int64)
            row = np.floor((pts[:, 1] - v0) / cell).astype(np.int64)
            ok = (col >= 0) & (col < nu) & (row >= 0) & (row < nv) & (pts[:, 2] <= h_max)
            np.maximum.at(flat, row[ok] * nu + col[ok], pts[ok, 2])
    heights = flat.reshape(nv, nu)
    heights[np.isneginf(heights)] = np.nan
    return HeightMap(origin, axes, u0, v0, cell, heights)


def _inside_solid(t: np.ndarray, q: np.ndarray, eps: float, bucket: float) -> np.ndarray:
    """For points q (Q, 3) in a frame where t (T, 3, 3) are the triangles: True where the first
    triangle crossed going up along +h (beyond eps) faces +h, i.e. the point is inside a solid.

    Triangles are bucketed by their (u, v) bounding boxes so each point only tests the few
    triangles over its bucket.
    """
    if len(q) == 0 or len(t) == 0:
        return np.zeros(len(q), bool)
    cross_h = (t[:, 1, 0] - t[:, 0, 0]) * (t[:, 2, 1] - t[:, 0, 1]) - (t[:, 1, 1] - t[:, 0, 1]) * (
        t[:, 2, 0] - t[:, 0, 0]
    )
    keep = np.abs(cross_h) > 1e-12 * bucket**2  # vertical faces are never crossed
    t, up_facing = t[keep], cross_h[keep] > 0
    origin = np.minimum(t[:, :, :2].min(axis=(0, 1)), q[:, :2].min(axis=0))
    b0 = np.floor((t[:, :, :2].min(axis=1) - origin) / bucket).astype(np.int64)
    b1 = np.floor((t[:, :, :2].max(axis=1) - origin) / bucket).astype(np.int64)
    qb = np.floor((q[:, :2] - origin) / bucket).astype(np.int64)
    nj = int(max(b1[:, 1].max(), qb[:, 1].max())) + 1
    span = b1 - b0 + 1
    count = span[:, 0] * span[:, 1]
    tri_id = np.repeat(np.arange(len(t)), count)
    local = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    key = (b0[tri_id, 0] + local % span[tri_id, 0]) * nj + b0[tri_id, 1] + local // span[tri_id, 0]
    order = np.argsort(key, kind="stable")
    key, tri_id = key[order], tri_id[order]
    qkey = qb[:, 0] * nj + qb[:, 1]
    out = np.zeros(len(q), bool)
    for k in np.unique(qkey):
        qi = np.flatnonzero(qkey == k)
        ti = tri_id[np.searchsorted(key, k) : np.searchsorted(key, k, side="right")]
        if len(ti) == 0:
            continue
        a, b, c = t[ti, 0], t[ti, 1], t[ti, 2]  # (Tb, 3)
        e1, e2 = b - a, c - a
        den = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        d = q[qi, None, :2] - a[None, :, :2]  # (Qb, Tb, 2)
        w1 = (d[..., 0] * e2[:, 1] - d[..., 1] * e2[:, 0]) / den
        w2 = (e1[:, 0] * d[..., 1] - e1[:, 1] * d[..., 0]) / den
        hit = (w1 >= -1e-9) & (w2 >= -1e-9) & (w1 + w2 <= 1 + 1e-9)
        h = a[:, 2] + w1 * e1[:, 2] + w2 * e2[:, 2]
        hit &= h > q[qi, None, 2] + eps
        h = np.where(hit, h, np.inf)
        first = np.argmin(h, axis=1)
        out[qi] = hit.any(axis=1) & up_facing[ti][first]
    return out


def representable_area_fraction(v: np.ndarray, f: np.ndarray, hm: HeightMap, tol: float) -> float:
    """Share of the not-back-facing surface area a heightfield over `hm` represents correctly.

    A face counts when its centroid is no more than `tol` below the lowest height in the 3x3
    cells around it (it is on the height surface), or when the first surface above it faces
    outward (it is buried inside a solid, like a wall panel behind a bolted-on volume). Faces
    under an overhang, with empty space above them that a heightfield would fill, do not
    count. Faces pointing away from the frame normal are ignored (the back of a wall).
    """
    nrm = face_normals(v, f)
    area = triangle_areas(v, f)
    front = nrm @ hm.axes[2] > -0.05
    if area[front].sum() <= 0:
        return 0.0
    c = hm.to_frame(v[f[front]].mean(axis=1))
    local_min = scipy.ndimage.minimum_filter(hm.filled(), size=3, mode="nearest")
    row, col = hm.cell_of(c)
    ok = c[:, 2] >= local_min[row, col] - tol
    if not ok.all():
        t = hm.to_frame(v[f].reshape(-1, 3)).reshape(-1, 3, 3)
        ok[~ok] = _inside_solid(t, c[~ok], eps=0.1 * tol, bucket=max(4 * hm.cell, 1e-9))
    return float(area[front][ok].sum() / area[front].sum())


def mesh_point_cloud(
    pts: np.ndarray,
    colors: np.ndarray | None,
    axes: np.ndarray,
    *,
    cell: float | None = None,
    max_gap_cells: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
    """Triangulate a 2.5-D scan as a height map over the plane frame `axes` (rows u, v, n).

    Each cell's height is the median of its points (robust to scanner noise), gaps of up to
    `max_gap_cells` are filled from neighbours, and neighbouring valid cells are joined into
    triangles. Overhangs behind the front surface are flattened. The default cell is 1.5x the
    median nearest-neighbour spacing. Returns vertices, faces, vertex colours, cell size.
    """
    if len(pts) < 3:
        raise SceneError(f"point cloud has {len(pts)} points; need at least 3 to mesh")
    p = pts @ axes.T
    if cell is None:
        probe = p[:: max(1, len(p) // 4000), :2]
        d, _ = scipy.spatial.cKDTree(p[:, :2]).query(probe, k=2)
        gaps = d[:, 1][d[:, 1] > 0]  # duplicate points would report zero spacing
        if len(gaps) == 0:
            raise SceneError("point cloud has no distinct neighbouring points to mesh")
        cell = 1.5 * float(np.median(gaps))
    u0, v0 = p[:, 0].min(), p[:, 1].min()
    nu = int(np.floor((p[:, 0].max() - u0) / cell)) + 1
    nv = int(np.floor((p[:, 1].max() - v0) / cell)) + 1
    if nu * nv > 16_000_000:
        raise SceneError(f"point cloud grid {nv}x{nu} is too large for cell {cell:g}")
    idx = np.floor((p[:, 1] - v0) / cell).astype(np.int64) * nu + np.floor(
        (p[:, 0] - u0) / cell
    ).astype(np.int64)
    order = np.lexsort((p[:, 2], idx))
    uniq, start, count = np.unique(idx[order], return_index=True, return_counts=True)
    flat = np.full(nu * nv, np.nan)
    flat[uniq] = p[order[start + count // 2], 2]
    hm = HeightMap(np.zeros(3), axes, float(u0), float(v0), float(cell), flat.reshape(nv, nu))
    h = hm.filled(max_gap_cells=max_gap_cells)
    valid = ~np.isnan(h)
    uu, vv = hm.centres()
    vid = np.full(h.shape, -1, np.int64)
    vid[valid] = np.arange(int(valid.sum()))
    verts = hm.to_world(np.stack([uu[valid], vv[valid], h[valid]], axis=1))
    a, b, c, d = vid[:-1, :-1], vid[:-1, 1:], vid[1:, :-1], vid[1:, 1:]
    tris = np.concatenate(
        [np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)]
    )
    tris = tris[(tris >= 0).all(axis=1)]
    vcol = None
    if colors is not None:
        acc = np.zeros((nu * nv, colors.shape[1]))
        np.add.at(acc, idx, colors)
        cnt = np.bincount(idx, minlength=nu * nv)[:, None]
        grid = np.where(cnt > 0, acc / np.maximum(cnt, 1), np.nan).reshape(nv, nu, -1)
        _, (ri, ci) = scipy.ndimage.distance_transform_edt(
            np.isnan(grid[..., 0]), return_indices=True
        )
        vcol = grid[ri, ci][valid]
    return verts, tris.astype(np.int64), vcol, float(cell)
