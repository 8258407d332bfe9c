"""Triangulate the polygon faces of imported meshes (OBJ and PLY may hold n-gons).

Convex polygons, what most exporters write, become a fan from their first corner. A concave
polygon (an L-shaped wall panel, a hold outline) would get triangles outside it from a fan, so
it is ear-clipped instead: projected onto its own plane (Newell's normal), then the corner whose
triangle holds no other corner is cut off, repeatedly. A convex polygon with straight corners (a
panel outline with T-vertices along its edges, as Blender's limited dissolve writes them) is
ear-clipped too: a fan from a corner next to a straight run gives zero-area slivers there, and
the panel's edge then no longer meets its neighbour's. Both keep the polygon's winding, so face
normals still point where the file's did. Polygons that cannot be ear-clipped (self-intersecting
or degenerate outlines) fall back to the fan, which is what a reader would have done anyway.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12  # relative area below which a polygon counts as degenerate
STRAIGHT_SIN = 1e-4
"""A corner turning by less than this (sine of its angle, ~0.006 degrees) counts as straight:
files written with 6 decimals put a T-vertex that far off its edge, and cutting an ear there
makes a sliver whose normal is noise."""


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
            fan_ok = ~valid | (convex & ~_straight(corners))
        else:
            fan_ok = convex
        poly_parts.append(np.repeat(members[fan_ok], n - 2))
        local_parts.append(np.tile(fan, (int(fan_ok.sum()), 1)))
        for i, is_convex in zip(members[~fan_ok], convex[~fan_ok]):
            clipped = _ear_clip(_project(vertices[np.asarray(polygons[i])]))
            n_concave += clipped is not None and not is_convex
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


def _corner_sines(corners: np.ndarray) -> np.ndarray:
    """(k, n) signed sine of each corner's turn, positive where it turns with the polygon's
    Newell normal (convex), for polygons (k, n, 3)."""
    normal = _newell(corners)
    unit = normal / np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-300)
    edge = np.roll(corners, -1, axis=1) - corners
    nxt = np.roll(edge, -1, axis=1)
    turns = np.einsum("knd,kd->kn", np.cross(edge, nxt), unit)
    lengths = np.linalg.norm(edge, axis=2) * np.linalg.norm(nxt, axis=2)
    return turns / np.maximum(lengths, 1e-300)


def _degenerate(corners: np.ndarray) -> np.ndarray:
    """(k,) polygons with ~zero area (collinear outlines): a fan is as good as any."""
    scale = np.ptp(corners, axis=1).max(axis=1)
    area2 = np.linalg.norm(_newell(corners), axis=1)
    return area2 <= _EPS * np.maximum(scale * scale, _EPS)


def _convex(corners: np.ndarray) -> np.ndarray:
    """(k,) whether each polygon (k, n, 3) is convex (or degenerate: a fan is as good as any):
    no corner of its outline turns against its Newell normal beyond STRAIGHT_SIN."""
    return _degenerate(corners) | np.all(_corner_sines(corners) >= -STRAIGHT_SIN, axis=1)


def _straight(corners: np.ndarray) -> np.ndarray:
    """(k,) whether a non-degenerate polygon (k, n, 3) has a straight corner (three
    consecutive corners on a line, within STRAIGHT_SIN)."""
    straight = np.any(np.abs(_corner_sines(corners)) <= STRAIGHT_SIN, axis=1)
    return ~_degenerate(corners) & straight


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
    None if no ear can be found (the outline crosses itself).

    Straight corners (T-vertices on an edge) are left out and the remaining outline clipped;
    each triangle on an edge that held T-vertices is then fanned from its far corner through
    them. Clipping them in place can leave a run of them as the last, flat triangle."""
    n = len(p)
    prev, nxt = np.roll(p, 1, axis=0), np.roll(p, -1, axis=0)
    cross = (p[:, 0] - prev[:, 0]) * (nxt[:, 1] - p[:, 1]) - (p[:, 1] - prev[:, 1]) * (
        nxt[:, 0] - p[:, 0]
    )
    span = np.linalg.norm(p - prev, axis=1) * np.linalg.norm(nxt - p, axis=1)
    core = np.flatnonzero(np.abs(cross) > STRAIGHT_SIN * span)
    if len(core) < 3:
        return None
    if len(core) == n:
        return _clip(p)
    tris = _clip(p[core])
    if tris is None:
        return None
    runs = {}  # outline edge of the clipped core (a, b) -> the T-vertices between a and b
    for k in range(len(core)):
        a, b = int(core[k]), int(core[(k + 1) % len(core)])
        run = [(a + 1 + t) % n for t in range((b - a - 1) % n)]
        if run:
            runs[(a, b)] = run
    out: list[tuple[int, int, int]] = []
    for tri in core[tris]:
        out += _fan_runs(tuple(int(x) for x in tri), runs)
    return np.array(out, np.int64)


def _fan_runs(tri: tuple[int, int, int], runs: dict) -> list[tuple[int, int, int]]:
    """Split a triangle whose edges hold T-vertices (`runs`) into triangles that use them all:
    fan from the corner opposite such an edge, then split the fan's end triangles alike."""
    a, b, c = tri
    for x, y, z in ((a, b, c), (b, c, a), (c, a, b)):
        run = runs.get((x, y))
        if run:
            chain = [x, *run, y]
            out: list[tuple[int, int, int]] = []
            for t in range(len(chain) - 1):
                out += _fan_runs((chain[t], chain[t + 1], z), runs)
            return out
    return [tri]


def _clip(p: np.ndarray) -> np.ndarray | None:
    """Ear clipping proper (see `_ear_clip`): (n - 2, 3) triangles or None."""
    tol = _EPS * np.ptp(p, axis=0).max() ** 2
    left = list(range(len(p)))
    tris: list[tuple[int, int, int]] = []
    while len(left) > 3:
        m = len(left)
        for k in range(m):
            i, j, l = left[k - 1], left[k], left[(k + 1) % m]
            span = float(np.linalg.norm(p[j] - p[i]) * np.linalg.norm(p[l] - p[j]))
            if _cross(p[i], p[j], p[l]) <= max(tol, STRAIGHT_SIN * span):
                continue  # reflex or straight corner: not an ear
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
