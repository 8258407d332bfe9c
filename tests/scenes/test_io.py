"""Scene format: exact round trip, atomic saves, and a SceneError naming file and field for bad input."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

import scenes
from scenes import SceneError
from scenes.io import dumps, load, loads, save, scene_to_dict
from scenes.types import (
    Camera,
    Heightfield,
    Hold,
    MeshGeom,
    Metadata,
    Primitive,
    Region,
    Route,
    Scene,
    Spawn,
    WalkableGrid,
)

TETRA_OBJ = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n"


def handmade(root: Path) -> Scene:
    """A scene using every field and type, with awkward floats, and its mesh files under root."""
    (root / "meshes").mkdir(parents=True, exist_ok=True)
    for name in ("meshes/wall.obj", "meshes/piece0.obj", "meshes/hold.obj"):
        (root / name).write_text(TETRA_OBJ)
    holds = [
        Hold("a", (0.1 + 0.2, 1e-300, 1.5), (0.0, 1.0, 0.0), 0.07, "jug"),
        Hold(
            "b",
            (-0.0, 5e-324, 1.7976931348623157e308),
            (0.6, 0.8, 0.0),
            0.03,
            "crimp",
            rgba=(0.1, 0.2, 0.3, 0.4),
            shape="meshes/hold.obj",
        ),
        Hold("c", (0.3, 0.01, 2.1), (0.0, 0.0, 1.0), 0.05, "foothold"),
    ]
    return Scene(
        name="handmade ü",
        kind="climbing_wall",
        geometry=[
            Primitive("floor", "plane", (5.0, 5.0, 0.1)),
            Primitive(
                "box",
                "box",
                (0.5, 0.25, 1 / 3),
                pos=(1.0, 2.0, 3.0),
                quat=(0.5, 0.5, 0.5, 0.5),
                collision="none",
                friction=0.7,
            ),
            MeshGeom(
                "wall",
                "meshes/wall.obj",
                scale=(1.0, 2.0, 0.5),
                collision="convex_decomposition",
                collision_files=["meshes/piece0.obj"],
            ),
            MeshGeom(
                "hf",
                "meshes/wall.obj",
                collision="heightfield",
                heightfield=Heightfield(
                    (0.0, 0.0, 0.0),
                    (1.0, 0.0, 0.0, 0.0),
                    2.0,
                    1.0,
                    0.1,
                    2,
                    3,
                    [0.0, 0.1, 0.2, 0.3, 0.4, 1e-17],
                ),
            ),
        ],
        holds=holds,
        routes=[
            Route(
                "r0",
                "red",
                "V2",
                ["a", "c", "b"],
                {"left_hand": "a", "right_hand": "a", "left_foot": "c"},
                "b",
                moves=[("right_hand", "b"), ("left_hand", "b")],
            )
        ],
        cameras=[Camera("cam", (0.0, 4.0, 1.5), (0.0, 0.0, 1.0), 64, 48, 50.0, 50.0, 32.0, 24.0)],
        regions=[Region("bowl", (0.0, 0.0, 0.8), (0.1, 0.1, 0.05), yaw=-3.14159)],
        walkable=WalkableGrid((-1.0, -1.0), 0.1, ["0110", "1111"]),
        spawn=Spawn((0.0, 0.5, 0.93)),
        observer_spawn=Spawn((1.0, 2.0, 0.93), yaw=1.5),
        metadata=Metadata(
            seed=7,
            generator="hand",
            generator_version="0",
            params={"a": [1, 2.5, None, True, "x"], "b": {"c": -0.0}},
            fixes=["one"],
        ),
        root=str(root),
    )


def test_round_trip_exact_directory_and_single_file(tmp_path: Path) -> None:
    s = handmade(tmp_path / "src")
    for dest in (tmp_path / "out_dir", tmp_path / "single" / "s.json"):
        path = save(s, dest)
        back = load(path)
        assert back == replace(s, root=back.root)
        assert back.root == str(path.parent)
        # bit-exact floats, and the right Python types (tuples stay tuples, ints stay ints)
        assert back.holds[1].position == (-0.0, 5e-324, 1.7976931348623157e308)
        assert str(back.holds[1].position[0]) == "-0.0"
        assert back.routes[0].moves[0] == ("right_hand", "b")
        assert type(back.cameras[0].width) is int
        # mesh files were copied into the destination directory
        assert (path.parent / "meshes" / "piece0.obj").read_text() == TETRA_OBJ
        assert dumps(back) == dumps(s) == path.read_text(encoding="utf-8")


def test_round_trip_generated(tmp_path: Path) -> None:
    for s in (scenes.generate_wall(1, profile="multi_panel", n_volumes=3), scenes.generate_room(2)):
        back = load(save(s, tmp_path / s.name))
        assert back == replace(s, root=back.root)


def test_dumps_is_deterministic_and_json_has_no_root() -> None:
    s = scenes.generate_room(4)
    assert dumps(s) == dumps(scenes.generate_room(4))
    doc = json.loads(dumps(s))
    assert "root" not in doc and doc["version"] == 1
    assert set(doc) == {f for f in scene_to_dict(s)}


def test_save_leaves_no_temp_files_and_keeps_mode(tmp_path: Path) -> None:
    s = scenes.generate_room(0)
    path = save(s, tmp_path / "r")
    save(s, tmp_path / "r")  # overwrite in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["scene.json"]
    assert path.stat().st_mode & 0o777 == 0o644


def test_save_refuses_what_would_not_round_trip(tmp_path: Path) -> None:
    s = scenes.generate_room(0)
    bad = replace(s, metadata=replace(s.metadata, params={"size": (1.0, 2.0)}))
    with pytest.raises(SceneError) as e:
        save(bad, tmp_path / "x")
    assert e.value.field == "metadata.params.size"
    assert not (tmp_path / "x").exists()  # nothing half-written
    with pytest.raises(SceneError, match="root"):
        save(replace(handmade(tmp_path / "m"), root=None), tmp_path / "y")
    with pytest.raises(SceneError, match="holds"):
        save(replace(s, holds=[Hold("a", (0, 0, 0), (0, 2, 0), 0.1, "jug")]), tmp_path / "z")


def test_load_builtin_by_id_and_unknown_id() -> None:
    s = load("wall_vertical_01")
    assert s.name == "wall_vertical_01" and s.kind == "climbing_wall" and s.routes
    with pytest.raises(SceneError, match="wall_vertical_01"):
        load("no_such_scene_xyz")


# --- malformed input: one case per class; each names the file and the field ----------------------


def _doc(tmp_path: Path) -> dict:
    s = handmade(tmp_path / "src")
    save(s, tmp_path / "good")
    return json.loads((tmp_path / "good" / "scene.json").read_text(encoding="utf-8"))


def _load_doc(tmp_path: Path, doc: dict | str | bytes) -> Scene:
    d = tmp_path / "good"
    data = (
        doc
        if isinstance(doc, bytes)
        else (doc if isinstance(doc, str) else json.dumps(doc)).encode()
    )
    (d / "scene.json").write_bytes(data)
    return load(d)


def _expect(tmp_path: Path, doc: dict | str | bytes, field: str | None, *words: str) -> SceneError:
    with pytest.raises(SceneError) as e:
        _load_doc(tmp_path, doc)
    err = e.value
    assert isinstance(err, ValueError)
    assert err.file == str(tmp_path / "good" / "scene.json")
    assert str(err).startswith(err.file + ": ")
    assert err.field == field, str(err)
    for w in words:
        assert w in str(err), str(err)
    return err


def test_good_document_loads(tmp_path: Path) -> None:
    assert _load_doc(tmp_path, _doc(tmp_path)).name == "handmade ü"


def test_missing_and_extra_fields(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    del doc["holds"][1]["normal"]
    _expect(tmp_path, doc, "holds[1].normal", "missing")
    doc = _doc(tmp_path)
    doc["routes"][0]["colour"] = "red"
    _expect(tmp_path, doc, "routes[0].colour", "unexpected field", "accepted")
    doc = _doc(tmp_path)
    doc["geometry"][2]["type"] = "box"  # a primitive-only field on a mesh
    _expect(tmp_path, doc, "geometry[2].type", "unexpected")


def test_wrong_types(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["holds"][3 - 1]["normal"] = [0.0, 1.0]
    _expect(tmp_path, doc, "holds[2].normal", "expected 3 finite numbers", "2 items")
    doc = _doc(tmp_path)
    doc["holds"][0]["size"] = "big"
    _expect(tmp_path, doc, "holds[0].size", "expected a positive finite number", "string")
    doc = _doc(tmp_path)
    doc["cameras"][0]["width"] = True
    _expect(tmp_path, doc, "cameras[0].width", "integer")
    doc = _doc(tmp_path)
    doc["holds"][0]["kind"] = "bucket"
    _expect(tmp_path, doc, "holds[0].kind", "'jug'")
    doc = _doc(tmp_path)
    doc["walkable"]["rows"][1] = "10x1"
    _expect(tmp_path, doc, "walkable.rows[1]", "'0' and '1'")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-2e999"])
def test_non_finite_numbers(tmp_path: Path, token: str) -> None:
    text = json.dumps(_doc(tmp_path)).replace('"size": 0.07', f'"size": {token}', 1)
    assert token in text
    _expect(tmp_path, text, "holds[0].size", "finite number")


def test_non_unit_normal_and_quat(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["holds"][2]["normal"] = [0.0, 0.0, 2.0]
    _expect(tmp_path, doc, "holds[2].normal", "unit vector", "norm 2")
    doc = _doc(tmp_path)
    doc["geometry"][1]["quat"] = [1.0, 1.0, 0.0, 0.0]
    _expect(tmp_path, doc, "geometry[1].quat", "unit vector")


def test_bad_references_and_duplicates(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["routes"][0]["holds"][1] = "zz"
    _expect(tmp_path, doc, "routes[0].holds[1]", "'zz'")
    doc = _doc(tmp_path)
    doc["holds"][2]["id"] = "a"
    _expect(tmp_path, doc, "holds[2].id", "duplicate")
    doc = _doc(tmp_path)
    doc["routes"][0]["start"]["left_knee"] = "a"
    _expect(tmp_path, doc, "routes[0].start.left_knee", "left_hand")
    doc = _doc(tmp_path)
    doc["routes"][0]["top"] = "a"
    _expect(tmp_path, doc, "routes[0].top", "last")
    doc = _doc(tmp_path)
    doc["routes"][0]["moves"][0] = ["left_elbow", "b"]
    _expect(tmp_path, doc, "routes[0].moves[0][0]")


def test_duplicate_json_key(tmp_path: Path) -> None:
    text = json.dumps(_doc(tmp_path)).replace('"kind": "jug"', '"kind": "jug", "kind": "crimp"', 1)
    _expect(tmp_path, text, "holds[0].kind", "duplicate key")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("/etc/passwd.obj", "absolute"),
        ("../outside.obj", "escapes"),
        ("meshes/../../x.obj", "escapes"),
        ("C:/x.obj", "portable"),
        ("meshes\\wall.obj", "portable"),
        ("meshes/missing.obj", "does not exist"),
        ("meshes/wall.ply", "unsupported"),
    ],
)
def test_bad_file_names(tmp_path: Path, name: str, words: str) -> None:
    doc = _doc(tmp_path)
    doc["geometry"][2]["file"] = name
    _expect(tmp_path, doc, "geometry[2].file", words)


def test_symlink_escaping_scene_directory(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    (tmp_path / "elsewhere.obj").write_text(TETRA_OBJ)
    os.symlink(tmp_path / "elsewhere.obj", tmp_path / "good" / "meshes" / "link.obj")
    doc["holds"][1]["shape"] = "meshes/link.obj"
    _expect(tmp_path, doc, "holds[1].shape", "outside")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "3 vertices"),
        ("v 0 0 0\nv 1 0 0\nv 2 0 0\nv 3 0 0\nf 1 2 3\nf 2 3 4\n", "zero area"),
        ("", "vertices"),
        ("\x00\xff garbage \x01" * 50, ""),
    ],
)
def test_degenerate_or_unreadable_mesh(tmp_path: Path, content: str, words: str) -> None:
    doc = _doc(tmp_path)
    (tmp_path / "good" / "meshes" / "piece0.obj").write_text(content, encoding="latin-1")
    err = _expect(tmp_path, doc, "geometry[2].collision_files[0]", "piece0.obj")
    assert words in str(err)


def test_not_utf8_not_json_wrong_version_wrong_top(tmp_path: Path) -> None:
    good = json.dumps(_doc(tmp_path)).encode()
    _expect(tmp_path, good[:50] + b"\xff\xfe" + good[50:], None, "invalid UTF-8", "byte 50")
    _expect(tmp_path, good[:-1], None, "not valid JSON", "line 1")
    _expect(tmp_path, b"[1, 2]", None, "JSON object", "array")
    _expect(tmp_path, b"[" * 100_000, None, "not valid JSON")
    doc = _doc(tmp_path)
    doc["version"] = 2
    _expect(tmp_path, doc, "version", "unsupported format version 2")
    doc = _doc(tmp_path)
    doc["name"] = "\ud800"
    _expect(tmp_path, json.dumps(doc), "name", "surrogate")


def test_mesh_consistency_rules(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    doc["geometry"][2]["collision"] = "convex_hull"  # with collision files: inconsistent
    _expect(tmp_path, doc, "geometry[2].collision_files", "convex_decomposition")
    doc = _doc(tmp_path)
    doc["geometry"][3]["heightfield"]["heights"] = [0.0]
    _expect(tmp_path, doc, "geometry[3].heightfield.heights", "nrow * ncol")


def test_loads_without_root_checks_names_only() -> None:
    s = handmade(Path("/nonexistent"))
    text = dumps(s)
    assert loads(text).root is None
    with pytest.raises(SceneError) as e:
        loads(text.replace("meshes/hold.obj", "../hold.obj"), source="mem")
    assert e.value.field == "holds[1].shape" and e.value.file == "mem"


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, scenes; heavy = [m for m in ('jsonschema', 'trimesh', 'scipy') if m in sys.modules];"
        "assert not heavy, heavy; assert callable(scenes.generate_wall)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
