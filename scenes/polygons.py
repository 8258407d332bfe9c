"""Triangulate the polygon faces of imported meshes (OBJ and PLY may hold n-gons).

Convex polygons, what most exporters write, become a fan from their first corner. A concave
polygon (an L-shaped wall panel, a hold outline) would get triangles outside it from a fan, so
it is ear-clipped instead: projected onto its own plane (Newell's normal), then the corner whose
triangle holds no other corner is cut off, repeatedly. Both keep the polygon's winding, so face
normals still point where the file's did. Polygons that cannot be ear-clipped (self-intersecting
or degenerate outlines) fall back to the fan, which is what a reader would have done anyway.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12  # relative area below which a corner counts as straight (collinear)


def triangulate_polygons(
    vertices: np.ndarray, polygons: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Triangulate many polygons (each an int array of indices into `vertices` (N, 3)) at once,
    vectorised per polygon size. Returns, for each triangle in polygon order, (M,) the index
    of its polygon and (M, 3) its corners as positions within that polygon, plus the number of
    concave (ear-clipped) polygons. Indices outside `vertices` are left for the caller to drop
    (such polygons get a fan)."""
    vertices = np.asarray(vertices, np.float64)
    sizes = np.fromiter((len(p) for p in polygons), np.int64, len(polygons))
    if np.any(sizes < 3):
        raise ValueError("triangulate_polygons: every polygon needs 3 or more corners")
    poly_parts, local_parts, n_concave = [], [], 0
    for n in np.unique(sizes):
        members = np.flatnonzero(sizes == n)
        fan = _fan(int(n))
        convex = np.ones(len(members), bool)
        if n > 3 and len(vertices):
            index = np.array([polygons[i] for i in members], np.int64)
            valid = np.all((index >= 0) & (index < len(vertices)), axis=1)
            corners = vertices[np.clip(index, 0, len(vertices) - 1)]
            convex = ~valid | _convex(corners)
        poly_parts.append(np.repeat(members[convex], n - 2))
        local_parts.append(np.tile(fan, (int(convex.sum()), 1)))
        for i in members[~convex]:
            clipped = _ear_clip(_project(vertices[np.asarray(polygons[i])]))
            n_concave += clipped is not None
            local = fan if clipped is None else clipped
            poly_parts.append(np.full(len(local), i))
            local_parts.append(local)
    if not poly_parts:
        return np.zeros(0, np.int64), np.zeros((0, 3), np.int64), 0
    poly, local = np.concatenate(poly_parts), np.concatenate(local_parts)
    order = np.argsort(poly, kind="stable")  # back into polygon order
    return poly[order], local[order], n_concave


def triangulate(corners: np.ndarray) -> tuple[np.ndarray, bool]:
    """Triangles of one polygon with corners `corners` (n, 3), as (n - 2, 3) indices into its
    corners in the polygon's winding; and whether it was concave (ear-clipped, not a fan)."""
    corners = np.asarray(corners, np.float64)
    if corners.ndim != 2 or corners.shape[1] != 3 or len(corners) < 3:
        raise ValueError(f"triangulate: expected (n >= 3, 3) corners, got {corners.shape}")
    _, local, concave = triangulate_polygons(corners, [np.arange(len(corners))])
    return local, bool(concave)


def _fan(n: int) -> np.ndarray:
    """(n - 2, 3) fan triangles of an n-gon from its first corner."""
    return np.stack([np.zeros(n - 2, np.int64), np.arange(1, n - 1), np.arange(2, n)], axis=1)


def _newell(corners: np.ndarray) -> np.ndarray:
    """(..., 3) Newell normals of polygons (..., n, 3): robust for concave and slightly
    non-planar outlines; the length is twice the area."""
    a, b = corners, np.roll(corners, -1, axis=-2)
    return np.stack(
        [
            np.sum((a[..., 1] - b[..., 1]) * (a[..., 2] + b[..., 2]), axis=-1),
            np.sum((a[..., 2] - b[..., 2]) * (a[..., 0] + b[..., 0]), axis=-1),
            np.sum((a[..., 0] - b[..., 0]) * (a[..., 1] + b[..., 1]), axis=-1),
        ],
        axis=-1,
    )


def _convex(corners: np.ndarray) -> np.ndarray:
    """(k,) whether each polygon (k, n, 3) is convex (or degenerate: a fan is as good as any):
    every turn of its outline agrees with its Newell normal."""
    normal = _newell(corners)
    edge = np.roll(corners, -1, axis=1) - corners
    turns = np.einsum("knd,kd->kn", np.cross(edge, np.roll(edge, -1, axis=1)), normal)
    scale = np.ptp(corners, axis=1).max(axis=1)
    area2 = np.linalg.norm(normal, axis=1)
    degenerate = area2 <= _EPS * np.maximum(scale * scale, _EPS)
    return degenerate | np.all(turns >= -_EPS * (scale**2 * area2)[:, None], axis=1)


def _project(points: np.ndarray) -> np.ndarray:
    """(n, 2) coordinates of a (non-degenerate) 3-D polygon's corners in its plane, oriented
    so the polygon winds counter-clockwise."""
    normal = _newell(points)
    normal /= np.linalg.norm(normal)
    u = np.cross(normal, [1.0, 0.0, 0.0])
    if np.linalg.norm(u) < 0.5:
        u = np.cross(normal, [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)  # (u, v, normal) right-handed: the winding is counter-clockwise
    rel = points - points[0]
    return np.stack([rel @ u, rel @ v], axis=1)


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def _ear_clip(p: np.ndarray) -> np.ndarray | None:
    """(n - 2, 3) local corner indices of a counter-clockwise simple polygon `p` (n, 2), or
    None if no ear can be found (the outline crosses itself)."""
    tol = _EPS * np.ptp(p, axis=0).max() ** 2
    left = list(range(len(p)))
    tris: list[tuple[int, int, int]] = []
    while len(left) > 3:
        m = len(left)
        for k in range(m):
            i, j, l = left[k - 1], left[k], left[(k + 1) % m]
            if _cross(p[i], p[j], p[l]) <= tol:  # reflex or straight corner: not an ear
                continue
            others = [o for o in left if o not in (i, j, l)]
            if any(_inside(p[o], p[i], p[j], p[l], tol) for o in others):
                continue
            tris.append((i, j, l))
            del left[k]
            break
        else:
            return None
    tris.append((left[0], left[1], left[2]))
    return np.array(tris, np.int64)


def _inside(q: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, tol: float) -> bool:
    """Whether q lies in the counter-clockwise triangle abc (on its edges counts)."""
    return _cross(a, b, q) >= -tol and _cross(b, c, q) >= -tol and _cross(c, a, q) >= -tol
