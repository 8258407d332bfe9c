"""Collision geometry of imported meshes: heightfields, CoACD pieces and their on-disk cache."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import mujoco
import numpy as np
import pytest
import trimesh

import scenes
from scenes import collision as col
from scenes.errors import SceneError
from scenes.importer import import_mesh
from scenes.surface import HeightMap, plane_axes, rasterize_max

DATA = Path(__file__).resolve().parents[1] / "data" / "meshes"


def _fixture_module():
    spec = importlib.util.spec_from_file_location("mesh_fixtures", DATA / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MF = _fixture_module()


def _surface(x, z):
    """Wall depth (metres toward +y) at (x, z): a lean-out slope and one round bump."""
    return 0.1 * z + 0.15 * np.exp(-((x - 0.3) ** 2 + (z - 1.0) ** 2) / 0.02)


def _tilted_map(cell=0.02) -> HeightMap:
    axes = plane_axes(np.array([0.0, 1.0, -0.1]), np.array([1.0, 0.0, 0.0]))
    x, z = np.meshgrid(np.linspace(-1, 1, 120), np.linspace(0, 2, 120))
    v = np.stack([x, _surface(x, z), z], -1).reshape(-1, 3)
    a = (np.arange(119)[:, None] * 120 + np.arange(119)[None, :]).ravel()
    f = np.concatenate([np.stack([a, a + 120, a + 121], 1), np.stack([a, a + 121, a + 1], 1)])
    return rasterize_max(v, f, axes, cell, origin=np.array([0.0, 0.05, 1.0]))


def test_heightfield_samples_the_map_in_its_local_frame():
    hm = _tilted_map()
    hf = col.heightfield_from_map(hm, base_m=0.2)
    heights = np.asarray(hf.heights).reshape(hf.nrow, hf.ncol)
    assert (hf.nrow, hf.ncol) == hm.heights.shape and heights.min() == 0.0
    assert np.linalg.norm(hf.quat) == pytest.approx(1.0)
    rot = np.zeros(9)
    mujoco.mju_quat2Mat(rot, np.asarray(hf.quat))
    rot = rot.reshape(3, 3)
    xs = np.linspace(-hf.size_x / 2, hf.size_x / 2, hf.ncol)
    ys = np.linspace(-hf.size_y / 2, hf.size_y / 2, hf.nrow)
    gx, gy = np.meshgrid(xs, ys)
    world = np.asarray(hf.pos) + np.stack([gx, gy, heights], -1) @ rot.T
    uu, vv = hm.centres()
    expected = hm.to_world(np.stack([uu, vv, hm.filled()], -1).reshape(-1, 3))
    ok = ~np.isnan(hm.heights).reshape(-1)
    assert np.abs(world.reshape(-1, 3)[ok] - expected[ok]).max() < 1e-4
    with pytest.raises(SceneError):
        col.heightfield_from_map(hm, base_m=0.0)


def test_mujoco_rays_hit_the_heightfield_where_the_wall_is():
    """Compile the field the way navenv.world does and cast rays toward the wall along -y."""
    hf = col.heightfield_from_map(_tilted_map(cell=0.01))
    h = np.asarray(hf.heights).reshape(hf.nrow, hf.ncol)
    lo, span = float(h.min()), float(h.max() - h.min())
    spec = mujoco.MjSpec()
    spec.add_hfield(
        name="wall",
        nrow=hf.nrow,
        ncol=hf.ncol,
        size=[hf.size_x / 2, hf.size_y / 2, span, hf.base],
        userdata=((h - lo) / span).reshape(-1).tolist(),
    )
    spec.worldbody.add_geom(
        type=mujoco.mjtGeom.mjGEOM_HFIELD, hfieldname="wall", pos=list(hf.pos), quat=list(hf.quat)
    )
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    for x, z in [(0.3, 1.0), (-0.5, 0.5), (0.6, 1.6), (0.0, 1.3)]:
        geomid = np.zeros(1, np.int32)
        dist = mujoco.mj_ray(
            model, data, np.array([x, 3.0, z]), np.array([0.0, -1.0, 0.0]), None, 1, -1, geomid
        )
        assert geomid[0] == 0
        assert 3.0 - dist == pytest.approx(_surface(x, z), abs=0.01)


def test_imported_wall_compiles_in_mujoco(tmp_path):
    scene = import_mesh(DATA / "wall.ply", holds="none", out_dir=tmp_path)
    geom = scene.geometry[0]
    hf = geom.heightfield
    h = np.asarray(hf.heights).reshape(hf.nrow, hf.ncol)
    spec = mujoco.MjSpec()
    spec.add_mesh(name="visual", file=str(tmp_path / geom.file))
    spec.worldbody.add_geom(
        type=mujoco.mjtGeom.mjGEOM_MESH, meshname="visual", contype=0, conaffinity=0
    )
    spec.add_hfield(
        name="wall",
        nrow=hf.nrow,
        ncol=hf.ncol,
        size=[hf.size_x / 2, hf.size_y / 2, float(np.ptp(h)), hf.base],
        userdata=(h / np.ptp(h)).reshape(-1).tolist(),
    )
    spec.worldbody.add_geom(
        type=mujoco.mjtGeom.mjGEOM_HFIELD, hfieldname="wall", pos=list(hf.pos), quat=list(hf.quat)
    )
    model = spec.compile()
    assert model.nmesh == 1 and model.nhfield == 1


@pytest.mark.parametrize(
    ("fraction", "relief", "kind", "strategy"),
    [
        (0.99, 0.1, "climbing_wall", "heightfield"),
        (0.9, 0.1, "climbing_wall", "convex_decomposition"),
        (0.99, 0.8, "climbing_wall", "convex_decomposition"),
        (1.0, 0.0, "room", "convex_decomposition"),
    ],
)
def test_choose_strategy(fraction, relief, kind, strategy):
    assert col.choose_strategy(fraction, relief, kind) == strategy


def test_relief_ratio():
    hm = HeightMap(np.zeros(3), np.eye(3), 0, 0, 0.1, np.zeros((20, 40)))
    hm.heights[5:10, 5:10] = 1.0
    assert col.relief_ratio(hm) == pytest.approx(1.0 / 2.0)


def test_decimate_bounds_faces_and_keeps_the_shape():
    mesh = trimesh.creation.icosphere(subdivisions=5)  # 20,480 faces
    v, f = col.decimate(mesh.vertices, mesh.faces, 2000)
    assert 500 < len(f) <= 2000
    assert np.abs(np.linalg.norm(v, axis=1) - 1.0).max() < 0.1
    same_v, same_f = col.decimate(v, f, 10_000)
    assert same_f is f and same_v is v


def _cube(n_sub: int = 2):
    m = trimesh.creation.box(extents=[1, 2, 0.5])
    for _ in range(n_sub):
        m = m.subdivide()
    return np.asarray(m.vertices), np.asarray(m.faces)


def test_convex_decomposition_is_cached_by_content(tmp_path):
    v, f = _cube()
    cfg = col.CoacdConfig(max_convex_hull=4)
    cold = col.convex_decomposition(v, f, cache_dir=tmp_path, cfg=cfg)
    assert not cold.cache_hit and cold.files and all(p.is_file() for p in cold.files)
    manifest = json.loads((tmp_path / cold.key / "manifest.json").read_text())
    assert manifest["pieces"] == [p.name for p in cold.files]
    for p in cold.files:  # every piece is a closed convex mesh
        piece = trimesh.load(p, process=True)
        assert piece.is_convex or piece.volume == pytest.approx(piece.convex_hull.volume, rel=1e-3)
    stamps = [p.stat().st_mtime_ns for p in cold.files]
    warm = col.convex_decomposition(v, f, cache_dir=tmp_path, cfg=cfg)
    assert warm.cache_hit and warm.files == cold.files
    assert [p.stat().st_mtime_ns for p in warm.files] == stamps
    other = col.convex_decomposition(v, f, cache_dir=tmp_path, cfg=col.CoacdConfig(threshold=0.2))
    assert other.key != cold.key and not other.cache_hit
    cold.files[0].unlink()  # a damaged entry is rebuilt
    again = col.convex_decomposition(v, f, cache_dir=tmp_path, cfg=cfg)
    assert not again.cache_hit and all(p.is_file() for p in again.files)


def test_cache_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NAVENV_CACHE_DIR", str(tmp_path))
    assert col.default_cache_dir() == tmp_path / "coacd"
    monkeypatch.delenv("NAVENV_CACHE_DIR")
    assert col.default_cache_dir() == Path.home() / ".cache" / "navenv" / "coacd"


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0.001}, {"preprocess_mode": "maybe"}, {"max_convex_hull": 0}, {"resolution": 0}],
)
def test_coacd_config_validation(kwargs):
    with pytest.raises(SceneError, match="CoacdConfig"):
        col.CoacdConfig(**kwargs)


def test_cave_gets_cached_convex_pieces_and_a_second_import_reuses_them(tmp_path):
    v, f = MF.build_cave()
    mesh = trimesh.Trimesh(v, f, process=False).subdivide_to_size(0.5)
    path = tmp_path / "cave.obj"
    MF.write_obj(path, mesh.vertices, mesh.faces)
    cache = tmp_path / "cache"
    t0 = time.perf_counter()
    first = import_mesh(path, holds="none", cache_dir=cache, out_dir=tmp_path / "a")
    cold_s = time.perf_counter() - t0
    geom = first.geometry[0]
    info = first.metadata.params["collision_info"]
    assert geom.collision == "convex_decomposition" and not info["cache_hit"]
    assert info["representable_fraction"] < col.HEIGHTFIELD_MIN_FRACTION
    assert geom.collision_files and all(
        (tmp_path / "a" / p).is_file() for p in geom.collision_files
    )
    entry = cache / info["cache_key"]
    stamps = sorted((p.name, p.stat().st_mtime_ns) for p in entry.iterdir())
    t0 = time.perf_counter()
    second = import_mesh(path, holds="none", cache_dir=cache, out_dir=tmp_path / "b")
    warm_s = time.perf_counter() - t0
    assert second.metadata.params["collision_info"]["cache_hit"]
    assert sorted((p.name, p.stat().st_mtime_ns) for p in entry.iterdir()) == stamps
    assert warm_s < cold_s
    for rel in geom.collision_files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    scenes.save(second, tmp_path / "saved")  # pieces are valid, referenced mesh files
    assert scenes.load(tmp_path / "saved").geometry[0].collision_files == geom.collision_files


@pytest.mark.parametrize("strategy", ["heightfield", "convex_hull", "none"])
def test_forced_strategies(tmp_path, strategy):
    scene = import_mesh(DATA / "wall.ply", holds="none", collision=strategy, out_dir=tmp_path)
    geom = scene.geometry[0]
    assert geom.collision == strategy and geom.collision_files == []
    assert (geom.heightfield is not None) == (strategy == "heightfield")
