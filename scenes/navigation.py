"""Planning on a room's walkable grid: geodesic distances, paths, where to stand at furniture.

`NavGrid` wraps a `WalkableGrid` (row i is y index i, column j is x index j; cells keep a body
radius of clearance from walls and furniture). Moves are 8-connected: a diagonal step costs
sqrt(2) cells and is allowed only when both orthogonal neighbours are walkable, so no path cuts
a blocked corner. `geodesic_field` is a multi-source Dijkstra over that graph (scipy's csgraph);
`plan_path` reads a path off the field by steepest descent and `smooth_path` string-pulls it
with line-of-sight checks on the mask. Pure numpy/scipy: the scenes layer imports no simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from scenes.types import Region, Scene, WalkableGrid

GOAL_LABELS: tuple[str, ...] = (
    "bed",
    "sofa",
    "table",
    "chair",
    "shelf",
    "desk",
    "wardrobe",
    "obstacle",
    "bowl",
    "door",
)
"""The goal vocabulary: a region's label id is its index here."""
SQRT2 = math.sqrt(2.0)
# 8-neighbour offsets (dy, dx) and their costs in cells
_STEPS = ((0, 1, 1.0), (1, 0, 1.0), (1, 1, SQRT2), (1, -1, SQRT2))
LOS_STEP = 0.25  # line-of-sight samples per cell along a segment


class NoPathError(ValueError):
    """Start and goal are not connected on the walkable grid."""


def label_id(label: str) -> int:
    """Index of `label` in GOAL_LABELS."""
    if label not in GOAL_LABELS:
        raise ValueError(f"unknown goal label {label!r}; accepted: {', '.join(GOAL_LABELS)}")
    return GOAL_LABELS.index(label)


