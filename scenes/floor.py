"""Find the floor of a whole-gym scan, and with it which way is up.

A single wall is oriented by its dominant plane (`scenes.orientation.place_wall`). In a scan of
a whole gym the dominant plane is the floor, and the walls around it face every way, so up must
come from evidence that survives a whole gym. `find_floor` tries as up each direction normal to
one of the scan's largest planar clusters (cube-map histogram of area-weighted face normals),
both ways, and accepts one when:

1. floor: the lowest plane across it covers >= `MIN_COVER` of the scan's footprint (the convex
   hull of every vertex projected along it): a floor spans the room;
2. nothing below: at most 2 % of the surface lies below that plane;
3. walls rise from it: faces within 50 degrees of vertical form connected parts that start near
   the floor and reach >= 60 % of the scan's height, with >= 5 % of the floor's area, and their
   feet line >= 20 % of the footprint's outline (walls stand around a floor; the volumes of a
   wall lying on its back stand inside it);
4. gravity: the height along it is a climbing wall's (2.5-25 m) in some unit of
   `scenes.orientation.WALL_UNITS`.

Of the accepted directions the one with the largest floor wins (a gym is wider than tall, so
its floor outsizes every wall). The floor's faces must face up; if they are wound facing down
the whole file's winding is flipped (a mirrored export) and reported. All in file units;
footprints are scipy.spatial convex hulls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import scipy.spatial

from scenes.orientation import WALL_UNITS
from scenes.surface import face_normals, triangle_areas

MIN_COVER = 0.4
"""Share of the footprint the floor must cover."""
STEEP_SIN = np.sin(np.radians(50.0))
"""Faces whose normal is within 50 degrees of horizontal count as wall (|n . up| below this)."""
FLOOR_COS = np.cos(np.radians(15.0))
"""Faces within 15 degrees of facing along a candidate up belong to its floor plane."""
MIN_EDGE_SHARE = 0.2
"""Share of the footprint's outline walls must stand along."""
GYM_HEIGHT_M = (2.5, 25.0)
"""Heights (metres) a gym's walls can have."""
_BINS = 24  # cube-map bins per side for the normal histogram (about 4 degrees each)


@dataclass
class FloorFit:
    """The floor of a gym scan, in the file's frame and units."""

    up: np.ndarray  # (3,) unit, file frame
    height: float  # the floor plane's offset along `up`, file units
    faces: np.ndarray  # (F,) bool: faces on the floor plane
    wall_height: float  # how far the walls rise above the floor, file units
    flipped: bool  # the file's winding faces inward: flip every face
    evidence: list[str] = field(default_factory=list)  # why, for metadata.fixes


def _clusters(n: np.ndarray, area: np.ndarray, k: int = 4) -> list[np.ndarray]:
    """Up to k unsigned directions holding the most face area within 10 degrees of them."""
    a = np.abs(n)
    dom = np.argmax(a, axis=1)
    sgn = np.where(n[np.arange(len(n)), dom] < 0, -1.0, 1.0)
    m = n * sgn[:, None]  # unsigned: the dominant component made positive
    other = np.array([[1, 2], [0, 2], [0, 1]])[dom]
    uv = (
        np.take_along_axis(m, other, axis=1) / np.maximum(m[np.arange(len(m)), dom], 1e-12)[:, None]
    )
    cell = np.clip(((uv + 1.0) / 2.0 * _BINS).astype(np.int64), 0, _BINS - 1)
    key = (dom * _BINS + cell[:, 0]) * _BINS + cell[:, 1]
    mass = np.bincount(key, weights=area, minlength=3 * _BINS * _BINS)
    d, i, j = np.unravel_index(np.arange(len(mass)), (3, _BINS, _BINS))
    centre = np.zeros((len(mass), 3))
    centre[np.arange(len(mass)), d] = 1.0
    oth = np.array([[1, 2], [0, 2], [0, 1]])[d]
    centre[np.arange(len(mass)), oth[:, 0]] = (i + 0.5) / _BINS * 2 - 1
    centre[np.arange(len(mass)), oth[:, 1]] = (j + 0.5) / _BINS * 2 - 1
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    near = np.abs(centre @ centre.T) > np.cos(np.radians(10.0))
    out: list[np.ndarray] = []
    left = mass.copy()
    while len(out) < k:
        score = near @ left
        best = int(np.argmax(score))
        if score[best] <= 0:
            break
        c = centre[best]
        members = np.abs(n @ c) > np.cos(np.radians(12.0))
        direction = (area[members, None] * np.sign(n[members] @ c)[:, None] * n[members]).sum(0)
        if np.linalg.norm(direction) <= 0:  # the bin's neighbours' faces are too far from it
            left[best] = 0.0
            continue
        direction /= np.linalg.norm(direction)
        snapped = np.abs(direction) > np.cos(np.radians(1.0))  # an axis-aligned file stays exact
        if snapped.any():
            direction = np.where(snapped, np.sign(direction), 0.0)
        out.append(direction)
        left[np.abs(centre @ direction) > np.cos(np.radians(25.0))] = 0.0
    return out


