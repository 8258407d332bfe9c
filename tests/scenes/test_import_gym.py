"""Whole-gym and odd-unit scans: sectors with holds and routes, the up axis and the unit decided
from evidence, and a wall no env can climb refused with the numbers (fixtures: gym_fixtures)."""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections import Counter

import numpy as np
import pytest

import scenes
from scenes.errors import NoRoutesError, NoRoutesWarning, SceneError
from scenes.importer import import_mesh
from scenes.validate import first_difference
from tests.scenes import gym_fixtures as gf


@pytest.fixture(scope="module")
def gym_path(tmp_path_factory):
    return gf.write_gym_obj(tmp_path_factory.mktemp("gym") / "gym.obj")


@pytest.fixture(scope="module")
def gym(gym_path, tmp_path_factory):
    return import_mesh(gym_path, holds="generate", out_dir=tmp_path_factory.mktemp("gym_scene"))


@pytest.fixture(scope="module")
def boulder_path(tmp_path_factory):
    return gf.write_boulder_stl(tmp_path_factory.mktemp("boulder") / "boulder.stl")


def _match(sectors) -> dict[str, scenes.Sector]:
    """Fixture sector letter -> imported sector, by kind and then by position along the wall."""
    by_kind: dict[str, list] = {}
    for s in sectors:
        by_kind.setdefault(s.kind, []).append(s)
    out = {}
    for letter, truth in gf.GYM_SECTORS.items():
        out[letter] = by_kind[truth["kind"]].pop(0)
    return out


def test_gym_sectors_are_found_with_their_angles_and_sizes(gym):
    assert len(gym.sectors) == len(gf.GYM_SECTORS) == 6
    assert Counter(s.kind for s in gym.sectors) == Counter(
        t["kind"] for t in gf.GYM_SECTORS.values()
    )
    for letter, sec in _match(gym.sectors).items():
        truth = gf.GYM_SECTORS[letter]
        assert sec.angle_deg == pytest.approx(truth["angle"], abs=2.0), letter
        assert sec.width == pytest.approx(truth["width"], abs=0.2), letter
        assert sec.height == pytest.approx(truth["height"], abs=0.05), letter
        assert np.linalg.norm(sec.normal) == pytest.approx(1.0, abs=1e-5)
    assert gym.sectors[0].area == max(s.area for s in gym.sectors)
    assert gym.sectors[0].normal[1] > 0.0 or gym.sectors[0].kind == "roof"


def test_gym_up_axis_floor_and_decisions_are_recorded(gym):
    fixes = gym.metadata.fixes
    assert any(f.startswith("up is file +y: a floor plane") for f in fixes), fixes
    assert any(f.startswith("other up candidates:") and "+z: a smaller floor" in f for f in fixes)
    assert any("floor: file height -0.35 along y -> z = 0" in f for f in fixes)
    assert any("triangulated" in f and "n-gon" in f for f in fixes)
    assert any("removed 20,000 unreferenced vertices" in f for f in fixes)
    assert sum(f.startswith("sector s") for f in fixes) == 6
    floor = gym.metadata.params["floor"]
    assert floor["file_height"] == pytest.approx(gf.GYM_FLOOR_FILE_Y, abs=1e-6)
    assert floor["up_in_file"] == [0.0, 1.0, 0.0] and floor["wall_height_m"] == pytest.approx(3.5)
    plane = next(g for g in gym.geometry if g.name == "floor")
    assert plane.type == "plane" and plane.pos[2] == 0.0
    z = np.array([h.position[2] for h in gym.holds])
    assert z.min() > 0.0 and z.max() < 3.6  # the holds span the walls, not the room