class NavGrid:
    """The walkable mask of a room with world <-> cell conversions and graph queries."""

    def __init__(self, grid: WalkableGrid | None = None, *, mask=None, origin=None, cell=None):
        if grid is not None:
            if not grid.rows:
                raise ValueError("NavGrid: the walkable grid has no rows")
            mask = np.array([[c == "1" for c in row] for row in grid.rows], bool)
            origin, cell = grid.origin, grid.cell
        self.mask = np.asarray(mask, bool)  # (ny, nx)
        self.origin = np.asarray(origin, float)
        self.cell = float(cell)

    @classmethod
    def from_scene(cls, scene: Scene) -> NavGrid:
        """The NavGrid of a room scene (ValueError naming the scene if it has no grid)."""
        if scene.walkable is None:
            raise ValueError(f"scene {scene.name!r} has no walkable grid")
        return cls(scene.walkable)

    # ---------------------------------------------------------------- conversions
    def to_cell(self, xy) -> tuple[np.ndarray, np.ndarray]:
        """(iy, ix) int arrays of the cells holding world points xy (..., 2); may be outside."""
        ij = np.floor((np.asarray(xy, float) - self.origin) / self.cell).astype(np.int64)
        return ij[..., 1], ij[..., 0]

    def to_world(self, iy, ix) -> np.ndarray:
        """(..., 2) world centres of cells (iy, ix)."""
        iy, ix = np.asarray(iy), np.asarray(ix)
        return np.stack(
            [self.origin[0] + (ix + 0.5) * self.cell, self.origin[1] + (iy + 0.5) * self.cell],
            axis=-1,
        )

    def _inside(self, iy, ix) -> np.ndarray:
        ny, nx = self.mask.shape
        return (iy >= 0) & (iy < ny) & (ix >= 0) & (ix < nx)

    def is_walkable(self, xy) -> np.ndarray:
        """Bool array (...,): the point's cell is walkable (False outside the grid)."""
        iy, ix = self.to_cell(xy)
        ok = self._inside(iy, ix)
        out = np.zeros(ok.shape, bool)
        out[ok] = self.mask[iy[ok], ix[ok]]
        return out

    @cached_property
    def _free_cells(self) -> tuple[np.ndarray, np.ndarray]:
        iy, ix = np.nonzero(self.mask)
        if not len(iy):
            raise ValueError("NavGrid: no walkable cell")
        return iy, ix

    def free_points(self) -> np.ndarray:
        """(N, 2) world centres of every walkable cell."""
        return self.to_world(*self._free_cells)

    @cached_property
    def clearance(self) -> np.ndarray:
        """(ny, nx) metres from each walkable cell's centre to the nearest blocked cell."""
        return ndimage.distance_transform_edt(np.pad(self.mask, 1))[1:-1, 1:-1] * self.cell

    def nearest_walkable(self, xy) -> np.ndarray:
        """Centres (..., 2) of the walkable cells nearest to the points xy (..., 2)."""
        xy = np.asarray(xy, float)
        flat = xy.reshape(-1, 2)
        pts = self.free_points()
        out = np.empty_like(flat)
        ok = self.is_walkable(flat)
        iy, ix = self.to_cell(flat[ok])
        out[ok] = self.to_world(iy, ix)
        for k in np.flatnonzero(~ok):
            out[k] = pts[int(np.argmin(((pts - flat[k]) ** 2).sum(axis=1)))]
        return out.reshape(xy.shape)

    def sample_free(
        self, rng: np.random.Generator, n: int = 1, min_clearance: float = 0.0
    ) -> np.ndarray:
        """(n, 2) random walkable cell centres with at least `min_clearance` m of free floor."""
        iy, ix = self._free_cells
        keep = self.clearance[iy, ix] >= min_clearance + self.cell / 2
        if keep.any():
            iy, ix = iy[keep], ix[keep]
        pick = rng.integers(len(iy), size=int(n))
        return self.to_world(iy[pick], ix[pick])

    def eroded(self, margin: float) -> NavGrid:
        """A copy keeping only cells more than `margin` m (beyond the grid's own clearance)
        from blocked cells; cached per margin. May be empty or split."""
        cache = self.__dict__.setdefault("_eroded", {})
        if margin not in cache:
            cache[margin] = NavGrid(
                mask=self.mask & (self.clearance > margin + self.cell / 2),
                origin=self.origin,
                cell=self.cell,
            )
        return cache[margin]

    def blocked_disc(self, xy, radius: float, keep=None) -> NavGrid:
        """A copy with the cells within `radius` of xy blocked (except the cell of `keep`)."""
        ny, nx = self.mask.shape
        centres = self.to_world(*np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij"))
        mask = self.mask & (np.linalg.norm(centres - np.asarray(xy, float), axis=-1) > radius)
        if keep is not None:
            iy, ix = self.to_cell(keep)
            if self._inside(iy, ix) and self.mask[iy, ix]:
                mask[iy, ix] = True
        return NavGrid(mask=mask, origin=self.origin, cell=self.cell)

    # ---------------------------------------------------------------- graph
    @cached_property
    def _graph(self):
        """Sparse symmetric adjacency (cost in metres) between walkable cells (flat indices)."""
        m, (ny, nx) = self.mask, self.mask.shape
        rows, cols, costs = [], [], []
        idx = np.arange(ny * nx).reshape(ny, nx)
        for dy, dx, c in _STEPS:
            y0, y1 = max(0, -dy), ny - max(0, dy)
            x0, x1 = max(0, -dx), nx - max(0, dx)
            a = m[y0:y1, x0:x1]
            b = m[y0 + dy : y1 + dy, x0 + dx : x1 + dx]
            ok = a & b
            if dy and dx:  # no corner cutting: both orthogonal neighbours walkable
                ok &= m[y0 + dy : y1 + dy, x0:x1] & m[y0:y1, x0 + dx : x1 + dx]
            src = idx[y0:y1, x0:x1][ok]
            dst = idx[y0 + dy : y1 + dy, x0 + dx : x1 + dx][ok]
            rows += [src, dst]
            cols += [dst, src]
            costs += [np.full(len(src), c * self.cell)] * 2
        r, c = np.concatenate(rows), np.concatenate(cols)
        return coo_matrix((np.concatenate(costs), (r, c)), shape=(ny * nx, ny * nx)).tocsr()

    def _sources(self, goals) -> np.ndarray:
        g = np.atleast_2d(np.asarray(goals, float))
        if g.shape[-1] != 2 or not np.isfinite(g).all():
            raise ValueError(f"goal points: expected finite (N, 2) xy, got shape {g.shape}")
        iy, ix = self.to_cell(self.nearest_walkable(g))
        return np.unique(iy * self.mask.shape[1] + ix)

    def geodesic_field(self, goals) -> DistanceField:
        """Geodesic metres from every cell to the nearest of the goal points (N, 2) or (2,)."""
        src = self._sources(goals)
        dist = dijkstra(self._graph, directed=False, indices=src, min_only=True)
        field = dist.reshape(self.mask.shape)
        field[~self.mask] = np.inf
        return DistanceField(self, field)


@dataclass(eq=False)
class DistanceField:
    """Geodesic distances (ny, nx) metres on a NavGrid; inf on blocked or unreachable cells."""

    nav: NavGrid
    values: np.ndarray

    def at(self, xy) -> np.ndarray | float:
        """Distance at world points xy (..., 2): the cell's value; off the walkable cells, the
        nearest walkable cell's value plus the straight distance to it (never inf for a body a
        few centimetres over the clearance margin)."""
        xy = np.asarray(xy, float)
        flat = xy.reshape(-1, 2)
        near = self.nav.nearest_walkable(flat)
        iy, ix = self.nav.to_cell(near)
        out = self.values[iy, ix] + np.where(
            self.nav.is_walkable(flat), 0.0, np.linalg.norm(flat - near, axis=1)
        )
        return float(out[0]) if xy.ndim == 1 else out.reshape(xy.shape[:-1])

    def descend(self, start_xy) -> np.ndarray:
        """(K, 2) cell centres from the start's cell down the field to a goal (a source)."""
        nav, v = self.nav, self.values
        iy, ix = nav.to_cell(nav.nearest_walkable(np.asarray(start_xy, float)))
        iy, ix = int(iy), int(ix)
        if not np.isfinite(v[iy, ix]):
            raise NoPathError("start is not connected to the goal")
        ny, nx = v.shape
        path = [(iy, ix)]
        while v[iy, ix] > 0:
            best, step = v[iy, ix], None
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    y, x = iy + dy, ix + dx
                    if (dy or dx) and 0 <= y < ny and 0 <= x < nx and v[y, x] < best:
                        if dy and dx and not (nav.mask[iy + dy, ix] and nav.mask[iy, ix + dx]):
                            continue
                        best, step = v[y, x], (y, x)
            if step is None:  # pragma: no cover - a finite field always has a lower neighbour
                break
            iy, ix = step
            path.append(step)
        ys, xs = np.array(path).T
        return nav.to_world(ys, xs)


def geodesic_field(nav: NavGrid, goals) -> DistanceField:
    """Geodesic distance field to goal points (see NavGrid.geodesic_field)."""
    return nav.geodesic_field(goals)


def plan_path(nav: NavGrid, start_xy, goal_xy) -> np.ndarray:
    """(K, 2) cell centres from the start's nearest walkable cell to the goal's, shortest on the
    8-connected grid (NoPathError naming both when they are not connected)."""
    field = nav.geodesic_field(goal_xy)
    try:
        return field.descend(start_xy)
    except NoPathError:
        raise NoPathError(
            f"no walkable path from {np.round(start_xy, 2).tolist()} to "
            f"{np.round(goal_xy, 2).tolist()}"
        ) from None


def line_of_sight(nav: NavGrid, a, b) -> bool:
    """Whether the segment a-b stays on walkable cells (sampled at a quarter cell)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = max(int(np.linalg.norm(b - a) / (nav.cell * LOS_STEP)), 1)
    pts = a + (b - a) * np.linspace(0.0, 1.0, n + 1)[:, None]
    return bool(nav.is_walkable(pts).all())


def smooth_path(points, nav: NavGrid) -> np.ndarray:
    """String pulling: keep a point only where the straight segment past it would leave the
    walkable cells. End points stay; a first or last point off the grid is kept as given."""
    pts = np.asarray(points, float)
    if len(pts) <= 2:
        return pts.copy()
    out, i = [pts[0]], 0
    while i < len(pts) - 1:
        j = len(pts) - 1
        while j > i + 1 and not line_of_sight(nav, pts[i], pts[j]):
            j -= 1
        out.append(pts[j])
        i = j
    return np.array(out)


def resample_path(points, spacing: float) -> np.ndarray:
    """Points every `spacing` metres of arc length along the polyline (the end included)."""
    pts = np.asarray(points, float)
    if spacing <= 0:
        raise ValueError(f"spacing={spacing}: expected > 0 m")
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] == 0:
        return pts[:1].copy()
    q = np.append(np.arange(0.0, s[-1], spacing), s[-1])
    return np.column_stack([np.interp(q, s, pts[:, 0]), np.interp(q, s, pts[:, 1])])


def _footprint(region: Region) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.asarray(region.center[:2], float)
    u = np.array([math.cos(region.yaw), math.sin(region.yaw)])
    v = np.array([-u[1], u[0]])
    return c, np.stack([u, v]), np.asarray(region.half_extents[:2], float)


def footprint_distance(points, region: Region) -> np.ndarray:
    """Metres from floor points (..., 2) to the region's footprint (0 inside)."""
    c, axes, half = _footprint(region)
    local = (np.asarray(points, float) - c) @ axes.T
    return np.linalg.norm(np.maximum(np.abs(local) - half, 0.0), axis=-1)


def approach_points(region: Region, nav: NavGrid, reach: float = 0.45) -> np.ndarray:
    """(N, 2) walkable cell centres within `reach` m of the region's footprint: where an agent
    stands to use it. Only cells on the grid's largest connected area count, so every approach
    point of every region is reachable from every spawn of the same area."""
    iy, ix = np.nonzero(nav.mask & _main_area(nav.mask))
    pts = nav.to_world(iy, ix)
    return pts[footprint_distance(pts, region) <= reach]


def _main_area(mask: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n <= 1:
        return mask
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    return labels == 1 + int(np.argmax(sizes))


def facing_yaw(point, region: Region) -> float:
    """Heading (rest faces -y) that turns an agent at `point` toward the nearest point of the
    region's footprint (toward its centre when inside)."""
    c, axes, half = _footprint(region)
    p = np.asarray(point, float)
    local = (p - c) @ axes.T
    nearest = c + np.clip(local, -half, half) @ axes
    d = nearest - p
    if np.hypot(*d) < 1e-6:
        d = c - p
    return math.atan2(d[0], -d[1])
