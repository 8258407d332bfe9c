"""Importing real-world-style mesh files (tests/data/meshes, see make_fixtures.py) into scenes."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import scenes
from scenes.errors import SceneError
from scenes.hold_files import import_hold_mesh, place_hold_shape
from scenes.importer import import_mesh
from scenes.mesh_formats import load_raw
from scenes.mesh_repair import repair
from scenes.orientation import choose_up_axis
from scenes.validate import first_difference

DATA = Path(__file__).resolve().parents[1] / "data" / "meshes"
TRUTH = json.loads((DATA / "holds_truth.json").read_text())
TRUTH_POS = np.array([h["position"] for h in TRUTH["holds"]])


def _fixture_module():
    spec = importlib.util.spec_from_file_location("mesh_fixtures", DATA / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MF = _fixture_module()

# file -> fix lines (substrings) that must be reported
EXPECTED_FIXES = {
    "wall_quirks.obj": [
        "triangulated 9 n-gon faces",
        "removed 25 unreferenced vertices",
        "ignored missing material library 'wall_materials.mtl'",
        "plywood.png' (from 'wall_present.mtl')",
        "ignored undefined material 'paint'",
    ],
    "wall_binary.stl": ["duplicate vertices"],
    "wall_ascii.stl": ["duplicate vertices"],
    "wall.ply": ["triangulated 9 n-gon faces"],
    "wall_points.ply": ["meshed a point cloud of 30,000 points"],
    "wall.glb": ["converted Y-up to Z-up"],
    "wall_yup_cm.obj": ["converted Y-up to Z-up", "scaled by 0.01 (centimetres"],
    "wall_broken.obj": [
        "removed 1 non-finite (NaN/inf) vertices",
        "merged 1 duplicate vertices",
        "removed 2 degenerate faces",
        "removed 1 duplicate faces",
        "filled 3 holes",
        "split 1 non-manifold edges",
        "removed 1 tiny disconnected fragments",
    ],
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Import a fixture once per module (scale='auto', defaults otherwise)."""
    done: dict[str, scenes.Scene] = {}

    def get(name: str) -> scenes.Scene:
        if name not in done:
            done[name] = import_mesh(
                DATA / name,
                scale="auto",
                out_dir=tmp_path_factory.mktemp(Path(name).stem),
                cache_dir=tmp_path_factory.mktemp("cache"),
            )
        return done[name]

    return get


def _recall(holds, truth=TRUTH_POS, tol=0.05) -> float:
    if not holds:
        return 0.0
    pos = np.array([h.position for h in holds])
    d = np.linalg.norm(truth[:, None] - pos[None], axis=2)
    return float((d.min(axis=1) < tol).mean())


def _visual_vertices(scene) -> np.ndarray:
    return load_raw(Path(scene.root) / scene.geometry[0].file).vertices


@pytest.mark.parametrize("name", list(EXPECTED_FIXES))
def test_fixture_lands_in_scene_convention_with_holds_routes_and_fixes(imported, name):
    scene = imported(name)
    v = _visual_vertices(scene)
    assert abs(np.ptp(v[:, 2]) - TRUTH["wall_height_m"]) / TRUTH["wall_height_m"] < 0.05
    assert abs(np.ptp(v[:, 0]) - TRUTH["wall_width_m"]) / TRUTH["wall_width_m"] < 0.05
    assert v[:, 2].min() == pytest.approx(0.0, abs=1e-6)
    assert abs(v[:, 0].max() + v[:, 0].min()) < 0.02  # centred on x = 0
    base = v[v[:, 2] < 0.2]
    assert abs(np.median(base[:, 1])) < 0.01  # base on y = 0
    assert v[:, 1].max() == pytest.approx(0.3, abs=0.02)  # the wedge sticks out toward +y
    for line in EXPECTED_FIXES[name]:
        assert any(line in fix for fix in scene.metadata.fixes), (line, scene.metadata.fixes)
    assert _recall(scene.holds) >= 0.8
    assert all(h.normal[1] > 0.5 for h in scene.holds)
    assert len(scene.routes) >= 1
    geom = scene.geometry[0]
    assert geom.collision == "heightfield"
    assert len(geom.heightfield.heights) == geom.heightfield.nrow * geom.heightfield.ncol
    assert scene.metadata.source == f"imported:{name}"
    assert scene.spawn is not None and scene.spawn.pos[1] > 0
    assert scene.cameras[0].pos[1] > 1.0 and scene.kind == "climbing_wall"


