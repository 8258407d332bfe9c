"""Geometry helpers of the whole-gym import (`scenes.gym`): rotations, sampling, rays, frames.

Pure functions on arrays in the scene frame (metres, z up) except `up_rotation`.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.spatial

from scenes.sectors import SectorMesh
from scenes.surface import HeightMap, face_normals, plane_axes, rasterize_max, triangle_areas
from scenes.types import Camera, Spawn

TRIPOD_Z_M = 1.5
"""Height of a sector's tripod camera."""
SPAWN_OFF_M = 0.35
"""How far in front of its foot (or of an overhang's lowest 2 m) a sector's spawn stands."""


def up_rotation(up: np.ndarray) -> np.ndarray:
    """The smallest rotation taking the unit vector `up` to +z (a half turn about x for -z)."""
    u = np.asarray(up, np.float64) / np.linalg.norm(up)
    z = np.array([0.0, 0.0, 1.0])
    c = float(u @ z)
    if c < -1 + 1e-12:
        return np.diag([1.0, -1.0, -1.0])
    k = np.cross(u, z)
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    r = np.eye(3) + kx + kx @ kx / (1.0 + c)  # Rodrigues with sin = |k|, cos = c
    r[np.abs(r) < 1e-15] = 0.0
    return r


def front_area(hm: HeightMap, min_dot: float = 0.15) -> float:
    """Surface area (m^2) of a height map's cells whose normal is within acos(min_dot) of its
    frame normal: each cell's projected area divided by that cosine."""
    valid = ~np.isnan(hm.heights)
    cos = hm.normals(hm.filled()) @ hm.axes[2]
    ok = valid & (cos >= min_dot)
    return float((hm.cell**2 / cos[ok]).sum())


BODY_OFF_M, CLEARANCE_M = 0.3, 0.4
"""A climber on a hold has their body ~0.3 m out along its normal; it needs 0.4 m around that."""


