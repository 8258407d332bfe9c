"""Import speed of 100k-face scans, per stage, cache cold, plus MuJoCo compile.

Single wall: a 6 m x 5 m wall (vertical kicker, 15-degree overhang panel above, 120 holds, two
volumes, 2 mm scan noise) as a binary STL of ~100k faces, imported three times into fresh
scene directories: heightfield collision ("auto"), convex decomposition with an empty (cold)
cache, and convex decomposition again (warm cache).

Whole gym (run first): a 25 m x 20 m room as a Y-up OBJ of ~100k faces (a fifth on the floor):
walls 3.5 m high with a vertical face, a 25-degree overhang, a prow (arete), a 15-degree slab
and a 3 m kicker under a 1.2 m roof, 3 mm scan noise and 40 hold-sized bumps per face; imported
with generated holds (sectors, holds, routes and a heightfield per sector), first in the
process (cold: lazy imports included). Each scene is compiled with `navenv.world.scene_spec`
to check MuJoCo accepts it. Target: cold import < 30 s on one core.

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/perf_import.py [--faces 100000] [--only gym]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def build_wall(n_faces: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A scan-like wall surface with about `n_faces` triangles (metres, z up, face +y)."""
    rng = np.random.default_rng(seed)
    width, height = 6.0, 5.0
    nx = round(np.sqrt(n_faces / 2 * width / height)) + 1
    nz = round(n_faces / 2 / (nx - 1)) + 1
    x, z = np.meshgrid(np.linspace(-width / 2, width / 2, nx), np.linspace(0, height, nz))
    y = np.where(z > 2.0, (z - 2.0) * np.tan(np.radians(15.0)), 0.0)  # overhang above 2 m
    for hx, hz in zip(rng.uniform(-2.8, 2.8, 120), rng.uniform(0.2, 4.8, 120)):
        r, d = rng.uniform(0.03, 0.1), rng.uniform(0.02, 0.08)
        y += d * np.exp(-((x - hx) ** 2 + (z - hz) ** 2) / (2 * (r / 2) ** 2))
    y += 0.3 * np.clip(1 - np.maximum(np.abs(x + 1.5) / 0.6, np.abs(z - 3.0) / 0.5), 0, None)
    y += 0.25 * np.clip(1 - np.hypot(x - 1.2, z - 1.2) / 0.6, 0, None)
    y += rng.normal(0, 0.002, y.shape)
    v = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    a = (np.arange(nz - 1)[:, None] * nx + np.arange(nx - 1)[None, :]).ravel()
    f = np.concatenate([np.stack([a, a + nx, a + nx + 1], 1), np.stack([a, a + nx + 1, a + 1], 1)])
    return v, f


def _panel_grid(corners: np.ndarray, cell: float, rng: np.random.Generator, bumps: int):
    """Triangles (vertices, faces) tiling a planar quad (bl, br, tr, tl) about `cell` apart,
    wound toward its front, with 3 mm noise and `bumps` hold-sized bumps along its normal."""
    bl, br, tr, tl = corners
    nu = max(2, round(max(np.linalg.norm(br - bl), np.linalg.norm(tr - tl)) / cell))
    nv = max(2, round(max(np.linalg.norm(tl - bl), np.linalg.norm(tr - br)) / cell))
    s, t = np.meshgrid(np.linspace(0, 1, nu + 1), np.linspace(0, 1, nv + 1))
    s, t = s[..., None], t[..., None]
    p = (1 - s) * (1 - t) * bl + s * (1 - t) * br + s * t * tr + (1 - s) * t * tl
    n = np.cross(br - bl, tl - bl)
    n = n / np.linalg.norm(n) if np.linalg.norm(n) > 0 else np.cross(tr - br, tl - br)
    n = n / np.linalg.norm(n)
    h = rng.normal(0, 0.003, p.shape[:2])
    for _ in range(bumps):
        c = p[rng.integers(nv + 1), rng.integers(nu + 1)]
        r, d = rng.uniform(0.04, 0.08), rng.uniform(0.03, 0.06)
        h += d * np.exp(-np.sum((p - c) ** 2, axis=-1) / (2 * (r / 2) ** 2))
    h[[0, -1], :] = 0.0  # edges stay exact, so panels meeting there weld into one scan
    h[:, [0, -1]] = 0.0
    v = (p + h[..., None] * n).reshape(-1, 3)
    a = (np.arange(nv)[:, None] * (nu + 1) + np.arange(nu)[None, :]).ravel()
    f = np.concatenate(
        [np.stack([a, a + 1, a + nu + 2], 1), np.stack([a, a + nu + 2, a + nu + 1], 1)]
    )
    return v, f