def test_public_entry_point():
    assert scenes.import_mesh is import_mesh


def test_metre_z_up_files_are_not_rescaled_or_rotated(imported):
    fixes = imported("wall_binary.stl").metadata.fixes
    assert not any(f.startswith(("scaled", "converted", "rotated")) for f in fixes), fixes


def test_detected_kinds_and_colours_match_the_fixture(imported):
    scene = imported("wall_quirks.obj")  # vertex colours on the holds
    pos = np.array([h.position for h in scene.holds])
    kinds_ok, colours_ok = [], []
    for truth in TRUTH["holds"]:
        d = np.linalg.norm(pos - truth["position"], axis=1)
        hold = scene.holds[int(d.argmin())]
        kinds_ok.append(hold.kind == truth["kind"])
        colours_ok.append(np.abs(np.subtract(hold.rgba, truth["rgba"])).max() < 0.1)
    assert np.mean(kinds_ok) >= 0.8
    assert np.mean(colours_ok) >= 0.8


def test_rotated_and_shifted_scan_is_turned_to_face_plus_y(tmp_path):
    wall = MF.build_wall()
    rot = Rotation.from_euler("z", 120, degrees=True)
    v = rot.apply(wall["vertices"]) + np.array([10.0, -3.0, 0.5])
    MF.write_ply(tmp_path / "turned.ply", v, wall["colors"], wall["faces"])
    scene = import_mesh(tmp_path / "turned.ply", out_dir=tmp_path / "out", collision="none")
    assert any("rotated" in f and "faces +y" in f for f in scene.metadata.fixes)
    assert _recall(scene.holds) >= 0.8
    assert all(h.normal[1] > 0.5 for h in scene.holds)


def test_gltf_with_external_buffers_and_a_missing_buffer(tmp_path):
    import trimesh

    wall = MF.build_wall()
    mesh = trimesh.Trimesh(MF.y_up(wall["vertices"]), MF.triangulate(wall["faces"]), process=False)
    mesh.export(tmp_path / "wall.gltf")  # JSON plus .bin buffers next to it
    scene = import_mesh(tmp_path / "wall.gltf", out_dir=tmp_path / "out", collision="none")
    assert any("converted Y-up to Z-up" in f for f in scene.metadata.fixes)
    assert _recall(scene.holds) >= 0.8
    for buf in tmp_path.glob("*.bin"):
        buf.unlink()
    with pytest.raises(SceneError) as err:
        import_mesh(tmp_path / "wall.gltf", out_dir=tmp_path / "out2")
    assert err.value.file == str(tmp_path / "wall.gltf")


def test_centimetre_file_at_scale_1_warns_and_records_it(tmp_path):
    with pytest.warns(UserWarning, match="outside the plausible"):
        scene = import_mesh(
            DATA / "wall_yup_cm.obj", holds="none", collision="none", out_dir=tmp_path
        )
    assert any(f.startswith("warning: wall height 450 m") for f in scene.metadata.fixes)
    scene = import_mesh(
        DATA / "wall_yup_cm.obj", scale=0.01, holds="none", collision="none", out_dir=tmp_path
    )
    assert "scaled by 0.01 (scale argument)" in scene.metadata.fixes
    assert np.ptp(_visual_vertices(scene)[:, 2]) == pytest.approx(4.5, rel=1e-6)


def test_forced_up_axis(tmp_path):
    scene = import_mesh(DATA / "wall.glb", up="y", holds="none", collision="none", out_dir=tmp_path)
    assert np.ptp(_visual_vertices(scene)[:, 2]) == pytest.approx(4.5, rel=1e-4)
    with pytest.raises(SceneError, match="horizontal") as err:
        import_mesh(DATA / "wall.glb", up="z", holds="none", out_dir=tmp_path)
    assert err.value.file.endswith("wall.glb")


