"""Import speed of a 100k-face scanned-wall mesh, per stage, cache cold, plus MuJoCo compile.

Builds a 6 m x 5 m wall (vertical kicker, 15-degree overhang panel above, 120 holds, two
volumes, 2 mm scan noise) as a binary STL of ~100k faces, then imports it three times into
fresh scene directories: heightfield collision ("auto"), convex decomposition with an empty
(cold) cache, and convex decomposition again (warm cache). Each scene is compiled with
`navenv.world.scene_spec` to check MuJoCo accepts it. Target: cold import < 30 s on one core.

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/perf_import.py [--faces 100000]
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


def run(path: Path, collision: str, cache: Path, out: Path) -> tuple[float, dict, object]:
    """Import once into `out`; returns wall seconds, per-stage seconds and the scene."""
    from scenes.importer import import_mesh

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    scene = import_mesh(path, collision=collision, cache_dir=cache, out_dir=out, timings=timings)
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
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perf_import_") as tmp:
        bench(Path(tmp), args.faces)


def bench(work: Path, n_faces: int) -> None:
    """Write the wall into `work` and print the three imports."""
    import trimesh

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
