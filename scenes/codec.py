"""Scene <-> JSON document <-> text: the dataclass codec and the deterministic writer.

Floats are written with `repr`, the shortest text Python reads back to the same bits, so the text
round trip is exact. Geometry items carry a `"geom": "primitive" | "mesh"` tag.

`Scene.sectors` and `Route.sector` (whole gyms) are optional on disk: they are written only when
set, so a single-wall scene serialises to the same bytes as before sectors existed, and files
without them load with no sectors.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from typing import Any

from scenes.errors import SceneError
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
    Sector,
    Spawn,
    WalkableGrid,
)

# (dataclass, field) pairs left out of the JSON when they hold their default (see module doc).
_OPTIONAL_FIELDS = {(Scene, "sectors"): [], (Route, "sector"): None}


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _heightfield_from(d: dict) -> Heightfield:
    return Heightfield(
        pos=_floats(d["pos"]),
        quat=_floats(d["quat"]),
        size_x=float(d["size_x"]),
        size_y=float(d["size_y"]),
        base=float(d["base"]),
        nrow=int(d["nrow"]),
        ncol=int(d["ncol"]),
        heights=[float(h) for h in d["heights"]],
    )


def _geom_from(d: dict) -> Primitive | MeshGeom:
    common = dict(
        name=d["name"],
        pos=_floats(d["pos"]),
        quat=_floats(d["quat"]),
        rgba=_floats(d["rgba"]),
        collision=d["collision"],
        friction=float(d["friction"]),
    )
    if d["geom"] == "primitive":
        return Primitive(type=d["type"], size=_floats(d["size"]), **common)
    hf = d["heightfield"]
    return MeshGeom(
        file=d["file"],
        scale=_floats(d["scale"]),
        collision_files=list(d["collision_files"]),
        heightfield=None if hf is None else _heightfield_from(hf),
        **common,
    )


def _spawn_from(d: dict | None) -> Spawn | None:
    return None if d is None else Spawn(pos=_floats(d["pos"]), yaw=float(d["yaw"]))


def _sector_from(d: dict) -> Sector:
    return Sector(
        id=d["id"],
        name=d["name"],
        kind=d["kind"],
        angle_deg=float(d["angle_deg"]),
        normal=_floats(d["normal"]),
        width=float(d["width"]),
        height=float(d["height"]),
        area=float(d["area"]),
        base=_floats(d["base"]),
        holds=list(d["holds"]),
        spawn=_spawn_from(d["spawn"]),
        camera=d["camera"],
        geometry=list(d["geometry"]),
    )


def scene_from_dict(doc: dict) -> Scene:
    """Build a Scene from a schema-valid document (call `validate_document` first)."""
    meta = doc["metadata"]
    walk = doc["walkable"]
    return Scene(
        name=doc["name"],
        kind=doc["kind"],
        geometry=[_geom_from(g) for g in doc["geometry"]],
        holds=[
            Hold(
                id=h["id"],
                position=_floats(h["position"]),
                normal=_floats(h["normal"]),
                size=float(h["size"]),
                kind=h["kind"],
                rgba=_floats(h["rgba"]),
                shape=h["shape"],
            )
            for h in doc["holds"]
        ],
        routes=[
            Route(
                id=r["id"],
                name=r["name"],
                grade=r["grade"],
                holds=list(r["holds"]),
                start=dict(r["start"]),
                top=r["top"],
                rgba=_floats(r["rgba"]),
                moves=[(m[0], m[1]) for m in r["moves"]],
                sector=r.get("sector"),
            )
            for r in doc["routes"]
        ],
        cameras=[
            Camera(
                name=c["name"],
                pos=_floats(c["pos"]),
                lookat=_floats(c["lookat"]),
                width=int(c["width"]),
                height=int(c["height"]),
                fx=float(c["fx"]),
                fy=float(c["fy"]),
                cx=float(c["cx"]),
                cy=float(c["cy"]),
            )
            for c in doc["cameras"]
        ],
        regions=[
            Region(
                label=g["label"],
                center=_floats(g["center"]),
                half_extents=_floats(g["half_extents"]),
                yaw=float(g["yaw"]),
            )
            for g in doc["regions"]
        ],
        walkable=None
        if walk is None
        else WalkableGrid(
            origin=_floats(walk["origin"]), cell=float(walk["cell"]), rows=list(walk["rows"])
        ),
        sectors=[_sector_from(x) for x in doc.get("sectors", [])],
        spawn=_spawn_from(doc["spawn"]),
        observer_spawn=_spawn_from(doc["observer_spawn"]),
        metadata=Metadata(
            source=meta["source"],
            licence=meta["licence"],
            seed=meta["seed"],
            generator=meta["generator"],
            generator_version=meta["generator_version"],
            params=_plain(meta["params"]),
            fixes=list(meta["fixes"]),
        ),
        units=doc["units"],
        up=doc["up"],
        version=doc["version"],
    )


def _plain(value: Any) -> Any:
    """Deep-copy parsed JSON into plain dicts and lists (drops the parser's _Obj subclass)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    """Dataclass tree -> JSON-native values; numpy scalars become Python numbers."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {}
        if isinstance(value, Primitive):
            out["geom"] = "primitive"
        elif isinstance(value, MeshGeom):
            out["geom"] = "mesh"
        for f in fields(value):
            item, key = getattr(value, f.name), (type(value), f.name)
            if f.name == "root" or (key in _OPTIONAL_FIELDS and item == _OPTIONAL_FIELDS[key]):
                continue
            out[f.name] = _jsonable(item)
        return out
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalar or array
        return _jsonable(value.tolist())
    return value  # numbers as they are; anything else is named by schema validation


def scene_to_dict(scene: Scene) -> dict:
    """The JSON document for a scene (every field except `root`)."""
    if not isinstance(scene, Scene):
        raise SceneError(f"expected a scenes.Scene, got {type(scene).__name__}")
    return _jsonable(scene)


def _encode(value: Any, level: int) -> str:
    """Deterministic JSON text: objects of scalars on one line, larger structures indented."""
    pad, inner = " " * level, " " * (level + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        if all(_flat(v) for v in value.values()):
            body = ", ".join(f"{_scalar(k)}: {_encode(v, level + 1)}" for k, v in value.items())
            if len(body) <= 400:
                return "{" + body + "}"
        body = ",\n".join(f"{inner}{_scalar(k)}: {_encode(v, level + 1)}" for k, v in value.items())
        return "{\n" + body + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(not isinstance(v, dict | list) for v in value):
            line = "[" + ", ".join(_scalar(v) for v in value) + "]"
            if len(line) <= 120 or all(isinstance(v, int | float) for v in value):
                return line
        body = ",\n".join(inner + _encode(v, level + 1) for v in value)
        return "[\n" + body + "\n" + pad + "]"
    return _scalar(value)


def _flat(value: Any) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, dict | list) for v in value)
    return not isinstance(value, dict)


def _scalar(value: Any) -> str:
    try:
        # float repr is the shortest text that reads back to the same bits: exact round trip.
        return json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as e:
        raise SceneError(f"cannot write {value!r} as JSON: {e}") from None


def dumps(scene: Scene) -> str:
    """The exact text `save` writes for a scene (deterministic: same scene, same bytes)."""
    return _encode(scene_to_dict(scene), 0) + "\n"