def test_every_sector_has_holds_routes_spawn_and_camera(gym):
    holds = {h.id: h for h in gym.holds}
    cams = {c.name: c for c in gym.cameras}
    owner = {}
    for sec in gym.sectors:
        routes = [r for r in gym.routes if r.sector == sec.id]
        assert len(sec.holds) >= 50 and len(routes) == 3, (sec.id, len(sec.holds), len(routes))
        for hid in sec.holds:
            owner[hid] = sec.id
        for r in routes:
            assert set(r.holds) <= set(sec.holds) and r.id.startswith(sec.id)
            top = max(holds[h].position[2] for h in sec.holds)
            assert holds[r.top].position[2] >= top - 0.6  # routes climb the sector
        facing = np.array([sec.normal[0], sec.normal[1], 0.0])
        if np.linalg.norm(facing) < 0.1:  # a roof: the climber faces its kicker
            facing = np.array([-np.sin(sec.spawn.yaw), np.cos(sec.spawn.yaw), 0.0])
        facing /= np.linalg.norm(facing)
        ahead = np.asarray(sec.spawn.pos) - np.asarray(sec.base)
        assert 0.2 < ahead[:2] @ facing[:2] < 2.5 and sec.spawn.pos[2] == 0.95
        cam = cams[sec.camera]
        assert (np.asarray(cam.pos) - np.asarray(sec.base))[:2] @ facing[:2] > 1.0
        assert np.asarray(cam.lookat)[2] == pytest.approx(sec.height / 2, abs=1e-3)
        assert f"{sec.id}_wall" in {g.name for g in gym.geometry} and sec.geometry
    assert set(owner) == set(holds)  # every hold is on exactly one sector
    assert gym.cameras[0].name == "tripod" and gym.spawn == gym.sectors[0].spawn


def test_gym_saves_loads_and_compiles(gym, tmp_path):
    scenes.save(gym, tmp_path / "saved")
    back = scenes.load(tmp_path / "saved")
    assert (
        first_difference(dataclasses.replace(back, root=None), dataclasses.replace(gym, root=None))
        is None
    )
    doc = json.loads((tmp_path / "saved" / "scene.json").read_text())
    assert len(doc["sectors"]) == 6 and doc["routes"][0]["sector"] == "s0"


def test_forced_up_y_finds_the_same_gym(gym_path, gym, tmp_path):
    scene = import_mesh(gym_path, up="y", holds="none", collision="none", out_dir=tmp_path)
    assert [(s.kind, s.angle_deg) for s in scene.sectors] == [
        (s.kind, s.angle_deg) for s in gym.sectors
    ]
    assert scene.routes == [] and scene.holds == []


