"""Find climbing holds on a wall mesh as compact protrusions from the wall surface.

Method (all on a `HeightMap` over the wall plane, heights along the wall normal):
1. Background surface = grey-scale morphological opening of the height map with a flat square
   window `background_m` wide. Opening removes bumps narrower than the window and keeps
   planes, tilted panels and volumes wider than it, so it follows angled and multi-panel walls.
2. Residual = height - background; cells with residual > `min_protrusion_m` are protrusions;
   a 3x3 binary opening removes thin fringes along volume edges.
3. 8-connected components of protrusion cells are candidate holds; components whose
   equivalent radius lies outside [min_radius_m, max_radius_m] or that are long and thin
   (elongation > max_elongation: the cut-off ridge of a volume, not a hold) are dropped, and
   so are components with the top of a volume right next to them (over 20 % of the 3-cell
   ring around them reaches their top height: an edge fringe, not a hold).
4. Each kept component becomes a `Hold`: position = halfway between the wall (background) and
   the component's highest point, along the background's normal there (the centre of the
   bump, the same convention as generated holds, so the hold geoms navenv.world builds sit on
   the scanned bumps), normal = that background normal, size = equivalent radius sqrt(area / pi),
   kind from `guess_kind`, colour = mean vertex colour near the top when the mesh has colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.spatial

from scenes.errors import SceneError
from scenes.surface import HeightMap
from scenes.types import RGBA, Hold

DEFAULT_HOLD_RGBA: RGBA = (0.9, 0.2, 0.2, 1.0)
"""Colour given to detected holds when the mesh has no colours."""


@dataclass
class HoldDetectConfig:
    """Parameters of protrusion-based hold detection (lengths in metres)."""

    cell_m: float = 0.01
    """Height-map cell edge; holds need a few cells across."""
    background_m: float = 0.35
    """Opening window: wider than the largest hold, narrower than volumes and panels."""
    min_protrusion_m: float = 0.012
    """Residual height above the background that counts as part of a hold."""
    min_radius_m: float = 0.015
    """Smaller components are texture or scan noise."""
    max_radius_m: float = 0.25
    """Larger components are volumes or features, not holds."""
    max_elongation: float = 4.0
    """Ratio of principal extents above which a component is a ridge, not a hold."""
    foothold_max_z_m: float = 0.6
    """Small holds lower than this above the floor are footholds."""
    big_radius_m: float = 0.06
    """Holds at least this big are jugs (deep) or slopers (shallow)."""
    deep_ratio: float = 0.5
    """Protrusion / radius at or above which a big hold is a jug rather than a sloper."""
    shallow_m: float = 0.025
    """Small holds protruding less than this are crimps, deeper ones pinches."""

    def __post_init__(self) -> None:
        for name in (
            "cell_m",
            "background_m",
            "min_protrusion_m",
            "min_radius_m",
            "max_radius_m",
            "max_elongation",
            "big_radius_m",
            "deep_ratio",
            "shallow_m",
        ):
            val = getattr(self, name)
            if not (isinstance(val, int | float) and np.isfinite(val) and val > 0):
                raise SceneError(f"HoldDetectConfig.{name} must be a positive number, got {val!r}")
        if self.min_radius_m >= self.max_radius_m:
            raise SceneError(
                f"HoldDetectConfig: min_radius_m ({self.min_radius_m}) must be "
                f"below max_radius_m ({self.max_radius_m})"
            )
        if self.background_m < 2 * self.cell_m:
            raise SceneError(
                f"HoldDetectConfig.background_m ({self.background_m}) must span at "
                f"least two cells of {self.cell_m}"
            )


def guess_kind(radius_m: float, depth_m: float, height_m: float, cfg: HoldDetectConfig) -> str:
    """Hold kind from size and shape: low+small foothold, big deep jug, big shallow sloper,
    small shallow crimp, small deep pinch."""
    if radius_m < cfg.big_radius_m:
        if height_m < cfg.foothold_max_z_m:
            return "foothold"
        return "crimp" if depth_m < cfg.shallow_m else "pinch"
    return "jug" if depth_m >= cfg.deep_ratio * radius_m else "sloper"


@dataclass
class Protrusion:
    """One detected protrusion before it becomes a `Hold` (frame and world quantities)."""

    top: np.ndarray  # (3,) world position of the highest point above the background
    normal: np.ndarray  # (3,) unit background normal at the top
    radius_m: float
    depth_m: float
    elongation: float


def _on_plateau_edge(
    h: np.ndarray,
    labels: np.ndarray,
    k: int,
    sl: tuple,
    depth: float,
    ring_cells: int = 3,
    max_share: float = 0.2,
) -> bool:
    """True if over `max_share` of the ring around component k comes within 10 % of `depth`
    (its protrusion above the background) of its top height.

    A hold stands above everything around it; a fringe along a volume's edge (jagged
    rasterisation, scan noise) has the volume's top right next to it.
    """
    r0, r1 = max(sl[0].start - ring_cells, 0), min(sl[0].stop + ring_cells, h.shape[0])
    c0, c1 = max(sl[1].start - ring_cells, 0), min(sl[1].stop + ring_cells, h.shape[1])
    comp = labels[r0:r1, c0:c1] == k
    ring = scipy.ndimage.binary_dilation(comp, iterations=ring_cells) & ~comp
    if not ring.any():
        return False
    local = h[r0:r1, c0:c1]
    top = float(local[comp].max())
    return float(np.mean(local[ring] >= top - 0.1 * depth)) > max_share


def find_protrusions(hm: HeightMap, cfg: HoldDetectConfig) -> list[Protrusion]:
    """Compact protrusions above the opened background surface of `hm`."""
    valid = ~np.isnan(hm.heights)
    if not valid.any():
        raise SceneError("cannot detect holds: the wall height map is empty")
    h = hm.filled()
    win = max(3, round(cfg.background_m / hm.cell) | 1)
    bg = scipy.ndimage.grey_opening(h, size=(win, win), mode="nearest")
    resid = np.where(valid, h - bg, 0.0)
    # A 3x3 opening drops 1-2 cell thin fringes along the edges of volumes (their edge lands
    # on either side of a cell boundary); holds are several cells across and survive it.
    mask = scipy.ndimage.binary_opening(resid > cfg.min_protrusion_m, structure=np.ones((3, 3)))
    labels, n = scipy.ndimage.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        return []
    normals = hm.normals(bg, smooth_cells=max(1.0, 0.05 / hm.cell))
    uu, vv = hm.centres()
    out: list[Protrusion] = []
    for k, sl in enumerate(scipy.ndimage.find_objects(labels), start=1):
        mask = labels[sl] == k
        area = float(mask.sum()) * hm.cell**2
        radius = float(np.sqrt(area / np.pi))
        if not cfg.min_radius_m <= radius <= cfg.max_radius_m:
            continue
        ii, jj = np.nonzero(mask)
        if len(ii) >= 3:
            ev = np.linalg.eigvalsh(np.cov(np.stack([ii, jj]).astype(np.float64)))
            elong = float(np.sqrt(max(ev[1], 1e-12) / max(ev[0], 1.0 / 12.0)))
        else:
            elong = 1.0
        if elong > cfg.max_elongation:
            continue
        r_loc = np.where(mask, resid[sl], -np.inf)
        if _on_plateau_edge(h, labels, k, sl, float(r_loc.max())):
            continue
        ti, tj = np.unravel_index(int(np.argmax(r_loc)), mask.shape)
        gi, gj = ti + sl[0].start, tj + sl[1].start
        top = hm.to_world(np.array([[uu[gi, gj], vv[gi, gj], h[gi, gj]]]))[0]
        out.append(Protrusion(top, normals[gi, gj], radius, float(resid[gi, gj]), elong))
    return out


def detect_holds(
    hm: HeightMap,
    *,
    cfg: HoldDetectConfig | None = None,
    up: tuple[float, float, float] = (0.0, 0.0, 1.0),
    floor_z: float = 0.0,
    vertices: np.ndarray | None = None,
    vertex_colors: np.ndarray | None = None,
    default_rgba: RGBA = DEFAULT_HOLD_RGBA,
) -> list[Hold]:
    """Holds on the wall described by `hm` (scene frame, metres), ids h000.. bottom to top.

    `vertices`/`vertex_colors` (world, RGBA in [0, 1]) colour each hold with the mean colour
    of the vertices within 0.8 x its radius of its top; otherwise `default_rgba`.
    """
    cfg = cfg or HoldDetectConfig()
    up_v = np.asarray(up, np.float64)
    prots = find_protrusions(hm, cfg)
    prots.sort(key=lambda p: (round(float(p.top @ up_v), 6), round(float(p.top[0]), 6)))
    tree = None
    if vertices is not None and vertex_colors is not None and len(vertices):
        tree = scipy.spatial.cKDTree(vertices)
    holds: list[Hold] = []
    for i, p in enumerate(prots):
        height = float(p.top @ up_v) - floor_z
        kind = guess_kind(p.radius_m, p.depth_m, height, cfg)
        rgba = default_rgba
        if tree is not None:
            near = tree.query_ball_point(p.top, r=0.8 * p.radius_m)
            if not near:
                near = [int(tree.query(p.top)[1])]
            c = np.clip(np.asarray(vertex_colors)[near].mean(axis=0), 0.0, 1.0)
            rgba = (float(c[0]), float(c[1]), float(c[2]), 1.0)
        holds.append(
            Hold(
                id=f"h{i:03d}",
                position=tuple(float(x) for x in p.top - 0.5 * p.depth_m * p.normal),
                normal=tuple(float(x) for x in p.normal),
                size=round(p.radius_m, 4),
                kind=kind,
                rgba=rgba,
            )
        )
    return holds


def surface_points(
    hm: HeightMap, n: int, rng: np.random.Generator, *, min_normal_dot: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """`n` random points on the height surface with their unit normals (world, metres).

    Cells whose normal deviates from the frame normal by more than acos(min_normal_dot)
    (steep flanks of volumes and holds) are excluded, as are empty cells.
    """
    valid = ~np.isnan(hm.heights)
    h = hm.filled()
    normals = hm.normals(h)
    ok = valid & (normals @ hm.axes[2] >= min_normal_dot)
    cand = np.flatnonzero(ok.reshape(-1))
    if len(cand) == 0:
        raise SceneError("no wall surface cells to place holds on")
    pick = rng.choice(cand, size=min(n, len(cand)), replace=False)
    i, j = np.unravel_index(pick, h.shape)
    jitter = (rng.random((len(pick), 2)) - 0.5) * hm.cell
    uu, vv = hm.centres()
    uvh = np.stack([uu[i, j] + jitter[:, 0], vv[i, j] + jitter[:, 1], h[i, j]], axis=1)
    return hm.to_world(uvh), normals[i, j]
