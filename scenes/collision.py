"""Collision geometry for imported meshes: heightfields and cached convex decompositions.

Strategy choice (`choose_strategy`): a climbing wall gets a heightfield over its fitted plane
when a heightfield represents at least `HEIGHTFIELD_MIN_FRACTION` (95 %) of the surface area
that faces the climber (see `scenes.surface.representable_area_fraction`): surface is either on
the height surface or buried inside a solid (the wall behind a bolted-on volume), so the wall
has no significant overhang with free space under it, and when its relief (1st-99th percentile
of heights along the normal) is at most `MAX_RELIEF_RATIO` (half) of its smaller in-plane
extent: deeper objects are free-standing blocks that a climber can walk around. Everything else gets a CoACD convex
decomposition, computed on a decimated copy of the mesh and cached on disk under the SHA-256 of
the mesh bytes and the CoACD settings, so a second import of the same mesh only copies files.

Cache directory: the `cache_dir` argument, else `$NAVENV_CACHE_DIR/coacd`, else
`~/.cache/navenv/coacd`. Each entry is a folder `<hash>/` with `piece_000.obj`, ... and
`manifest.json`; entries are written to a temporary folder and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from scenes.errors import SceneError
from scenes.mesh_formats import write_obj
from scenes.surface import HeightMap
from scenes.types import Heightfield

HEIGHTFIELD_MIN_FRACTION = 0.95
"""Minimum share of climber-facing area a heightfield must represent to be chosen."""
MAX_RELIEF_RATIO = 0.5
"""Largest relief / smaller in-plane extent for which a wall still counts as a wall."""
CACHE_FORMAT = 1
"""Bump when the cache layout or the decomposition pipeline changes (invalidates entries)."""


def default_cache_dir() -> Path:
    """`$NAVENV_CACHE_DIR/coacd` if the variable is set, else `~/.cache/navenv/coacd`."""
    root = os.environ.get("NAVENV_CACHE_DIR")
    return Path(root) / "coacd" if root else Path.home() / ".cache" / "navenv" / "coacd"


@dataclass
class CoacdConfig:
    """CPU-friendly CoACD settings (see coacd.run_coacd); lengths relative to the mesh size."""

    threshold: float = 0.08
    """Concavity threshold in [0.01, 1]; larger = fewer, coarser pieces, faster."""
    max_convex_hull: int = 32
    """Upper bound on the number of pieces (-1 = unlimited)."""
    preprocess_mode: str = "auto"
    """"auto" remeshes only non-manifold input (scans), "on" always, "off" never."""
    preprocess_resolution: int = 30
    """Voxel resolution of the manifold remesh; low keeps it fast."""
    resolution: int = 1000
    """Surface samples per cut evaluation."""
    mcts_nodes: int = 10
    mcts_iterations: int = 60
    mcts_max_depth: int = 2
    max_faces: int = 20_000
    """Meshes with more faces are decimated by vertex clustering before CoACD."""
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.01 <= self.threshold <= 1.0:
            raise SceneError(f"CoacdConfig.threshold must be in [0.01, 1], got {self.threshold}")
        if self.preprocess_mode not in ("auto", "on", "off"):
            raise SceneError(
                f"CoacdConfig.preprocess_mode must be 'auto', 'on' or 'off', "
                f"got {self.preprocess_mode!r}"
            )
        if self.max_convex_hull == 0 or self.max_convex_hull < -1:
            raise SceneError(
                f"CoacdConfig.max_convex_hull must be -1 or >= 1, got {self.max_convex_hull}"
            )
        for name in (
            "preprocess_resolution",
            "resolution",
            "mcts_nodes",
            "mcts_iterations",
            "mcts_max_depth",
            "max_faces",
        ):
            if int(getattr(self, name)) < 1:
                raise SceneError(f"CoacdConfig.{name} must be >= 1, got {getattr(self, name)}")


def decimate(v: np.ndarray, f: np.ndarray, max_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertex-clustering decimation to at most `max_faces` faces (shape-preserving, not exact).

    Vertices are snapped to a grid whose cell grows by 1.25x until few enough distinct
    triangles survive; each cluster is replaced by its mean.
    """
    if len(f) <= max_faces:
        return v, f
    ext = float(np.ptp(v, axis=0).max())
    cell = ext * np.sqrt(2.0 / max_faces)
    for _ in range(60):
        key = np.floor((v - v.min(0)) / cell).astype(np.int64)
        _, inv = np.unique(key, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        nf = inv[f]
        nf = nf[(nf[:, 0] != nf[:, 1]) & (nf[:, 1] != nf[:, 2]) & (nf[:, 0] != nf[:, 2])]
        nf = np.unique(np.sort(nf, axis=1), axis=0, return_index=True)[1]
        if len(nf) <= max_faces:
            break
        cell *= 1.25
    cnt = np.bincount(inv)
    nv = np.stack([np.bincount(inv, weights=v[:, d]) for d in range(3)], axis=1) / cnt[:, None]
    faces = inv[f]
    keep = (
        (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    )
    faces = faces[keep]
    faces = faces[np.sort(np.unique(np.sort(faces, axis=1), axis=0, return_index=True)[1])]
    return nv, faces


def mesh_key(v: np.ndarray, f: np.ndarray, cfg: CoacdConfig) -> str:
    """SHA-256 over the mesh bytes, the CoACD settings and the cache format."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(v, np.float64).tobytes())
    h.update(np.ascontiguousarray(f, np.int64).tobytes())
    h.update(json.dumps({"cfg": asdict(cfg), "format": CACHE_FORMAT}, sort_keys=True).encode())
    return h.hexdigest()


@dataclass
class Decomposition:
    """Convex pieces of a mesh as OBJ files in the cache."""

    key: str
    files: list[Path]
    cache_hit: bool
    input_faces: int  # faces handed to CoACD after decimation


def _read_entry(entry: Path) -> list[Path] | None:
    """Piece files of a complete cache entry, or None if missing or damaged."""
    try:
        manifest = json.loads((entry / "manifest.json").read_text())
        files = [entry / name for name in manifest["pieces"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if manifest.get("format") != CACHE_FORMAT or not files or not all(p.is_file() for p in files):
        return None
    return files


def convex_decomposition(
    v: np.ndarray, f: np.ndarray, *, cache_dir: Path | None = None, cfg: CoacdConfig | None = None
) -> Decomposition:
    """Convex pieces of the mesh from the cache, or computed with CoACD and cached."""
    cfg = cfg or CoacdConfig()
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = mesh_key(v, f, cfg)
    entry = cache_dir / key
    files = _read_entry(entry)
    dv, df = decimate(v, f, cfg.max_faces)
    if files is not None:
        return Decomposition(key, files, True, len(df))
    import coacd

    coacd.set_log_level("error")
    parts = coacd.run_coacd(
        coacd.Mesh(dv, df),
        threshold=cfg.threshold,
        max_convex_hull=cfg.max_convex_hull,
        preprocess_mode=cfg.preprocess_mode,
        preprocess_resolution=cfg.preprocess_resolution,
        resolution=cfg.resolution,
        mcts_nodes=cfg.mcts_nodes,
        mcts_iterations=cfg.mcts_iterations,
        mcts_max_depth=cfg.mcts_max_depth,
        seed=cfg.seed,
    )
    parts = [(np.asarray(pv), np.asarray(pf)) for pv, pf in parts if len(pf) >= 4]
    if not parts:
        raise SceneError(f"CoACD returned no convex pieces for a mesh of {len(df)} faces")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=cache_dir))
    names = [f"piece_{i:03d}.obj" for i in range(len(parts))]
    for name, (pv, pf) in zip(names, parts, strict=True):
        write_obj(tmp / name, pv, pf)
    (tmp / "manifest.json").write_text(
        json.dumps(
            {"format": CACHE_FORMAT, "pieces": names, "coacd": asdict(cfg), "input_faces": len(df)},
            indent=1,
        )
    )
    if entry.exists():  # damaged entry (or a concurrent writer): replace it
        shutil.rmtree(entry, ignore_errors=True)
    try:
        os.replace(tmp, entry)
    except OSError:  # another process won the race; its entry is equivalent
        shutil.rmtree(tmp, ignore_errors=True)
    files = _read_entry(entry)
    if files is None:
        raise SceneError(f"could not write the convex-decomposition cache entry {entry}")
    return Decomposition(key, files, False, len(df))


def heightfield_from_map(
    hm: HeightMap, *, base_m: float = 0.1, max_side: int = 1024
) -> Heightfield:
    """A `Heightfield` sampling `hm` at its cell centres (empty cells at the lowest height).

    The field's local frame has x = hm.axes[0], y = hm.axes[1], z = hm.axes[2] (the wall
    normal); row i runs along +y, column j along +x, like MuJoCo's hfield. Heights are metres
    above `pos`, which sits at the lowest surface point's level, so all heights are >= 0.
    """
    if base_m <= 0:
        raise SceneError(f"heightfield base must be positive metres, got {base_m}")
    nv, nu = hm.heights.shape
    if nv < 2 or nu < 2:
        raise SceneError(f"heightfield needs at least 2x2 cells, the wall map has {nv}x{nu}")
    if max(nv, nu) > max_side:
        raise SceneError(f"heightfield {nv}x{nu} exceeds {max_side} per side; use a larger cell")
    h = hm.heights
    lo = float(np.nanmin(h))
    grid = np.where(np.isnan(h), 0.0, h - lo)
    uc = hm.u0 + 0.5 * nu * hm.cell
    vc = hm.v0 + 0.5 * nv * hm.cell
    pos = hm.to_world(np.array([[uc, vc, lo]]))[0]
    quat = Rotation.from_matrix(hm.axes.T).as_quat(scalar_first=True)
    return Heightfield(
        pos=tuple(round(float(x), 6) for x in pos),
        quat=tuple(round(float(x), 9) for x in quat),
        size_x=round((nu - 1) * hm.cell, 6),
        size_y=round((nv - 1) * hm.cell, 6),
        base=float(base_m),
        nrow=int(nv),
        ncol=int(nu),
        heights=np.round(grid, 5).reshape(-1).tolist(),
    )


def relief_ratio(hm: HeightMap) -> float:
    """Relief (1st-99th percentile of heights) over the smaller in-plane extent of `hm`."""
    h = hm.heights[~np.isnan(hm.heights)]
    if len(h) == 0:
        return float("inf")
    lo, hi = np.percentile(h, [1.0, 99.0])
    return float(hi - lo) / (min(hm.heights.shape) * hm.cell)


def choose_strategy(representable_fraction: float, relief: float, kind: str) -> str:
    """'heightfield' for a climbing wall a heightfield represents (>= 95 % of its front
    area, relief ratio <= 0.5), else 'convex_decomposition'."""
    if (
        kind == "climbing_wall"
        and representable_fraction >= HEIGHTFIELD_MIN_FRACTION
        and relief <= MAX_RELIEF_RATIO
    ):
        return "heightfield"
    return "convex_decomposition"


def store_pieces(dec, out: Path, stem: str, geom) -> dict:
    """Copy a decomposition's convex pieces into ``out/collision/<stem>_NNN.obj`` (each written
    to a temporary name, then renamed), list them on `geom`; returns the import-info entries."""
    (out / "collision").mkdir(exist_ok=True)
    for i, src in enumerate(dec.files):
        rel = f"collision/{stem}_{i:03d}.obj"
        tmp = out / f"collision/.{stem}_{i:03d}.obj.tmp"
        shutil.copyfile(src, tmp)
        tmp.replace(out / rel)
        geom.collision_files.append(rel)
    return {"cache_key": dec.key, "cache_hit": dec.cache_hit, "pieces": len(dec.files)}