def test_gym_with_no_holds_to_detect_raises_with_numbers(gym_path, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(NoRoutesError, match="no route could be set on any of the 6 sectors") as err:
        import_mesh(gym_path, holds="detect", out_dir=out)
    assert err.value.file == str(gym_path)
    d = err.value.diagnosis
    assert d["holds_placed"] == 0 and d["wall_height_m"] == pytest.approx(3.5, abs=0.05)
    assert "holds='generate'" in str(err.value)
    assert not out.exists()  # nothing half-written is left behind
    with pytest.warns(NoRoutesWarning, match="no route could be set"):
        scene = import_mesh(gym_path, holds="detect", out_dir=out, allow_no_routes=True)
    assert scene.routes == [] and len(scene.sectors) == 6
    assert any(f.startswith("warning: no route could be set") for f in scene.metadata.fixes)


# ------------------------------------------------------------------------ the boulder STL


def test_boulder_stl_repairs_and_picks_feet_for_a_bouldering_wall(boulder_path, tmp_path):
    scene = import_mesh(boulder_path, scale="auto", holds="detect", out_dir=tmp_path)
    fixes = scene.metadata.fixes
    for line in ("duplicate vertices", "removed 40 degenerate faces", "removed 20 duplicate faces"):
        assert any(line in f for f in fixes), (line, fixes)
    unit = next(f for f in fixes if f.startswith("scaled by"))
    assert unit.startswith("scaled by 0.3048 (feet: wall height 13.1 file units -> 3.99 m")
    assert "bouldering wall's height" in unit and "in metres it would be 13.1 m" in unit
    assert any("converted Y-up to Z-up" in f for f in fixes)
    assert scene.sectors == [] and scene.metadata.params["resolved_scale"] == gf.FEET
    z = np.array([h.position[2] for h in scene.holds])
    assert len(scene.holds) >= 80 and z.max() < 4.0 and len(scene.routes) >= 1


def test_boulder_stl_generated_holds_get_routes_in_feet(boulder_path, tmp_path):
    scene = import_mesh(boulder_path, scale="auto", holds="generate", out_dir=tmp_path)
    assert 60 <= len(scene.holds) <= 200 and len(scene.routes) >= 1


def test_boulder_stl_in_metres_is_refused_with_the_numbers(boulder_path, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(NoRoutesError) as err:
        import_mesh(boulder_path, holds="detect", out_dir=out)
    d, text = err.value.diagnosis, str(err.value)
    assert d["wall_height_m"] == pytest.approx(13.1, abs=0.01) and d["scale"] == 1.0
    assert d["unit"] == "metres" and d["hand_spacing_m"] > d["arm_length_m"]
    assert d["holds_placed"] > d["holds_reachable"] > 0
    assert text.startswith(f"{boulder_path}: no route could be set on the wall: ")
    assert "13.10 m tall at scale 1 (metres)" in text and "in feet (scale=0.3048)" in text
    assert "taller than a bouldering wall" in text and "allow_no_routes=True" in text
    assert not out.exists()
    mine = tmp_path / "mine"  # a directory of the user's: only what the import wrote goes
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(NoRoutesError):
        import_mesh(boulder_path, holds="detect", out_dir=mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    with pytest.warns(NoRoutesWarning):
        scene = import_mesh(boulder_path, holds="detect", out_dir=out, allow_no_routes=True)
    assert scene.routes == [] and scene.holds


def test_holds_none_never_raises(boulder_path, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoRoutesWarning)
        scene = import_mesh(boulder_path, holds="none", collision="none", out_dir=tmp_path)
    assert scene.routes == [] and scene.holds == []


# ------------------------------------------------------------------ format and validation


def test_single_wall_scenes_write_no_sector_fields():
    wall = scenes.load("wall_vertical_01")
    doc = json.loads(scenes.dumps(wall))
    assert "sectors" not in doc and all("sector" not in r for r in doc["routes"])
    assert wall.sectors == [] and all(r.sector is None for r in wall.routes)


def _two_sector_scene() -> scenes.Scene:
    """The shipped wall split into two sectors by x (small: loads fast)."""
    scene = scenes.load("wall_vertical_01")
    left = [h.id for h in scene.holds if h.position[0] < 0]
    right = [h.id for h in scene.holds if h.position[0] >= 0]
    for sid, ids in (("s0", left), ("s1", right)):
        scene.sectors.append(
            scenes.Sector(
                id=sid,
                name="vertical 0 deg",
                kind="vertical",
                angle_deg=0.0,
                normal=(0.0, 1.0, 0.0),
                width=2.0,
                height=4.0,
                area=8.0,
                base=(0.0, 0.0, 0.0),
                holds=ids,
                spawn=scenes.Spawn((0.0, 0.5, 0.95)),
                camera=scene.cameras[0].name,
            )
        )
    scene.routes = []
    return scene


def test_sector_references_are_validated(tmp_path):
    scenes.save(_two_sector_scene(), tmp_path / "ok")
    path = tmp_path / "ok" / "scene.json"
    good = json.loads(path.read_text())
    assert len(scenes.load(tmp_path / "ok").sectors) == 2
    first = good["sectors"][0]["holds"][0]

    def route_on(sector: str):
        return lambda d: d["routes"].append(
            {
                "id": "r",
                "name": "",
                "grade": "V0",
                "holds": [first],
                "start": {"left_hand": first, "right_hand": first},
                "top": first,
                "rgba": [1, 0, 0, 1],
                "moves": [],
                "sector": sector,
            }
        )

    cases = [
        (route_on("s9"), "routes[0].sector", "sector 's9'"),
        (route_on("s1"), "routes[0].holds", "not on the route's sector"),
        (lambda d: d["sectors"][1]["holds"].append(first), "sectors[1].holds", "already on"),
        (lambda d: d["sectors"][0].update(camera="nope"), "sectors[0].camera", "camera 'nope'"),
        (lambda d: d["sectors"][0].update(kind="cave"), "sectors[0].kind", "one of"),
        (lambda d: d["sectors"][0].update(normal=[0, 0, 2]), "sectors[0].normal", "unit"),
        (lambda d: d["sectors"][1].update(id="s0"), "sectors[1].id", "duplicate"),
        (lambda d: d["sectors"][0].pop("spawn"), "sectors[0].spawn", "required"),
    ]
    for edit, field, text in cases:
        doc = json.loads(json.dumps(good))
        edit(doc)
        path.write_text(json.dumps(doc))
        with pytest.raises(SceneError, match=text) as err:
            scenes.load(tmp_path / "ok")
        assert err.value.field.startswith(field) and err.value.file.endswith("scene.json")