def _components(f: np.ndarray, mask: np.ndarray, n_vertices: int) -> np.ndarray:
    """Label of each face in `mask` by the connected part (shared vertices) it belongs to."""
    ff = f[mask]
    e = np.concatenate([ff[:, [0, 1]], ff[:, [1, 2]]])
    g = scipy.sparse.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), (n_vertices, n_vertices))
    _, label = scipy.sparse.csgraph.connected_components(g, directed=False)
    out = np.full(len(f), -1, np.int64)
    out[mask] = label[ff[:, 0]]
    return out


def _edge_share(v, fw, up, level, height, basis, hull) -> float:
    """Share of the footprint's outline that has the foot of a rising wall (a surface sample
    within 15 % of the height above the floor) within 2 % of the footprint's size of it."""
    area = triangle_areas(v, fw)
    rng = np.random.default_rng(0)  # fixed: the answer must not depend on the import's seed
    idx = rng.choice(len(fw), size=20_000, p=area / area.sum())
    r = rng.random((len(idx), 2))
    r[r.sum(axis=1) > 1] = 1 - r[r.sum(axis=1) > 1]
    t = v[fw[idx]]
    pts = t[:, 0] + r[:, :1] * (t[:, 1] - t[:, 0]) + r[:, 1:] * (t[:, 2] - t[:, 0])
    feet = pts[pts @ up - level <= 0.15 * height] @ basis
    if not len(feet):
        return 0.0
    ring = hull.points[hull.vertices]
    seg = np.roll(ring, -1, axis=0) - ring
    length = np.linalg.norm(seg, axis=1)
    steps = np.linspace(0.0, length.sum(), 400, endpoint=False)
    k = np.searchsorted(np.cumsum(length), steps, side="right")
    start = np.concatenate([[0.0], np.cumsum(length)])[k]
    probe = ring[k] + seg[k] * ((steps - start) / np.maximum(length[k], 1e-300))[:, None]
    d, _ = scipy.spatial.cKDTree(feet).query(probe)
    return float(np.mean(d <= 0.02 * np.sqrt(hull.volume)))


