"""Planning on a room's walkable grid: geodesic distances, paths, where to stand at furniture.

`NavGrid` wraps a `WalkableGrid` (row i is y index i, column j is x index j; cells keep a body
radius of clearance from walls and furniture). Moves are 8-connected: a diagonal step costs
sqrt(2) cells and is allowed only when both orthogonal neighbours are walkable, so no path cuts
a blocked corner (and the graph's connected areas are the mask's 4-connected components).
`geodesic_field` is a multi-source Dijkstra over that graph (scipy.sparse.csgraph); `plan_path`
reads a shortest path off the field and `smooth_path` string-pulls it with line-of-sight checks
on the mask; clearances come from scipy.ndimage.distance_transform_edt. `avoiding` is the one
rule by which planners step round a person (a disc blocked with `NavGrid.blocked_disc`), and
`passes_near` the test of whether a person is in the way. Pure numpy/scipy: the scenes layer
imports no simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage
from scipy.sparse import coo_matrix, csr_matrix
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
"""The goal vocabulary: a region's label id is its index here (never reorder; append only)."""
SQRT2 = math.sqrt(2.0)
# Half of the 8 neighbour offsets (dy, dx, cost in cells); the graph adds each edge both ways.
_EDGE_STEPS = ((0, 1, 1.0), (1, 0, 1.0), (1, 1, SQRT2), (1, -1, SQRT2))
# All 8 neighbours in the order path descent breaks ties in (row-major around the cell).
_NEIGHBOURS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
NO_STEP = -1  # next-step table entry of a goal cell, a blocked or an unreachable one
LOS_STEP = 0.25  # line-of-sight sample spacing along a segment, in cells
DESCENT_TOL_M = 1e-9  # float slack when testing that a step lies on a shortest path
AT_POINT_M = 1e-9  # descent() is zero this close to the cell centre it would head for
NEAREST_CHUNK = 256  # off-grid points per batch in nearest_walkable (bounds memory)
DEFAULT_REACH_M = 0.45  # approach points lie this close to a footprint: arm's length
BLOCKED_GRIDS_KEPT = 4  # blocked_disc copies kept per grid (one per planner and a spare or two)
START_FREE_M = 0.35  # a person's avoidance disc leaves the walker at least this much room
PASS_CLOSE_M = 0.5  # asked for less room than this, a planner ignores the person: squeezes past
AVOID_SHRINK = 0.6  # after a failed plan, ask for this fraction of the room asked before


class NoPathError(ValueError):
    """Start and goal are not connected on the walkable grid."""


def label_id(label: str) -> int:
    """Index of `label` in GOAL_LABELS (ValueError naming it and the accepted labels)."""
    if label not in GOAL_LABELS:
        raise ValueError(f"unknown goal label {label!r}; accepted: {', '.join(GOAL_LABELS)}")
    return GOAL_LABELS.index(label)


@dataclass(frozen=True)
class RegionGoal:
    """One region of a scene as a goal: where it sits in scene.regions and its label id."""

    index: int  # index into scene.regions
    label: str
    label_id: int  # index into GOAL_LABELS
    region: Region


def region_goal_table(scene: Scene, *, skip_unknown: bool = False) -> tuple[RegionGoal, ...]:
    """The scene's regions as goals, in scene order (unknown labels raise unless skipped)."""
    table = []
    for i, region in enumerate(scene.regions):
        if region.label not in GOAL_LABELS:
            if skip_unknown:
                continue
            raise ValueError(
                f"scene {scene.name!r} region {i}: unknown goal label {region.label!r}; "
                f"accepted: {', '.join(GOAL_LABELS)}"
            )
        table.append(RegionGoal(i, region.label, GOAL_LABELS.index(region.label), region))
    return tuple(table)