@pytest.mark.parametrize(
    ("normal", "fmt", "up"),
    [
        ((0, 1, 0), "stl", 2),
        ((0, 0, 1), "stl", 1),
        ((0.1, 0.2, -0.97), "ply", 1),
        ((1, 0, 0), "stl", 2),
        ((1, 0, 0), "glb", 1),
        ((-1, 0.1, 0), "obj", 1),
    ],
)
def test_choose_up_axis_rule(normal, fmt, up):
    assert choose_up_axis(np.array(normal, float), fmt)[0] == up


def test_saves_and_loads_through_scenes_io(imported, tmp_path):
    scene = imported("wall_quirks.obj")
    scenes.save(scene, tmp_path / "saved")
    back = scenes.load(tmp_path / "saved")
    assert (
        first_difference(
            dataclasses.replace(back, root=None), dataclasses.replace(scene, root=None)
        )
        is None
    )
    assert (tmp_path / "saved" / scene.geometry[0].file).is_file()


def test_same_seed_gives_same_bytes(tmp_path):
    a = import_mesh(DATA / "wall.ply", out_dir=tmp_path / "a", seed=3)
    b = import_mesh(DATA / "wall.ply", out_dir=tmp_path / "b", seed=3)
    assert scenes.dumps(a) == scenes.dumps(b)
    name = a.geometry[0].file
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_timings_cover_every_stage(tmp_path):
    timings: dict[str, float] = {}
    import_mesh(DATA / "wall.ply", out_dir=tmp_path, timings=timings)
    assert {"load", "repair", "orient", "write_mesh", "holds", "routes", "collision"} <= set(
        timings
    )
    assert all(t >= 0 for t in timings.values())


# ------------------------------------------------------------------------------ hold sources


def test_generate_places_holds_on_the_surface_deterministically(tmp_path):
    a = import_mesh(DATA / "wall.ply", holds="generate", out_dir=tmp_path / "a", seed=5)
    b = import_mesh(DATA / "wall.ply", holds="generate", out_dir=tmp_path / "b", seed=5)
    assert len(a.holds) > 20 and a.holds == b.holds
    pos = np.array([h.position for h in a.holds])
    assert (np.abs(pos[:, 0]) <= 2.0).all() and (pos[:, 2] >= 0).all() and (pos[:, 2] <= 4.5).all()
    assert (pos[:, 1] > -0.01).all() and (pos[:, 1] < 0.45).all()
    assert len(a.routes) >= 1


def test_holds_none(tmp_path):
    scene = import_mesh(DATA / "wall.ply", holds="none", out_dir=tmp_path)
    assert scene.holds == [] and scene.routes == []


def _truth_hold_dicts() -> list[dict]:
    return [
        {
            "id": f"t{i}",
            "position": h["position"],
            "normal": [0, 1, 0],
            "size": 0.05,
            "kind": h["kind"],
        }
        for i, h in enumerate(TRUTH["holds"])
    ]


def test_holds_file_in_scene_and_source_frames(tmp_path):
    path = tmp_path / "holds.json"
    path.write_text(json.dumps(_truth_hold_dicts()))
    scene = import_mesh(DATA / "wall.ply", holds=path, out_dir=tmp_path / "a")
    assert [h.id for h in scene.holds] == [f"t{i}" for i in range(len(TRUTH_POS))]
    assert np.allclose([h.position for h in scene.holds], TRUTH_POS)
    # the same holds annotated on the Y-up centimetre file
    src = [
        dict(
            d,
            position=(MF.y_up(np.array([d["position"]])) * 100).tolist()[0],
            normal=[0, 0, -1],
            size=5.0,
        )
        for d in _truth_hold_dicts()
    ]
    path.write_text(json.dumps({"frame": "source", "holds": src}))
    scene = import_mesh(DATA / "wall_yup_cm.obj", scale="auto", holds=path, out_dir=tmp_path / "b")
    assert np.allclose([h.position for h in scene.holds], TRUTH_POS, atol=1e-3)
    assert np.allclose([h.normal for h in scene.holds], [0, 1, 0], atol=1e-6)
    assert scene.holds[0].size == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda h: h[0].pop("kind"), "holds[0].kind"),
        (lambda h: h[1].update(normal=[0, 0, 0]), "holds[1].normal"),
        (lambda h: h[2].update(id="t0"), "holds[2].id"),
        (lambda h: h[0].update(rgba=[1, 0, 0, 2]), "holds[0].rgba"),
        (lambda h: h[0].update(size=-1), "holds[0].size"),
        (lambda h: h[0].update(position=[0, 1]), "holds[0].position"),
        (lambda h: h[0].update(grip="yes"), "holds[0]"),
        (lambda h: h[0].update(shape="/etc/hostname"), "holds[0].shape"),
    ],
)
def test_invalid_holds_file_names_the_file_and_field(tmp_path, edit, field):
    holds = _truth_hold_dicts()
    edit(holds)
    path = tmp_path / "holds.json"
    path.write_text(json.dumps(holds))
    with pytest.raises(SceneError) as err:
        import_mesh(DATA / "wall.ply", holds=path, out_dir=tmp_path / "o", collision="none")
    assert err.value.file == str(path) and err.value.field == field