def _try(v, f, n, area, up, total) -> tuple[FloorFit | None, str]:
    """Test `up` against the four conditions; the fit, or None and why not."""
    hv = v @ up
    hc = v[f].mean(axis=1) @ up
    lo, height = float(hv.min()), float(np.ptp(hv))
    if height <= 0:
        return None, "flat"
    facing = np.abs(n @ up) > FLOOR_COS
    low = facing & (hc <= lo + 0.05 * height)
    if not low.any():
        return None, "no plane at the bottom"
    level = float(np.average(hc[low], weights=area[low] + 1e-300))
    floor = facing & (np.abs(hc - level) <= 0.02 * height)
    floor_area = float(area[floor].sum())
    basis = np.linalg.svd(np.eye(3) - np.outer(up, up))[0][:, :2]
    used = np.unique(f)
    pts2 = v[used] @ basis
    try:
        hull = scipy.spatial.ConvexHull(pts2)
    except scipy.spatial.QhullError:
        return None, "no footprint"
    cover = floor_area / max(hull.volume, 1e-300)  # a 2-D hull's volume is its area
    if cover < MIN_COVER:
        return None, f"its lowest plane covers {cover:.0%} of the footprint"
    below = float(area[hc < level - 0.05 * height].sum()) / total
    if below > 0.02:
        return None, f"{below:.0%} of the surface lies below its lowest plane"
    steep = np.abs(n @ up) < STEEP_SIN
    label = _components(f, steep, len(v))
    rising = np.zeros(len(f), bool)
    wall_top = 0.0
    if steep.any():
        ids = label[steep]
        vmin = np.full(ids.max() + 1, np.inf)
        vmax = np.full(ids.max() + 1, -np.inf)
        fh = hv[f[steep]] - level
        np.minimum.at(vmin, ids, fh.min(axis=1))
        np.maximum.at(vmax, ids, fh.max(axis=1))
        ok = (vmin <= 0.15 * height) & (vmax >= 0.6 * height)
        rising[steep] = ok[ids]
        wall_top = float(vmax[ok].max()) if ok.any() else 0.0
    wall_area = float(area[rising].sum())
    if wall_area < 0.05 * floor_area:
        return None, "no walls rise from its lowest plane"
    along = _edge_share(v, f[rising], up, level, height, basis, hull)
    if along < MIN_EDGE_SHARE:
        return None, f"walls rise along {along:.0%} of its edge, not around it"
    if not any(GYM_HEIGHT_M[0] <= wall_top * u <= GYM_HEIGHT_M[1] for u, _ in WALL_UNITS):
        return None, f"walls {wall_top:.3g} units tall are no gym's in any unit"
    flipped = float((area[floor] * (n[floor] @ up)).sum()) < 0
    fit = FloorFit(up, level, floor, wall_top, flipped)
    fit.evidence = [
        f"a floor plane of {floor_area:.4g} file units^2 covering {min(cover, 1.0):.0%} of the "
        f"footprint, nothing below it, walls of {wall_area:.4g} units^2 rising "
        f"{wall_top:.4g} units from its edges"
    ]
    return fit, "ok"


def _name(up: np.ndarray) -> str:
    axis = int(np.argmax(np.abs(up)))
    if abs(up[axis]) > 1 - 1e-9:
        return ("+" if up[axis] > 0 else "-") + "xyz"[axis]
    return "[" + ", ".join(f"{c:.3f}" for c in up) + "]"


def find_floor(v: np.ndarray, f: np.ndarray, up: str = "auto", fmt: str = "obj") -> FloorFit | None:
    """The floor of a gym scan (file frame and units), or None when the mesh is no gym.

    `up` ("auto", or the file's up axis "x"/"y"/"z") limits the candidates; `fmt` breaks a tie
    between a floor and a ceiling (OBJ/glTF are Y-up by convention, the rest Z-up).
    """
    if len(f) == 0:
        return None
    v = np.asarray(v, np.float64)
    n = face_normals(v, f)
    area = triangle_areas(v, f)
    total = float(area.sum())
    if total <= 0:
        return None
    if up == "auto":
        dirs = _clusters(n, area)
    else:
        dirs = [np.eye(3)[("xyz").index(up)]]
    fits, rejected = [], []
    for d in dirs:
        for s in (1.0, -1.0):
            fit, why = _try(v, f, n, area, s * d, total)
            (fits.append(fit) if fit is not None else rejected.append(f"{_name(s * d)}: {why}"))
    if not fits:
        return None
    conv = np.eye(3)[1 if fmt in ("obj", "glb", "gltf") else 2]
    best = max(fits, key=lambda x: (round(float(x.faces @ area) / total, 3), float(x.up @ conv)))
    best.evidence = [
        f"up is file {_name(best.up)}: {best.evidence[0]}"
        + (
            "; the floor's faces were wound facing down, so every face was flipped"
            if best.flipped
            else ""
        ),
        "other up candidates: "
        + "; ".join([f"{_name(x.up)}: a smaller floor" for x in fits if x is not best] + rejected),
    ]
    return best