def clear_of(
    pts: np.ndarray, nrm: np.ndarray, v: np.ndarray, others: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(N,) whether a climber on a hold at each point (normal `nrm`) keeps CLEARANCE_M from the
    triangles `others` (other sectors, ledges): no holds in a tight inside corner, where the
    body would be inside the neighbouring wall."""
    area = triangle_areas(v, others)
    n = int(min(200_000, max(1_000, area.sum() / 0.01)))  # a sample every ~10 cm
    idx = rng.choice(len(others), size=n, p=area / area.sum())
    r = rng.random((n, 2))
    r[r.sum(axis=1) > 1] = 1 - r[r.sum(axis=1) > 1]
    t = v[others[idx]]
    samples = t[:, 0] + r[:, :1] * (t[:, 1] - t[:, 0]) + r[:, 1:] * (t[:, 2] - t[:, 0])
    d, _ = scipy.spatial.cKDTree(samples).query(pts + BODY_OFF_M * nrm)
    return d >= CLEARANCE_M


def sector_axes(v: np.ndarray, fs: np.ndarray, sec: SectorMesh) -> np.ndarray:
    """Plane frame rows (u, v, n) over a sector: n its area-weighted mean normal (so every face
    of a roof's kicker or an arete's two sides faces it), u along the sector horizontally."""
    n = (face_normals(v, fs) * triangle_areas(v, fs)[:, None]).sum(axis=0)
    n = n / np.linalg.norm(n)
    lateral = np.cross([0.0, 0.0, 1.0], sec.facing)
    return plane_axes(n, lateral if np.linalg.norm(lateral) > 1e-6 else np.array([1.0, 0.0, 0.0]))


def compact(v: np.ndarray, fs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vertices `fs` uses, and `fs` renumbered to them."""
    used, inv = np.unique(fs, return_inverse=True)
    return v[used], inv.reshape(fs.shape)


def sector_heightmap(v: np.ndarray, fs: np.ndarray, sec: SectorMesh, cell: float) -> HeightMap:
    """Height map of one sector's faces over `sector_axes`, spanning that sector alone (cells
    of `cell` metres or more, at most ~1000 per side)."""
    vs, fc = compact(v, fs)
    axes = sector_axes(vs, fc, sec)
    p = vs @ axes.T
    ext = float(np.ptp(p[:, :2], axis=0).max())
    return rasterize_max(vs, fc, axes, max(cell, ext / 1000.0))


def ray_distance(v: np.ndarray, fs: np.ndarray, origin: np.ndarray, way: np.ndarray) -> float:
    """Distance along the unit vector `way` from `origin` to the first triangle of `fs`
    (Moller-Trumbore), inf if none."""
    t = v[fs]
    e1, e2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    p = np.cross(way, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - t[:, 0]
    a = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    b = (q @ way) * inv
    d = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (a >= 0) & (b >= 0) & (a + b <= 1) & (d > 1e-6)
    return float(d[hit].min()) if hit.any() else math.inf


def camera_for(v: np.ndarray, fs: np.ndarray, sec: SectorMesh, name: str) -> Camera:
    """A 640x480, 60-degree vertical-FOV tripod on the floor in front of a sector, far enough
    back to frame it, but short of whatever stands behind the camera's spot (other walls)."""
    w, h = 640, 480
    fy = (h / 2) / math.tan(math.radians(30.0))
    need = max(sec.height / 2 / (h / 2 / fy), sec.width / 2 / (w / 2 / fy)) * 1.1
    look = sec.base + np.array([0.0, 0.0, sec.height / 2])
    start = sec.base + np.array([0.0, 0.0, TRIPOD_Z_M]) + 0.3 * sec.facing
    free = ray_distance(v, fs, start, sec.facing)
    dist = min(need, max(1.0, 0.85 * free))
    pos = start + sec.facing * dist
    return Camera(
        name=name,
        pos=tuple(round(float(x), 4) for x in pos),
        lookat=tuple(round(float(x), 4) for x in look),
        width=w,
        height=h,
        fx=round(fy, 4),
        fy=round(fy, 4),
        cx=w / 2,
        cy=h / 2,
    )


def spawn_for(v: np.ndarray, fs: np.ndarray, sec: SectorMesh) -> Spawn:
    """Standing SPAWN_OFF_M in front of the sector's foot, or of whatever of it hangs out
    further below 2 m (an overhang), facing it."""
    pts = v[np.unique(fs)]
    low = pts[pts[:, 2] < 2.0]
    ahead = float(((low - sec.base) @ sec.facing).max()) if len(low) else 0.0
    pos = sec.base + sec.facing * (max(ahead, 0.0) + SPAWN_OFF_M)
    yaw = math.atan2(-sec.facing[0], sec.facing[1])  # the rest pose faces -y
    return Spawn(pos=(round(float(pos[0]), 4), round(float(pos[1]), 4), 0.95), yaw=round(yaw, 6))


def overview_camera(v: np.ndarray, fs: np.ndarray) -> Camera:
    """The scene's first camera: from a floor corner, looking at the middle of the room."""
    pts = v[np.unique(fs)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pos = np.array([lo[0] + 0.5, lo[1] + 0.5, min(2.5, float(hi[2]) - 0.2)])
    centre = np.array([0.0, 0.0, float(hi[2]) / 3])
    d = ray_distance(v, fs, pos, (centre - pos) / np.linalg.norm(centre - pos))
    if d < np.linalg.norm(centre - pos):
        pos = np.array([0.0, 0.0, pos[2]])  # the corner is walled off: stand in the middle
        centre = np.array([0.0, 1.0, float(hi[2]) / 3])
    fy = 240.0 / math.tan(math.radians(30.0))
    return Camera(
        "tripod",
        tuple(round(float(x), 4) for x in pos),
        tuple(round(float(x), 4) for x in centre),
        640,
        480,
        round(fy, 4),
        round(fy, 4),
        320.0,
        240.0,
    )