def test_unreadable_holds_file(tmp_path):
    path = tmp_path / "holds.json"
    path.write_text("{not json")
    with pytest.raises(SceneError, match="cannot read holds file"):
        import_mesh(DATA / "wall.ply", holds=path, out_dir=tmp_path / "o")


def test_scanned_hold_mesh_becomes_a_shape_template(tmp_path):
    v, f = MF.build_hold_shape()
    rot = Rotation.from_euler("xyz", [0.7, -0.4, 1.9])
    MF.write_stl_binary(tmp_path / "scan.stl", rot.apply(v) * 100 + [5, 6, 7], f)
    out = tmp_path / "scene"
    template = import_hold_mesh(tmp_path / "scan.stl", out, scale=0.01, name="blue jug")
    assert template.shape == "holds/blue_jug.obj" and template.normal == (0.0, 0.0, 1.0)
    assert template.size == pytest.approx(np.sqrt(0.04 * 0.03), rel=0.02)
    shape = load_raw(out / template.shape).vertices * template.size  # metres, local frame
    assert shape[:, 2].min() == pytest.approx(-0.5 * template.size, abs=1e-6)  # mounting face
    assert np.ptp(shape[:, 2]) == pytest.approx(0.05, rel=0.02)  # protrudes 5 cm along +z
    assert np.ptp(shape[:, 0]) == pytest.approx(0.08, rel=0.02)  # long axis along x
    assert np.abs(shape[:, :2].max(0) + shape[:, :2].min(0)).max() < 1e-3  # centred
    hold = place_hold_shape(template, (0.5, 0.0, 1.5), (0, 2, 0), "h1")
    assert hold.position == pytest.approx((0.5, template.size / 2, 1.5))
    assert hold.normal == (0.0, 1.0, 0.0) and hold.shape == template.shape
    with pytest.raises(SceneError, match="point cloud"):
        import_hold_mesh(DATA / "wall_points.ply", out)


def test_holds_file_shape_is_copied_into_the_scene(tmp_path):
    v, f = MF.build_hold_shape()
    MF.write_obj(tmp_path / "jug.obj", v / 0.035, f)
    holds = _truth_hold_dicts()
    holds[0]["shape"] = "jug.obj"
    (tmp_path / "holds.json").write_text(json.dumps(holds))
    scene = import_mesh(DATA / "wall.ply", holds=tmp_path / "holds.json", out_dir=tmp_path / "s")
    assert scene.holds[0].shape == "holds/jug.obj"
    scenes.save(scene, tmp_path / "saved")  # validates every referenced mesh file
    assert scenes.load(tmp_path / "saved").holds[0].shape == "holds/jug.obj"


# ------------------------------------------------------------------------------------ rooms