class NavGrid:
    """The walkable mask of a room with world <-> cell conversions and graph queries."""

    def __init__(
        self,
        grid: WalkableGrid | None = None,
        *,
        mask: ArrayLike | None = None,
        origin: ArrayLike | None = None,
        cell: float | None = None,
        name: str = "walkable grid",
    ) -> None:
        self.name = name  # the scene's name: errors say which room they are about
        if grid is not None:
            mask, origin, cell = _parse_rows(grid, name), grid.origin, grid.cell
        if mask is None or origin is None or cell is None:
            raise ValueError(f"NavGrid {name!r}: give a WalkableGrid or all of mask, origin, cell")
        self.mask = np.asarray(mask, bool)  # (ny, nx)
        self.origin = np.asarray(origin, float)  # (2,) world xy of cell (0, 0)'s corner
        self.cell = float(cell)
        if self.mask.ndim != 2 or self.origin.shape != (2,) or not self.cell > 0:
            raise ValueError(
                f"NavGrid {name!r}: mask {self.mask.shape}, origin {self.origin.shape}, cell "
                f"{self.cell}; accepted: a 2-D mask, an (x, y) origin, a cell edge > 0"
            )

    @classmethod
    def from_scene(cls, scene: Scene) -> NavGrid:
        """The NavGrid of a room scene (ValueError naming the scene if it has no grid)."""
        if scene.walkable is None:
            raise ValueError(f"scene {scene.name!r} has no walkable grid")
        return cls(scene.walkable, name=scene.name)

    # ---------------------------------------------------------------- conversions
    def to_cell(self, xy: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(iy, ix) int arrays of the cells holding world points xy (..., 2); may be outside."""
        ij = np.floor((np.asarray(xy, float) - self.origin) / self.cell)
        # Clip before the int cast so far-away or non-finite points land just outside the grid:
        # fmax maps NaN to the low bound (what nan_to_num then clip did, without their wrappers).
        ny, nx = self.mask.shape
        ij = np.fmin(np.fmax(ij, -1.0), float(max(ny, nx))).astype(np.int64)
        return ij[..., 1], ij[..., 0]

    def to_world(self, iy: ArrayLike, ix: ArrayLike) -> np.ndarray:
        """(..., 2) world centres of cells (iy, ix)."""
        iy, ix = np.asarray(iy), np.asarray(ix)
        return np.stack(
            [self.origin[0] + (ix + 0.5) * self.cell, self.origin[1] + (iy + 0.5) * self.cell],
            axis=-1,
        )

    def _inside(self, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
        ny, nx = self.mask.shape
        return (iy >= 0) & (iy < ny) & (ix >= 0) & (ix < nx)

    def is_walkable(self, xy: ArrayLike) -> np.ndarray:
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
            raise ValueError(f"NavGrid {self.name!r}: no walkable cell")
        return iy, ix

    @cached_property
    def _free_xy(self) -> np.ndarray:
        return self.to_world(*self._free_cells)

    def free_points(self) -> np.ndarray:
        """(N, 2) world centres of every walkable cell, row-major."""
        return self._free_xy.copy()

    @cached_property
    def clearance(self) -> np.ndarray:
        """(ny, nx) metres from each cell's centre to the nearest blocked cell's centre (the
        grid's edge counts as blocked); 0 on blocked cells."""
        return ndimage.distance_transform_edt(np.pad(self.mask, 1))[1:-1, 1:-1] * self.cell

    def clearance_at(self, xy: ArrayLike) -> np.ndarray:
        """(...,) `clearance` of the cells holding world points xy (..., 2): 0 on blocked cells
        and outside the grid."""
        iy, ix = self.to_cell(xy)
        ok = self._inside(iy, ix)
        out = np.zeros(ok.shape)
        out[ok] = self.clearance[iy[ok], ix[ok]]
        return out

    @cached_property
    def components(self) -> np.ndarray:
        """(ny, nx) int labels of connected walkable areas (0 on blocked cells)."""
        # 4-connected: with no corner cutting, cells touching only diagonally are not linked.
        return ndimage.label(self.mask)[0]

    def nearest_walkable(self, xy: ArrayLike) -> np.ndarray:
        """Centres (..., 2) of the walkable cells nearest to the points xy (..., 2)."""
        xy = np.asarray(xy, float)
        flat = xy.reshape(-1, 2)
        if not np.isfinite(flat).all():
            raise ValueError(f"NavGrid {self.name!r}: nearest_walkable of non-finite points")
        out = np.empty_like(flat)
        ok = self.is_walkable(flat)
        out[ok] = self.to_world(*self.to_cell(flat[ok]))
        off = np.flatnonzero(~ok)
        pts = self._free_xy
        for k in range(0, len(off), NEAREST_CHUNK):
            rows = off[k : k + NEAREST_CHUNK]
            d2 = ((pts[None] - flat[rows, None]) ** 2).sum(axis=-1)  # (chunk, N)
            out[rows] = pts[np.argmin(d2, axis=1)]  # ties: the first cell in row-major order
        return out.reshape(xy.shape)

    def connected(self, a: ArrayLike, b: ArrayLike) -> np.ndarray:
        """Bool array (...,): the nearest walkable cells of a and b (..., 2) share an area."""
        la = self.components[self.to_cell(self.nearest_walkable(a))]
        lb = self.components[self.to_cell(self.nearest_walkable(b))]
        return la == lb

    def sample_free(
        self, rng: np.random.Generator, n: int = 1, min_clearance: float = 0.0
    ) -> np.ndarray:
        """(n, 2) random walkable cell centres with `min_clearance` m of floor beyond the grid's
        own margin; any walkable cells when none has that much."""
        iy, ix = self._free_cells
        # A cell centre sits half a cell from the edge of its blocked neighbour.
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
                name=self.name,
            )
        return cache[margin]

    @cached_property
    def _centres(self) -> np.ndarray:
        """(ny, nx, 2) world centres of every cell."""
        ny, nx = self.mask.shape
        return self.to_world(*np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij"))

    def blocked_disc(self, xy: ArrayLike, radius: float, keep: ArrayLike | None = None) -> NavGrid:
        """A copy with the cells within `radius` of xy blocked (except the cell of `keep`).

        The last few copies are kept by mask: planners re-plan about a person who has not moved
        far, and a grid met again keeps its graph, components and clearance."""
        mask = self.mask & (np.linalg.norm(self._centres - np.asarray(xy, float), axis=-1) > radius)
        if keep is not None:
            iy, ix = self.to_cell(keep)
            if self._inside(iy, ix) and self.mask[iy, ix]:
                mask[iy, ix] = True
        cache = self.__dict__.setdefault("_blocked", {})
        key = mask.tobytes()
        if key not in cache:
            if len(cache) >= BLOCKED_GRIDS_KEPT:
                del cache[next(iter(cache))]  # the oldest
            cache[key] = NavGrid(mask=mask, origin=self.origin, cell=self.cell, name=self.name)
        return cache[key]

    # ---------------------------------------------------------------- graph
    @cached_property
    def _graph(self) -> csr_matrix:
        """Sparse symmetric adjacency (cost in metres) between walkable cells (flat indices)."""
        m, (ny, nx) = self.mask, self.mask.shape
        rows, cols, costs = [], [], []
        idx = np.arange(ny * nx).reshape(ny, nx)
        for dy, dx, c in _EDGE_STEPS:
            y0, y1 = max(0, -dy), ny - max(0, dy)
            x0, x1 = max(0, -dx), nx - max(0, dx)
            ok = m[y0:y1, x0:x1] & m[y0 + dy : y1 + dy, x0 + dx : x1 + dx]
            if dy and dx:  # no corner cutting: both orthogonal neighbours walkable
                ok &= m[y0 + dy : y1 + dy, x0:x1] & m[y0:y1, x0 + dx : x1 + dx]
            src = idx[y0:y1, x0:x1][ok]
            dst = idx[y0 + dy : y1 + dy, x0 + dx : x1 + dx][ok]
            rows += [src, dst]
            cols += [dst, src]
            costs += [np.full(len(src), c * self.cell)] * 2
        r, c = np.concatenate(rows), np.concatenate(cols)
        return coo_matrix((np.concatenate(costs), (r, c)), shape=(ny * nx, ny * nx)).tocsr()

    def _sources(self, goals: ArrayLike) -> np.ndarray:
        g = np.atleast_2d(np.asarray(goals, float))
        if g.ndim != 2 or g.shape[-1] != 2 or not len(g) or not np.isfinite(g).all():
            raise ValueError(
                f"NavGrid {self.name!r}: goal points: expected finite (N, 2) or (2,) xy with "
                f"N >= 1, got shape {np.shape(goals)}"
            )
        iy, ix = self.to_cell(self.nearest_walkable(g))
        return np.unique(iy * self.mask.shape[1] + ix)

    def geodesic_field(self, goals: ArrayLike) -> DistanceField:
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

    def at(self, xy: ArrayLike) -> np.ndarray | float:
        """Distance at world points xy (..., 2): the cell's value; off the walkable cells, the
        nearest walkable cell's value plus the straight distance to it (never inf for a body a
        few centimetres over the clearance margin)."""
        xy = np.asarray(xy, float)
        if xy.shape == (2,):  # one point on a walkable cell (each env step): its value, no search
            iy, ix = self.nav.to_cell(xy)
            if self.nav._inside(iy, ix) and self.nav.mask[iy, ix]:
                return float(self.values[iy, ix])
        flat = xy.reshape(-1, 2)
        near = self.nav.nearest_walkable(flat)
        out = self.values[self.nav.to_cell(near)] + np.where(
            self.nav.is_walkable(flat), 0.0, np.linalg.norm(flat - near, axis=1)
        )
        return float(out[0]) if xy.ndim == 1 else out.reshape(xy.shape[:-1])

    @cached_property
    def _next_step(self) -> np.ndarray:
        """(ny, nx) index into _NEIGHBOURS of each cell's next cell on a shortest path, or NO_STEP."""
        v, m = self.values, self.nav.mask
        ny, nx = v.shape
        pv = np.pad(v, 1, constant_values=np.inf)
        pm = np.pad(m, 1, constant_values=False)

        def shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
            return a[1 + dy : 1 + dy + ny, 1 + dx : 1 + dx + nx]

        best_v, best_k = v.copy(), np.full(v.shape, NO_STEP)
        for k, (dy, dx) in enumerate(_NEIGHBOURS):
            nv = shifted(pv, dy, dx)
            cost = (SQRT2 if dy and dx else 1.0) * self.nav.cell
            # The step must lie on a shortest path; among those, the lowest neighbour (the first
            # in _NEIGHBOURS on ties) so paths prefer diagonals over staircases.
            ok = (nv + cost <= v + DESCENT_TOL_M) & (nv < best_v)
            if dy and dx:
                ok &= shifted(pm, dy, 0) & shifted(pm, 0, dx)
            best_v, best_k = np.where(ok, nv, best_v), np.where(ok, k, best_k)
        best_k[~np.isfinite(v)] = NO_STEP
        return best_k

    def descend(self, start_xy: ArrayLike) -> np.ndarray:
        """(K, 2) cell centres of a shortest path from the start's nearest walkable cell down
        the field to a goal cell (NoPathError when the start cannot reach one)."""
        nav, step = self.nav, self._next_step
        iy, ix = (int(i) for i in nav.to_cell(nav.nearest_walkable(start_xy)))
        if not np.isfinite(self.values[iy, ix]):
            raise NoPathError(f"{nav.name!r}: {_fmt(start_xy)} is not connected to the goal")
        path = [(iy, ix)]
        while (k := step[iy, ix]) != NO_STEP:
            dy, dx = _NEIGHBOURS[k]
            iy, ix = iy + dy, ix + dx
            path.append((iy, ix))
        ys, xs = np.array(path).T
        return nav.to_world(ys, xs)

    def descent(self, xy: ArrayLike) -> np.ndarray:
        """Unit directions (..., 2) from xy toward the next cell down the field (toward its own
        cell's centre at a goal cell or off the walkable cells); zeros where none."""
        xy = np.asarray(xy, float)
        flat = xy.reshape(-1, 2)
        nav = self.nav
        iy, ix = nav.to_cell(nav.nearest_walkable(flat))
        k = self._next_step[iy, ix]
        offsets = np.array(_NEIGHBOURS)[np.maximum(k, 0)] * (k != NO_STEP)[:, None]
        on_grid = nav.is_walkable(flat)[:, None]
        target = nav.to_world(
            iy + offsets[:, 0] * on_grid[:, 0], ix + offsets[:, 1] * on_grid[:, 0]
        )
        d = target - flat
        norm = np.linalg.norm(d, axis=1, keepdims=True)
        reachable = np.isfinite(self.values[iy, ix])[:, None]
        moving = (norm > AT_POINT_M) & reachable
        unit = np.where(moving, d / np.maximum(norm, AT_POINT_M), 0.0)
        return unit.reshape(xy.shape)


def geodesic_field(nav: NavGrid, goals: ArrayLike) -> DistanceField:
    """Geodesic distance field to goal points (see NavGrid.geodesic_field)."""
    return nav.geodesic_field(goals)


def _fmt(xy: ArrayLike) -> list:
    return np.round(np.asarray(xy, float), 2).tolist()


def plan_path(nav: NavGrid, start_xy: ArrayLike, goal_xy: ArrayLike) -> np.ndarray:
    """(K, 2) cell centres from the start's nearest walkable cell to the goal's, shortest on the
    8-connected grid (NoPathError naming both and the grid when they are not connected)."""
    if not np.any(nav.connected(start_xy, goal_xy)):  # fail fast, before a Dijkstra over the room
        raise NoPathError(
            f"no walkable path on {nav.name!r} from {_fmt(start_xy)} to {_fmt(goal_xy)}: "
            f"their nearest walkable cells lie on separate areas"
        )
    return nav.geodesic_field(goal_xy).descend(start_xy)


def avoiding(
    nav: NavGrid,
    person_xy: ArrayLike,
    start_xy: ArrayLike,
    room_m: float,
    least_m: float = PASS_CLOSE_M,
) -> NavGrid:
    """The grid a walker at `start_xy` plans on to keep `room_m` from a person at `person_xy`:
    the person's disc blocked, shrunk to leave the walker START_FREE_M to set off; the whole
    grid when asked for less than `least_m` (it squeezes past) or when the person is already at
    arm's length (a disc that small would box the walker in rather than steer it).

    The one rule every planner that steps round a person uses (the scripted RoomAgent, the
    behaviour policy's sub-goal), so their ideas of "in the way" agree."""
    person, start = np.asarray(person_xy, float), np.asarray(start_xy, float)
    gap = float(np.linalg.norm(person - start))
    if room_m < least_m:
        return nav
    radius = min(room_m, gap - START_FREE_M)
    if radius < START_FREE_M:
        return nav
    return nav.blocked_disc(person, radius, keep=start)


def passes_near(points: ArrayLike, xy: ArrayLike, distance: float) -> bool:
    """Whether any of the (K, 2) points of a densely sampled path lies within `distance` of xy
    (a person is in the way of a walk that comes that close)."""
    pts = np.asarray(points, float)
    return bool(np.linalg.norm(pts - np.asarray(xy, float), axis=1).min() < distance)


def line_of_sight(nav: NavGrid, a: ArrayLike, b: ArrayLike) -> bool:
    """Whether the segment a-b stays on walkable cells (sampled every quarter cell, and never
    slipping through the corner between two diagonal blocked cells)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = max(int(np.linalg.norm(b - a) / (nav.cell * LOS_STEP)), 1)
    pts = a + (b - a) * np.linspace(0.0, 1.0, n + 1)[:, None]
    if not nav.is_walkable(pts).all():
        return False
    iy, ix = nav.to_cell(pts)
    # Samples a quarter cell apart move at most one cell per axis. A diagonal move between two
    # samples crosses one of the two orthogonal cells (or their shared corner): if both are
    # blocked the segment slips through a wall's pinch point that sampling alone would miss.
    diag = np.flatnonzero((np.diff(iy) != 0) & (np.diff(ix) != 0))
    return bool((nav.mask[iy[diag], ix[diag + 1]] | nav.mask[iy[diag + 1], ix[diag]]).all())


def smooth_path(points: ArrayLike, nav: NavGrid) -> np.ndarray:
    """String pulling: from each kept point, jump to the farthest later point in line of sight.
    End points stay; a first or last point off the grid is kept as given."""
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


def resample_path(points: ArrayLike, spacing: float) -> np.ndarray:
    """Points every `spacing` metres of arc length along the polyline (the end included)."""
    pts = np.asarray(points, float)
    if pts.ndim != 2 or pts.shape[1] != 2 or not len(pts):
        raise ValueError(f"resample_path: points of shape {pts.shape}; expected (K >= 1, 2)")
    if not spacing > 0:
        raise ValueError(f"resample_path: spacing={spacing}; expected > 0 m")
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] == 0:
        return pts[:1].copy()
    q = np.append(np.arange(0.0, s[-1], spacing), s[-1])
    return np.column_stack([np.interp(q, s, pts[:, 0]), np.interp(q, s, pts[:, 1])])


def path_length(points: ArrayLike) -> float:
    """Arc length (m) of a (K, 2) polyline."""
    return float(np.linalg.norm(np.diff(np.asarray(points, float), axis=0), axis=1).sum())


def point_along(points: ArrayLike, distance: float) -> np.ndarray:
    """(2,) the point `distance` metres of arc length along a (K, 2) polyline (clamped to its
    ends)."""
    pts = np.asarray(points, float)
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    d = min(max(float(distance), 0.0), s[-1])
    return np.array([np.interp(d, s, pts[:, 0]), np.interp(d, s, pts[:, 1])])


def _footprint(region: Region) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre (2,), local axes as rows (2, 2), half extents (2,) of the region's xy box."""
    c = np.asarray(region.center[:2], float)
    u = np.array([math.cos(region.yaw), math.sin(region.yaw)])
    v = np.array([-u[1], u[0]])
    return c, np.stack([u, v]), np.asarray(region.half_extents[:2], float)


def footprint_distance(points: ArrayLike, region: Region) -> np.ndarray:
    """Metres from floor points (..., 2) to the region's footprint (0 inside)."""
    c, axes, half = _footprint(region)
    local = (np.asarray(points, float) - c) @ axes.T
    return np.linalg.norm(np.maximum(np.abs(local) - half, 0.0), axis=-1)


def approach_points(
    region: Region, nav: NavGrid, reach: float = DEFAULT_REACH_M, *, main_area_only: bool = True
) -> np.ndarray:
    """(N, 2) walkable cell centres within `reach` m of the region's footprint: where an agent
    stands to use it. By default only cells on the grid's largest connected area count, so
    every approach point of every region is reachable from every spawn on that area."""
    mask = nav.mask & _main_area(nav) if main_area_only else nav.mask
    pts = nav.to_world(*np.nonzero(mask))
    return pts[footprint_distance(pts, region) <= reach]


def _main_area(nav: NavGrid) -> np.ndarray:
    labels = nav.components
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0  # label 0 is the blocked cells
    return labels == int(np.argmax(sizes))


def facing_yaw(point: ArrayLike, region: Region) -> float:
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


def _parse_rows(grid: WalkableGrid, name: str) -> np.ndarray:
    """The (ny, nx) bool mask of a WalkableGrid (ValueError naming a bad row)."""
    if not grid.rows:
        raise ValueError(f"NavGrid {name!r}: the walkable grid has no rows")
    width = len(grid.rows[0])
    for i, row in enumerate(grid.rows):
        if len(row) != width or set(row) - {"0", "1"}:
            raise ValueError(
                f"NavGrid {name!r}: walkable row {i} has {len(row)} cells of {sorted(set(row))}; "
                f"accepted: {width} cells of '0'/'1' in every row"
            )
    return np.array([[c == "1" for c in row] for row in grid.rows], bool)