def build_gym(n_faces: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A scan-like whole gym with about `n_faces` triangles (metres, z up, floor at z = 0)."""
    rng = np.random.default_rng(seed)
    h, yn, xe, xw = 3.5, 10.0, 12.5, -12.5
    t25, t15 = np.tan(np.radians(25.0)), np.tan(np.radians(15.0))
    walls = [
        [(-12.5, yn, 0), (-7.5, yn, 0), (-7.5, yn, h), (-12.5, yn, h)],
        [(-7.5, yn, 0), (-2.5, yn, 0), (-2.5, yn - h * t25, h), (-7.5, yn - h * t25, h)],
        [(-2.5, yn, 0), (0, yn - 2.5, 0), (0, yn - 2.5, h), (-2.5, yn, h)],
        [(0, yn - 2.5, 0), (2.5, yn, 0), (2.5, yn, h), (0, yn - 2.5, h)],
        [(2.5, yn, 0), (7.5, yn, 0), (7.5, yn, h), (2.5, yn, h)],
        [(xe - h * t15, 3, 0), (xe - h * t15, -3, 0), (xe, -3, h), (xe, 3, h)],
        [(xw, -3, 0), (xw, 3, 0), (xw, 3, 3.0), (xw, -3, 3.0)],
        [(xw, -3, 3.0), (xw, 3, 3.0), (xw + 1.2, 3, 3.0), (xw + 1.2, -3, 3.0)],
    ]
    walls = [np.array(w, float) for w in walls]
    wall_area = sum(np.linalg.norm(np.cross(w[1] - w[0], w[3] - w[0])) for w in walls)
    cell = np.sqrt(2 * wall_area / (0.8 * n_faces))
    parts = [_panel_grid(w, cell, rng, 40) for w in walls]
    floor = np.array([(-12.5, -10, 0), (12.5, -10, 0), (12.5, 10, 0), (-12.5, 10, 0)], float)
    parts.append(_panel_grid(floor, np.sqrt(2 * 500.0 / (0.2 * n_faces)), rng, 0))
    vs, fs, base = [], [], 0
    for v, f in parts:
        vs.append(v)
        fs.append(f + base)
        base += len(v)
    return np.concatenate(vs), np.concatenate(fs)


def run(path: Path, collision: str, cache: Path, out: Path, **kw) -> tuple[float, dict, object]:
    """Import once into `out`; returns wall seconds, per-stage seconds and the scene."""
    from scenes.importer import import_mesh

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    scene = import_mesh(
        path, collision=collision, cache_dir=cache, out_dir=out, timings=timings, **kw
    )
    return time.perf_counter() - t0, timings, scene


def compile_seconds(scene) -> float:
    """Seconds to build and compile the scene's MjSpec (navenv.world)."""
    from navenv.world import scene_spec

    t0 = time.perf_counter()
    model = scene_spec(scene).compile()
    assert model.ngeom > 0
    return time.perf_counter() - t0


def main() -> None:
    """Build the wall, import it three ways, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument(
        "--only", choices=["wall", "gym"], default=None, help="run one case (default: both)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perf_import_") as tmp:
        if args.only != "wall":  # first: the gym's import is timed cold (lazy imports included)
            bench_gym(Path(tmp) / "gym", args.faces)
        if args.only != "gym":
            bench(Path(tmp) / "wall", args.faces)


def bench_gym(work: Path, n_faces: int) -> None:
    """Write the gym into `work` as a Y-up OBJ, import it once (cold), print the figures."""
    work.mkdir(parents=True, exist_ok=True)
    v, f = build_gym(n_faces)
    path = work / "gym_scan.obj"
    with path.open("w") as fh:  # Y up, as Blender exports OBJ
        np.savetxt(fh, np.stack([v[:, 0], v[:, 2], -v[:, 1]], axis=1), fmt="v %.5f %.5f %.5f")
        np.savetxt(fh, f + 1, fmt="f %d %d %d")
    print(f"gym: {len(f):,} faces, {len(v):,} vertices, {path.stat().st_size / 1e6:.1f} MB OBJ")
    total, stages, scene = run(path, "auto", work / "cache", work / "scene", holds="generate")
    comp = compile_seconds(scene)
    print(f"\nwhole gym, generated holds (cold): import {total:.2f} s, MuJoCo compile {comp:.2f} s")
    print("  " + ", ".join(f"{k} {t:.2f}" for k, t in stages.items()))
    print(
        f"  up {scene.metadata.params['resolved_up']}, scale {scene.metadata.params['resolved_scale']:g}, "
        f"{len(scene.sectors)} sectors, {len(scene.holds)} holds, {len(scene.routes)} routes"
    )
    for s in scene.sectors:
        n = sum(r.sector == s.id for r in scene.routes)
        print(
            f"  {s.id} {s.name:<16} {s.angle_deg:+6.1f} deg  {s.width:4.1f} x {s.height:.2f} m"
            f"  {len(s.holds):4d} holds  {n} routes"
        )
    print(f"  target: cold import < 30 s -> {'ok' if total < 30 else 'MISSED'}")


def bench(work: Path, n_faces: int) -> None:
    """Write the wall into `work` and print the three imports."""
    import trimesh

    work.mkdir(parents=True, exist_ok=True)
    v, f = build_wall(n_faces)
    path = work / "wall_scan.stl"
    trimesh.Trimesh(v, f, process=False).export(path)
    print(f"wall: {len(f):,} faces, {len(v):,} vertices, {path.stat().st_size / 1e6:.1f} MB STL")
    cache = work / "coacd_cache"  # empty: cold
    runs = (
        ("heightfield (auto)", "auto"),
        ("convex decomposition, cold cache", "convex_decomposition"),
        ("convex decomposition, warm cache", "convex_decomposition"),
    )
    for i, (label, collision) in enumerate(runs):
        total, stages, scene = run(path, collision, cache, work / f"scene_{i}")
        info = scene.metadata.params["collision_info"]
        comp = compile_seconds(scene)
        print(f"\n{label}: import {total:.2f} s, MuJoCo compile {comp:.2f} s")
        print("  " + ", ".join(f"{k} {t:.2f}" for k, t in stages.items()))
        print(
            f"  collision={info['strategy']}, holds={len(scene.holds)}, "
            f"routes={len(scene.routes)}, "
            + (
                f"pieces={info['pieces']}, cache_hit={info['cache_hit']}"
                if "pieces" in info
                else f"heightfield {scene.geometry[0].heightfield.nrow}x"
                f"{scene.geometry[0].heightfield.ncol}"
            )
        )


if __name__ == "__main__":
    main()