def test_room_import_finds_floor_walkable_grid_and_spawn(tmp_path):
    v, f = MF.build_room()
    MF.write_obj(tmp_path / "room.obj", MF.y_up(v), f)
    scene = import_mesh(tmp_path / "room.obj", kind="room", collision="none", out_dir=tmp_path)
    assert any("converted Y-up to Z-up" in x for x in scene.metadata.fixes)
    assert scene.holds == [] and scene.kind == "room"
    w = scene.walkable
    grid = np.array([[c == "1" for c in row] for row in w.rows])

    def at(x, y):
        return grid[int((y - w.origin[1]) / w.cell), int((x - w.origin[0]) / w.cell)]

    assert at(0.0, 0.0) and at(-1.5, -1.0)  # open floor
    assert not at(1.0, 0.85) and not at(2.45, 0.0)  # table, wall
    assert 0.5 * 4.8 * 3.8 < grid.sum() * w.cell**2 < 4.8 * 3.8
    assert at(scene.spawn.pos[0], scene.spawn.pos[1])
    with pytest.raises(SceneError, match="rooms have no holds"):
        import_mesh(tmp_path / "room.obj", kind="room", holds="generate")


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "suffix", "match"),
    [
        (b"", ".stl", "no mesh or point geometry"),
        (b"solid x\nendsolid x\n", ".stl", "no mesh or point geometry"),
        (b"v 0 0 0\nv 1 2 x\nf 1 2 1\n", ".obj", "malformed 'v' line"),
        (b"# nothing\n", ".obj", "no vertices"),
        (
            b"ply\nformat binary_little_endian 1.0\nelement vertex 9\nproperty float x\n"
            b"property float y\nproperty float z\nend_header\n" + b"\0" * 20,
            ".ply",
            "truncated",
        ),
        (
            b"ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
            b"property float z\nend_header\n0 0 0\n1 1 1\n",
            ".ply",
            "at least 3",
        ),
        (b"hello", ".xyz", "unsupported mesh format"),
    ],
)
def test_unreadable_input_raises_scene_error_naming_the_file(tmp_path, content, suffix, match):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(SceneError, match=match) as err:
        import_mesh(path, out_dir=tmp_path / "o")
    assert err.value.file == str(path)


def test_missing_file(tmp_path):
    with pytest.raises(SceneError, match="does not exist"):
        import_mesh(tmp_path / "nope.obj")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "cave"},
        {"up": "w"},
        {"scale": -1.0},
        {"scale": "cm"},
        {"collision": "magic"},
        {"holds": 3},
        {"kind": "room", "holds": "x.json"},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(SceneError):
        import_mesh(DATA / "wall.ply", **kwargs)


# ------------------------------------------------------------------------ readers and repair


def test_obj_reader_indices_uvs_textures_and_materials(tmp_path):
    from PIL import Image

    img = np.zeros((1, 2, 3), np.uint8)
    img[0, 0], img[0, 1] = (255, 0, 0), (0, 0, 255)
    Image.fromarray(img).save(tmp_path / "tex.png")
    (tmp_path / "m.mtl").write_text(
        "newmtl tex\nKd 1 1 1\nmap_Kd -s 1 1 1 tex.png\nnewmtl green\nKd 0 1 0\n"
    )
    (tmp_path / "t.obj").write_text(
        "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 5 5 0\nv 6 5 0\nv 5 6 \\\n0\n"
        "vt 0.25 0.5\nvt 0.75 0.5\nvn 0 0 1\n"
        "usemtl tex\nf 1/1/1 2/1/1 3/1/1\nf -3/-1/1 -2/-1/1 -1/-1/1\n"
        "usemtl green\nf 1//1 3//1 4//1 2//1\n"
    )
    raw = load_raw(tmp_path / "t.obj")
    assert raw.vertices.shape == (6, 3) and raw.vertices[5].tolist() == [5, 6, 0]
    assert raw.faces.tolist()[:2] == [[0, 1, 2], [3, 4, 5]] and len(raw.faces) == 4
    assert np.allclose(raw.vertex_colors[4], [0, 0, 1, 1])  # texture, right half
    assert raw.vertex_colors[1][0] > raw.vertex_colors[1][2]  # red texel and green Kd mixed
    assert "triangulated 1 n-gon faces" in raw.fixes


