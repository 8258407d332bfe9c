"""The scene as an ego-centric occupancy crop: the scene encoding ATS conditions on.

`OccupancyMap.from_scene` rasterises a room's colliding static geometry once into a fine
world-frame column map: for every cell the lowest and highest occupied height (boxes and
cylinders exactly from their footprints; meshes from points sampled on their surfaces). A column
is taken as solid between the two, which is exact for the generated rooms (every piece stands on
the floor) and an approximation under tables of scanned rooms. The floor itself is not an
obstacle. `crop` then samples that map at the cells of a square grid centred on the agent and
rotated into its heading: heights (m) or voxels (0/1 per height layer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from navenv.body.rotations import quat_to_matrix
from scenes.types import MeshGeom, Primitive, Scene

MAP_CELL_M = 0.05  # resolution of the world map: half the crop's default cell
FLOOR_SKIP_M = 0.03  # geometry entirely below this is floor, not an obstacle
MESH_SAMPLES_PER_M2 = 2000  # surface samples of mesh geometry (one per ~2 cm)


@dataclass
class OccupancyMap:
    """World-frame columns: `bottom` and `top` (ny, nx) metres, inf / 0 where a cell is empty."""

    origin: np.ndarray  # (2,) world xy of cell (0, 0)'s corner
    cell: float
    bottom: np.ndarray  # (ny, nx) lowest occupied height, inf when empty
    top: np.ndarray  # (ny, nx) highest occupied height, 0 when empty

    @classmethod
    def from_scene(cls, scene: Scene, margin: float = 5.0, cell: float = MAP_CELL_M):
        """Rasterise `scene`'s colliding geometry (all but planes) over its extent + `margin`."""
        lo, hi = _extent(scene)
        origin = lo - margin
        nx, ny = (np.ceil((hi - lo + 2 * margin) / cell)).astype(int)
        xs = origin[0] + (np.arange(nx) + 0.5) * cell
        ys = origin[1] + (np.arange(ny) + 0.5) * cell
        gx, gy = np.meshgrid(xs, ys)  # (ny, nx)
        bottom = np.full((ny, nx), np.inf, np.float32)
        top = np.zeros((ny, nx), np.float32)
        m = cls(origin, cell, bottom, top)
        for g in scene.geometry:
            if g.collision == "none":
                continue
            if isinstance(g, Primitive):
                m._add_primitive(g, gx, gy)
            elif isinstance(g, MeshGeom):
                m._add_mesh(g, scene)
        return m

    # ---------------------------------------------------------------- rasterising
    def _fill(self, inside: np.ndarray, z0: float, z1: float) -> None:
        if z1 < FLOOR_SKIP_M:
            return
        self.bottom[inside] = np.minimum(self.bottom[inside], max(z0, 0.0))
        self.top[inside] = np.maximum(self.top[inside], z1)

    def _add_primitive(self, p: Primitive, gx: np.ndarray, gy: np.ndarray) -> None:
        if p.type == "plane":
            return
        rot = _quat_matrix(p.quat)
        if p.type == "box":
            half = np.asarray(p.size, float)
            corners = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)])
            z = (corners * half) @ rot.T
            z0, z1 = p.pos[2] + z[:, 2].min(), p.pos[2] + z[:, 2].max()
            if abs(rot[2, 2]) > 1 - 1e-6:  # standing upright: the footprint is the yaw-rotated box
                dx, dy = gx - p.pos[0], gy - p.pos[1]
                u = dx * rot[0, 0] + dy * rot[1, 0]
                v = dx * rot[0, 1] + dy * rot[1, 1]
                self._fill((np.abs(u) <= half[0]) & (np.abs(v) <= half[1]), z0, z1)
                return
        elif p.type in ("cylinder", "capsule", "sphere", "ellipsoid"):
            r = p.size[0]
            hz = {"cylinder": p.size[1], "capsule": p.size[1] + r}.get(p.type, r)
            if p.type == "ellipsoid":
                hz = p.size[2]
            if abs(rot[2, 2]) > 1 - 1e-6:
                inside = np.hypot(gx - p.pos[0], gy - p.pos[1]) <= r
                self._fill(inside, p.pos[2] - hz, p.pos[2] + hz)
                return
        # Tilted solids: rasterise points sampled through the volume's bounding box.
        pts = _box_points(np.asarray(p.size, float) if p.type == "box" else np.full(3, p.size[0]))
        self._add_points(pts @ rot.T + np.asarray(p.pos))

    def _add_mesh(self, g: MeshGeom, scene: Scene) -> None:
        import trimesh

        if scene.root is None:
            raise ValueError(f"scene {scene.name!r}: mesh {g.file!r} needs the scene's root dir")
        mesh = trimesh.load(Path(scene.root) / g.file, force="mesh", process=False)
        n = int(max(1000, mesh.area * np.prod(g.scale) ** (2 / 3) * MESH_SAMPLES_PER_M2))
        pts, _ = trimesh.sample.sample_surface_even(mesh, n, seed=0)
        pts = np.asarray(pts) * np.asarray(g.scale)
        self._add_points(pts @ _quat_matrix(g.quat).T + np.asarray(g.pos))

    def _add_points(self, pts: np.ndarray) -> None:
        pts = pts[pts[:, 2] >= FLOOR_SKIP_M]
        iy, ix = self._index(pts[:, :2])
        ok = (iy >= 0) & (iy < self.top.shape[0]) & (ix >= 0) & (ix < self.top.shape[1])
        iy, ix, z = iy[ok], ix[ok], pts[ok, 2].astype(np.float32)
        np.maximum.at(self.top, (iy, ix), z)
        np.minimum.at(self.bottom, (iy, ix), z)

    def _index(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ij = np.floor((xy - self.origin) / self.cell).astype(np.int64)
        return ij[..., 1], ij[..., 0]

    # ---------------------------------------------------------------- cropping
    def columns(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bottom, top) at world points xy (..., 2); empty outside the map."""
        xy = np.asarray(xy)
        cells, ok = self._cells(xy[..., 0], xy[..., 1])
        return (
            np.where(ok, self.bottom.ravel()[cells], np.inf),
            np.where(ok, self.top.ravel()[cells], 0.0),
        )

    def tops(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """`columns`' top alone, at world points given by their x and y arrays (same shape)."""
        cells, ok = self._cells(x, y)
        return np.where(ok, self.top.ravel()[cells], 0.0)

    def _cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat map indices of points (x, y), clipped onto the map, and which lie on it."""
        # x and y apart: arrays with a trailing axis of 2 run numpy's inner loops two at a time.
        ix = np.floor((x - self.origin[0]) / self.cell).astype(np.int64)
        iy = np.floor((y - self.origin[1]) / self.cell).astype(np.int64)
        ny, nx = self.top.shape
        ok = (iy >= 0) & (iy < ny) & (ix >= 0) & (ix < nx)
        return np.clip(iy, 0, ny - 1) * nx + np.clip(ix, 0, nx - 1), ok


class EgoCrop:
    """Samples an `OccupancyMap` on a (cells x cells) grid around the agent, in its heading."""

    def __init__(
        self,
        cells: int,
        cell_m: float,
        mode: str = "height",
        layers: int = 8,
        height_m: float = 2.0,
    ):
        self.cells, self.cell_m, self.mode = int(cells), float(cell_m), mode
        c = (np.arange(self.cells) - (self.cells - 1) / 2) * self.cell_m
        # row i: heading x, column j: heading y (cells, cells) heading-frame points
        self._hx, self._hy = np.meshgrid(c, c, indexing="ij")
        edges = np.linspace(0.0, height_m, layers + 1)
        self._z_lo, self._z_hi = edges[:-1, None, None], edges[1:, None, None]
        self.shape = (self.cells, self.cells) if mode == "height" else (layers, *(self.cells,) * 2)

    def crop(self, occupancy: OccupancyMap, xy: np.ndarray, yaw: float) -> np.ndarray:
        """The crop at floor point `xy` for heading `yaw` (float32, `self.shape`)."""
        fx, fy = math.sin(yaw), -math.cos(yaw)  # facing direction; left is (-fy, fx)
        x = xy[0] + self._hx * fx + self._hy * -fy
        y = xy[1] + self._hx * fy + self._hy * fx
        if self.mode == "height":
            return occupancy.tops(x, y).astype(np.float32)
        bottom, top = occupancy.columns(np.stack([x, y], axis=-1))
        return ((bottom[None] < self._z_hi) & (top[None] > self._z_lo)).astype(np.float32)


def _extent(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """World xy bounds of the walkable grid, or of the non-plane primitives' centres."""
    if scene.walkable is not None:
        w = scene.walkable
        ny, nx = len(w.rows), len(w.rows[0]) if w.rows else 0
        lo = np.asarray(w.origin, float)
        return lo, lo + np.array([nx, ny]) * w.cell
    pts = [g.pos[:2] for g in scene.geometry if getattr(g, "type", "") != "plane"]
    if not pts:
        return np.zeros(2), np.zeros(2)
    pts = np.asarray(pts, float)
    return pts.min(axis=0), pts.max(axis=0)


def _quat_matrix(q) -> np.ndarray:
    q = np.asarray(q, float)
    return quat_to_matrix(q / (np.linalg.norm(q) or 1.0))


def _box_points(half: np.ndarray, step: float = MAP_CELL_M / 2) -> np.ndarray:
    axes = [np.arange(-h, h + 1e-9, step) if h > step else np.array([0.0]) for h in half]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
