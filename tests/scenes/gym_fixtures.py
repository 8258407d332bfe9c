"""Generated scan fixtures for whole-gym and odd-unit imports (written into a test's tmp_path).

`write_gym_obj`: a bouldering gym as a Blender-style OBJ export: a 25 x 20 m room (Y up, floor
included as one 40-gon) with six wall sectors built from 12-gon panels that carry T-vertices along
their edges (limited-dissolve output), ~20,000 unused `v` lines of scan leftovers, and the floor
off the origin. `GYM_SECTORS` is the truth the importer should recover.

`write_boulder_stl`: a 10.8 x 13.1 x 1.9 ft bouldering wall (3.29 x 3.99 x 0.58 m) as a binary STL
in feet, lying in the file's XY plane (its face toward +z), with ~110 14-sided pyramid holds, two volumes,
STL's three vertices per triangle, zero-area and repeated faces.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

ROOM_X, ROOM_Y, WALL_H = 25.0, 20.0, 3.5
FEET = 0.3048
"""Metres per foot: the unit of the boulder STL."""
BOULDER_FT = (10.8, 13.1, 1.9)
"""Width, height, depth of the boulder wall in file units (feet)."""

# Truth per sector: kind, angle from vertical (deg), width and height (m), facing at the foot.
GYM_SECTORS = {
    "A": {"kind": "vertical", "angle": 0.0, "width": 5.0, "height": 3.5},
    "B": {"kind": "overhang", "angle": 25.0, "width": 5.0, "height": 3.5},
    "C": {"kind": "arete", "angle": 0.0, "width": 5.0, "height": 3.5},
    "D": {"kind": "vertical", "angle": 0.0, "width": 5.0, "height": 3.5},
    "E": {"kind": "slab", "angle": -15.0, "width": 6.0, "height": 3.5},
    "F": {"kind": "roof", "angle": 90.0, "width": 6.0, "height": 3.0},
}
GYM_FLOOR_FILE_Y = -0.35
"""Height of the gym's floor in the OBJ's (Y-up) coordinates, metres."""


def _panels() -> list[tuple[np.ndarray, np.ndarray]]:
    """Planar quads (bl, br, tr, tl corners, scene frame, z up) with the way each faces."""
    y_n, h = ROOM_Y / 2, WALL_H
    t25, t15 = np.tan(np.radians(25.0)), np.tan(np.radians(15.0))
    top_b = y_n - h * t25
    x_e = ROOM_X / 2
    x_w = -ROOM_X / 2
    s2 = np.sqrt(0.5)

    def quad(bl, br, tr, tl, facing):
        return np.array([bl, br, tr, tl], float), np.array(facing, float)

    return [
        # A vertical, north wall
        quad((-12.5, y_n, 0), (-7.5, y_n, 0), (-7.5, y_n, h), (-12.5, y_n, h), (0, -1, 0)),
        # B 25-degree overhang and its two side triangles (a degenerate quad: tl == tr)
        quad((-7.5, y_n, 0), (-2.5, y_n, 0), (-2.5, top_b, h), (-7.5, top_b, h), (0, -1, -t25)),
        quad((-7.5, y_n, 0), (-7.5, y_n, h), (-7.5, top_b, h), (-7.5, top_b, h), (-1, 0, 0)),
        quad((-2.5, y_n, 0), (-2.5, y_n, h), (-2.5, top_b, h), (-2.5, top_b, h), (1, 0, 0)),
        # C prow: two vertical faces meeting at a convex vertical edge (an arete)
        quad((-2.5, y_n, 0), (0, y_n - 2.5, 0), (0, y_n - 2.5, h), (-2.5, y_n, h), (-s2, -s2, 0)),
        quad((0, y_n - 2.5, 0), (2.5, y_n, 0), (2.5, y_n, h), (0, y_n - 2.5, h), (s2, -s2, 0)),
        # D vertical
        quad((2.5, y_n, 0), (7.5, y_n, 0), (7.5, y_n, h), (2.5, y_n, h), (0, -1, 0)),
        # E 15-degree slab on the east wall, with side triangles
        quad(
            (x_e - h * t15, -3, 0), (x_e - h * t15, 3, 0), (x_e, 3, h), (x_e, -3, h), (-1, 0, t15)
        ),
        quad((x_e - h * t15, 3, 0), (x_e, 3, 0), (x_e, 3, h), (x_e, 3, h), (0, 1, 0)),
        quad((x_e - h * t15, -3, 0), (x_e, -3, 0), (x_e, -3, h), (x_e, -3, h), (0, -1, 0)),
        # F roof block on the west wall: a 3 m kicker and a 1.2 m deep roof above it
        quad((x_w, -3, 0), (x_w, 3, 0), (x_w, 3, 3.0), (x_w, -3, 3.0), (1, 0, 0)),
        quad((x_w, -3, 3.0), (x_w, 3, 3.0), (x_w + 1.2, 3, 3.0), (x_w + 1.2, -3, 3.0), (0, 0, -1)),
    ]


class _Verts:
    """Vertex store that gives repeated points (the same float bits) one index."""

    def __init__(self) -> None:
        self.pts: list[tuple[float, float, float]] = []
        self.index: dict[tuple[float, float, float], int] = {}

    def add(self, p: np.ndarray) -> int:
        key = tuple(round(float(c), 9) for c in p)
        if key not in self.index:
            self.index[key] = len(self.pts)
            self.pts.append(tuple(float(c) for c in p))
        return self.index[key]


def _edge_points(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """n + 1 points from a to b, computed from the sorted ends so a shared edge matches."""
    flip = tuple(a) > tuple(b)
    lo, hi = (b, a) if flip else (a, b)
    pts = lo + np.linspace(0.0, 1.0, n + 1)[:, None] * (hi - lo)
    return pts[::-1] if flip else pts


def _tile_panel(verts: _Verts, corners: np.ndarray, facing: np.ndarray, tile: float, k: int):
    """12-gon tiles (k points per tile edge) covering a planar quad, wound to face `facing`."""
    bl, br, tr, tl = corners
    nu = max(1, round(max(np.linalg.norm(br - bl), np.linalg.norm(tr - tl)) / tile))
    nv = max(1, round(max(np.linalg.norm(tl - bl), np.linalg.norm(tr - br)) / tile))
    grid = np.empty((nv * k + 1, nu * k + 1, 3))
    left = _edge_points(bl, tl, nv * k)
    right = _edge_points(br, tr, nv * k)
    for i in range(nv * k + 1):
        grid[i] = _edge_points(left[i], right[i], nu * k)
    polys = []
    for ti in range(nv):
        for tj in range(nu):
            r0, r1, c0, c1 = ti * k, (ti + 1) * k, tj * k, (tj + 1) * k
            ring = [grid[r0, c] for c in range(c0, c1)]
            ring += [grid[r, c1] for r in range(r0, r1)]
            ring += [grid[r1, c] for c in range(c1, c0, -1)]
            ring += [grid[r, c0] for r in range(r1, r0, -1)]
            idx = list(dict.fromkeys(verts.add(p) for p in ring))  # a triangle tile repeats tl
            pts = np.array([verts.pts[i] for i in idx])
            normal = np.cross(pts, np.roll(pts, -1, axis=0)).sum(axis=0)
            if normal @ facing < 0:
                idx = idx[::-1]
            if len(idx) >= 3:
                polys.append(idx)
    return polys


def gym_mesh(tile: float = 1.25, k: int = 3) -> tuple[np.ndarray, list[list[int]]]:
    """The gym in scene coordinates (metres, z up, floor at z = 0) as polygon faces."""
    verts = _Verts()
    polys: list[list[int]] = []
    for corners, facing in _panels():
        polys += _tile_panel(verts, corners, facing, tile, k)
    x, y = ROOM_X / 2, ROOM_Y / 2
    ring = np.concatenate(
        [
            _edge_points(np.array(a), np.array(b), 10)[:-1]
            for a, b in (
                ((-x, -y, 0), (x, -y, 0)),
                ((x, -y, 0), (x, y, 0)),
                ((x, y, 0), (-x, y, 0)),
                ((-x, y, 0), (-x, -y, 0)),
            )
        ]
    )
    polys.append([verts.add(p) for p in ring])  # counter-clockwise seen from above: faces +z
    return np.array(verts.pts), polys


def y_up(points: np.ndarray) -> np.ndarray:
    """Scene (z up) -> a Y-up file frame (Blender's OBJ export): (x, z, -y)."""
    p = np.asarray(points, float)
    return np.stack([p[:, 0], p[:, 2], -p[:, 1]], axis=1)


def write_gym_obj(
    path: Path,
    *,
    unit_m: float = 1.0,
    transform: np.ndarray | None = None,
    n_unused: int = 20_000,
    seed: int = 0,
) -> Path:
    """Write the gym as a Y-up OBJ; `unit_m` metres per file unit; `transform` (3, 3) applied to
    the Y-up coordinates (a rotation, or an axis swap); unused vertices come first."""
    rng = np.random.default_rng(seed)
    v, polys = gym_mesh()
    fv = y_up(v) + np.array([3.0, GYM_FLOOR_FILE_Y, 7.0])
    lo, hi = fv.min(axis=0), fv.max(axis=0)
    junk = rng.uniform(lo, hi, size=(n_unused, 3))
    allv = np.vstack([junk, fv])
    if transform is not None:
        allv = allv @ np.asarray(transform, float).T
    allv = allv / unit_m
    lines = ["# Blender 4.1 OBJ export: gym scan (decimated, limited dissolve)", "o gym"]
    lines += [f"v {a:.6f} {b:.6f} {c:.6f}" for a, b, c in allv]
    lines += ["s 0"]
    lines += ["f " + " ".join(str(n_unused + i + 1) for i in p) for p in polys]
    path.write_text("\n".join(lines) + "\n")
    return path


# ----------------------------------------------------------------------------- boulder STL


def _grid_tris(corners: np.ndarray, nu: int, nv: int) -> np.ndarray:
    """(2 nu nv, 3, 3) triangles tiling a planar quad (bl, br, tr, tl) in its winding."""
    bl, br, tr, tl = corners
    s, t = np.meshgrid(np.linspace(0, 1, nu + 1), np.linspace(0, 1, nv + 1))
    p = (
        (1 - s)[..., None] * (1 - t)[..., None] * bl
        + s[..., None] * (1 - t)[..., None] * br
        + s[..., None] * t[..., None] * tr
        + (1 - s)[..., None] * t[..., None] * tl
    )
    a, b, c, d = p[:-1, :-1], p[:-1, 1:], p[1:, 1:], p[1:, :-1]
    return np.concatenate(
        [np.stack([a, b, c], -2).reshape(-1, 3, 3), np.stack([a, c, d], -2).reshape(-1, 3, 3)]
    )


def _box_tris(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Five outward faces (no back) of an axis-aligned box whose back is at y = lo[1]."""
    x0, y0, z0 = lo
    x1, y1, z1 = hi
    faces = [
        [(x1, y1, z0), (x0, y1, z0), (x0, y1, z1), (x1, y1, z1)],  # front, +y
        [(x0, y0, z0), (x0, y0, z1), (x0, y1, z1), (x0, y1, z0)],  # -x
        [(x1, y0, z0), (x1, y1, z0), (x1, y1, z1), (x1, y0, z1)],  # +x
        [(x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)],  # top
        [(x0, y0, z0), (x0, y1, z0), (x1, y1, z0), (x1, y0, z0)],  # bottom
    ]
    out = []
    for q in faces:
        q = np.array(q, float)
        out += [q[[0, 1, 2]], q[[0, 2, 3]]]
    return np.array(out)


def boulder_triangles(seed: int = 0) -> np.ndarray:
    """(T, 3, 3) triangles of the boulder wall in metres, z up, facing +y (no repairs needed)."""
    rng = np.random.default_rng(seed)
    w, h = BOULDER_FT[0] * FEET, BOULDER_FT[1] * FEET
    kick, tilt = 0.9, np.tan(np.radians(7.0))

    def wall_y(z):
        return np.where(z > kick, (z - kick) * tilt, 0.0)

    tris = [
        _grid_tris(
            np.array([(w / 2, 0, 0), (-w / 2, 0, 0), (-w / 2, 0, kick), (w / 2, 0, kick)]), 12, 4
        ),
        _grid_tris(
            np.array(
                [
                    (w / 2, 0, kick),
                    (-w / 2, 0, kick),
                    (-w / 2, float(wall_y(h)), h),
                    (w / 2, float(wall_y(h)), h),
                ]
            ),
            12,
            16,
        ),
    ]
    volumes = [((-1.2, 1.5), (-0.4, 2.1)), ((0.3, 3.2), (1.1, 3.8))]
    for (x0, z0), (x1, z1) in volumes:
        back = float(wall_y(z0))
        tris.append(_box_tris(np.array([x0, back, z0]), np.array([x1, back + 0.3, z1])))
    normal = np.array([0.0, 1.0, -tilt]) / np.hypot(1.0, tilt)
    xs, zs = np.meshgrid(np.linspace(-w / 2 + 0.2, w / 2 - 0.2, 10), np.linspace(0.25, h - 0.2, 12))
    for x, z in zip(xs.ravel(), zs.ravel()):
        x, z = x + rng.uniform(-0.06, 0.06), z + rng.uniform(-0.06, 0.06)
        if any(
            x0 - 0.1 < x < x1 + 0.1 and z0 - 0.1 < z < z1 + 0.1 for (x0, z0), (x1, z1) in volumes
        ):
            continue
        n = normal if z > kick else np.array([0.0, 1.0, 0.0])
        u = np.array([1.0, 0.0, 0.0])
        v = np.cross(n, u)
        r = rng.choice([0.05, 0.065, 0.09])
        centre = np.array([x, float(wall_y(z)), z])
        ang = np.linspace(0, 2 * np.pi, 15)[:-1]
        ring = centre + r * (np.cos(ang)[:, None] * u + np.sin(ang)[:, None] * v)
        apex = centre + n * 0.65 * r
        tris.append(np.stack([ring, np.roll(ring, -1, axis=0), np.tile(apex, (14, 1))], axis=1))
    return np.concatenate(tris)


def write_boulder_stl(path: Path, seed: int = 0) -> Path:
    """Write the boulder wall as a binary STL in feet lying in the XY plane (face toward +z),
    with 40 zero-area and 20 repeated triangles mixed in."""
    rng = np.random.default_rng(seed)
    tri = boulder_triangles(seed)
    # scene (x, y, z) -> file (-x, z, y): a proper rotation, so the winding still faces out
    tri = np.stack([-tri[..., 0], tri[..., 2], tri[..., 1]], axis=-1) / FEET
    degenerate = []
    for i in rng.choice(len(tri), 40, replace=False):
        a, b, _ = tri[i]
        degenerate.append(np.stack([a, b, a]) if i % 2 else np.stack([a, (a + b) / 2, b]))
    repeated = tri[rng.choice(len(tri), 20, replace=False)]
    tri = np.concatenate([tri, np.array(degenerate), repeated])
    tri = tri[rng.permutation(len(tri))]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    body = b"".join(struct.pack("<12fH", *n[i], *tri[i].ravel(), 0) for i in range(len(tri)))
    path.write_bytes(b"boulder wall, feet".ljust(80, b" ") + struct.pack("<I", len(tri)) + body)
    return path