def test_ply_reader_ascii_mixed_polygons_and_big_endian(tmp_path):
    (tmp_path / "a.ply").write_text(
        "ply\nformat ascii 1.0\nelement vertex 5\nproperty float x\nproperty float y\n"
        "property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"
        "element face 2\nproperty list uchar int vertex_indices\nend_header\n"
        "0 0 0 255 0 0\n1 0 0 255 0 0\n1 1 0 255 0 0\n0 1 0 255 0 0\n2 2 0 0 0 0\n"
        "4 0 1 2 3\n3 1 4 2\n"
    )
    raw = load_raw(tmp_path / "a.ply")
    assert len(raw.faces) == 3 and "triangulated 1 n-gon faces" in raw.fixes
    assert np.allclose(raw.vertex_colors[0], [1, 0, 0, 1])
    header = (
        b"ply\nformat binary_big_endian 1.0\nelement vertex 3\nproperty double x\n"
        b"property double y\nproperty double z\nelement face 1\n"
        b"property list uchar uint vertex_indices\nend_header\n"
    )
    body = struct.pack(">9d", 0, 0, 0, 1, 0, 0, 0, 1, 0) + struct.pack(">B3I", 3, 0, 1, 2)
    (tmp_path / "b.ply").write_bytes(header + body)
    raw = load_raw(tmp_path / "b.ply")
    assert raw.vertices[1].tolist() == [1, 0, 0] and raw.faces.tolist() == [[0, 1, 2]]


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float))
    v = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], axis=1)
    a = (np.arange(n - 1)[:, None] * n + np.arange(n - 1)[None, :]).ravel()
    f = np.concatenate([np.stack([a, a + 1, a + n + 1], 1), np.stack([a, a + n + 1, a + n], 1)])
    return v, f


def _boundary_edges(f: np.ndarray) -> int:
    e = np.sort(f[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, counts = np.unique(e, axis=0, return_counts=True)
    return int((counts == 1).sum())


@pytest.mark.parametrize(
    ("removed", "n_holes"),
    [
        ([24, 24 + 49], 1),  # both triangles of a middle quad: one 4-edge hole
        ([16, 24], 2),
    ],  # two triangles touching at one vertex: two holes sharing it (bowtie)
)
def test_repair_fills_small_holes_but_keeps_the_outline(removed, n_holes):
    v, f = _grid(8)
    out = repair(load_raw_like(v, np.delete(f, removed, axis=0)))
    assert any(x.startswith(f"filled {n_holes} holes") for x in out.fixes), out.fixes
    assert _boundary_edges(out.faces) == _boundary_edges(f) == 28


def test_repair_splits_non_manifold_edges_and_drops_debris():
    v, f = _grid(6)
    v = np.vstack([v, [[0.5, 0.5, 3.0]], [[50, 50, 50], [50.01, 50, 50], [50, 50.01, 50]]])
    fin = [[f[0][1], f[0][2], len(v) - 4]]  # on the quad diagonal, an interior edge
    debris = [[len(v) - 3, len(v) - 2, len(v) - 1]]
    out = repair(load_raw_like(v, np.vstack([f, fin, debris])))
    e = np.sort(out.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    assert np.unique(e, axis=0, return_counts=True)[1].max() <= 2
    assert any("non-manifold" in x for x in out.fixes)
    assert any("tiny disconnected fragments" in x for x in out.fixes)
    assert np.abs(out.vertices).max() < 10


def load_raw_like(v: np.ndarray, f: np.ndarray):
    """A RawMesh as a reader would return it."""
    from scenes.mesh_formats import RawMesh

    return RawMesh(np.asarray(v, float), np.asarray(f, np.int64), None, "obj", [])


def test_furnished_room_scan_gets_labelled_regions_clear_walkable_cells_and_a_floor_plane(tmp_path):
    from scenes.navigation import NavGrid, footprint_distance

    v, f = MF.build_furnished_room()
    MF.write_obj(tmp_path / "living.obj", MF.y_up(v), f)
    scene = import_mesh(tmp_path / "living.obj", kind="room", collision="none", out_dir=tmp_path)
    labels = sorted(r.label for r in scene.regions)
    assert labels == ["bed", "chair", "obstacle", "shelf", "sofa", "table", "wardrobe"]
    assert sum("guessed from a blob" in x for x in scene.metadata.fixes) == len(labels)
    table = next(r for r in scene.regions if r.label == "table")
    assert abs(table.center[0] - 0.9) < 0.1 and abs(table.center[1]) < 0.1
    assert 0.3 < table.half_extents[2] < 0.45  # half of a 0.74 m table
    nav = NavGrid.from_scene(scene)
    free = nav.free_points()
    for r in scene.regions:  # every walkable cell keeps a body radius from the furniture
        assert footprint_distance(free, r).min() > 0.15, r.label
    assert any(g.name == "floor" and g.type == "plane" for g in scene.geometry)
