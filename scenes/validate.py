"""Semantic checks on a Scene that JSON Schema cannot express: units, ids, references, files."""

from __future__ import annotations

import math
import os
from dataclasses import fields, is_dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from scenes.errors import SceneError
from scenes.types import LIMBS, MeshGeom, Primitive, Scene

UNIT_TOL = 1e-4
"""Accepted deviation of a normal's or quaternion's norm from 1 (hand-written files round)."""

MESH_SUFFIXES = (".obj", ".stl")
MIN_MESH_VERTICES = 4

# Which entries of a MuJoCo geom `size` must be positive, per primitive type.
_SIZE_USED = {"box": 3, "ellipsoid": 3, "sphere": 1, "capsule": 2, "cylinder": 2, "plane": 0}


def _finite(values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def _norm(values: Any) -> float:
    return math.sqrt(sum(float(v) * float(v) for v in values))


def check_relpath(name: str, *, source: str, field: str) -> None:
    """Reject file names that are absolute or could escape the scene directory."""
    accepted = "accepted: a relative path with '/' separators and no '..' or '.' parts"
    if not isinstance(name, str) or not name:
        raise SceneError(
            f"expected a file name, got {name!r}; {accepted}", file=source, field=field
        )
    if "\\" in name or "\x00" in name or PureWindowsPath(name).drive:
        raise SceneError(
            f"file name {name!r} is not portable; {accepted}", file=source, field=field
        )
    posix = PurePosixPath(name)
    if posix.is_absolute():
        raise SceneError(f"file name {name!r} is absolute; {accepted}", file=source, field=field)
    if any(part in ("..", ".", "") for part in name.split("/")):
        raise SceneError(
            f"file name {name!r} escapes or is not normalised; {accepted}", file=source, field=field
        )


def check_mesh_file(root: str | os.PathLike, name: str, *, source: str, field: str) -> None:
    """Check that `root/name` stays inside root and is a readable, non-degenerate mesh."""
    check_relpath(name, source=source, field=field)
    if not name.lower().endswith(MESH_SUFFIXES):
        raise SceneError(
            f"mesh file {name!r} has an unsupported type (accepted: {', '.join(MESH_SUFFIXES)})",
            file=source,
            field=field,
        )
    base = Path(root).resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base):
        raise SceneError(
            f"file {name!r} resolves outside the scene directory", file=source, field=field
        )
    if not path.is_file():
        raise SceneError(f"mesh file {name!r} does not exist in {base}", file=source, field=field)
    import numpy as np
    import trimesh

    try:
        mesh = trimesh.load(str(path), force="mesh", process=False)
        vertices = np.asarray(mesh.vertices, dtype=float)
        areas = np.asarray(mesh.area_faces, dtype=float)
    except Exception as e:  # trimesh raises many types for corrupt files; all mean "unreadable"
        raise SceneError(
            f"mesh file {name!r} is unreadable: {type(e).__name__}: {e}", file=source, field=field
        ) from None
    if len(vertices) < MIN_MESH_VERTICES:
        raise SceneError(
            f"mesh file {name!r} is degenerate: {len(vertices)} vertices "
            f"(accepted: at least {MIN_MESH_VERTICES})",
            file=source,
            field=field,
        )
    if not np.isfinite(vertices).all():
        raise SceneError(f"mesh file {name!r} has non-finite vertices", file=source, field=field)
    if areas.size == 0 or not float(areas.sum()) > 1e-12:
        raise SceneError(
            f"mesh file {name!r} is degenerate: all {areas.size} faces have zero area",
            file=source,
            field=field,
        )


def referenced_files(scene: Scene) -> list[str]:
    """Every file name the scene refers to (meshes, convex pieces, hold shapes), first use order."""
    names: list[str] = []
    for g in scene.geometry:
        if isinstance(g, MeshGeom):
            names.append(g.file)
            names.extend(g.collision_files)
    names.extend(h.shape for h in scene.holds if h.shape is not None)
    return list(dict.fromkeys(names))


def _unique(items: list, attr: str, what: str, source: str) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        key = getattr(item, attr)
        if key in seen:
            raise SceneError(
                f"duplicate {attr} {key!r} (also at index {seen[key]}); {what} must be unique",
                file=source,
                field=f"{what}[{i}].{attr}",
            )
        seen[key] = i


def _unit(values: Any, *, source: str, field: str) -> None:
    n = _norm(values)
    if abs(n - 1.0) > UNIT_TOL:
        raise SceneError(
            f"expected a unit vector (norm within {UNIT_TOL} of 1), got norm {n:.6g}",
            file=source,
            field=field,
        )


def _check_geometry(scene: Scene, source: str, root: Any) -> None:
    for i, g in enumerate(scene.geometry):
        where = f"geometry[{i}]"
        _unit(g.quat, source=source, field=f"{where}.quat")
        if isinstance(g, Primitive):
            used = _SIZE_USED[g.type]
            if any(not s > 0 for s in g.size[:used]):
                raise SceneError(
                    f"a {g.type} needs its first {used} size entries positive, got {list(g.size)}",
                    file=source,
                    field=f"{where}.size",
                )
            continue
        files = [(f"{where}.file", g.file)]
        files += [(f"{where}.collision_files[{j}]", f) for j, f in enumerate(g.collision_files)]
        if g.collision == "convex_decomposition" and not g.collision_files:
            raise SceneError(
                "convex_decomposition needs at least one collision file",
                file=source,
                field=f"{where}.collision_files",
            )
        if g.collision not in ("convex_decomposition",) and g.collision_files:
            raise SceneError(
                f"collision {g.collision!r} takes no collision files (only convex_decomposition)",
                file=source,
                field=f"{where}.collision_files",
            )
        if (g.collision == "heightfield") != (g.heightfield is not None):
            raise SceneError(
                "a heightfield is given exactly when collision is 'heightfield'",
                file=source,
                field=f"{where}.heightfield",
            )
        if g.heightfield is not None:
            hf = g.heightfield
            _unit(hf.quat, source=source, field=f"{where}.heightfield.quat")
            if len(hf.heights) != hf.nrow * hf.ncol:
                raise SceneError(
                    f"expected nrow * ncol = {hf.nrow * hf.ncol} heights, got {len(hf.heights)}",
                    file=source,
                    field=f"{where}.heightfield.heights",
                )
        for field, name in files:
            if root is None:
                check_relpath(name, source=source, field=field)
            else:
                check_mesh_file(root, name, source=source, field=field)


def _check_routes(scene: Scene, source: str) -> None:
    hold_ids = {h.id for h in scene.holds}
    for i, r in enumerate(scene.routes):
        where = f"routes[{i}]"
        seen: set[str] = set()
        for j, hid in enumerate(r.holds):
            if hid not in hold_ids:
                raise SceneError(
                    f"refers to hold {hid!r}, which the scene does not define",
                    file=source,
                    field=f"{where}.holds[{j}]",
                )
            if hid in seen:
                raise SceneError(
                    f"hold {hid!r} is listed twice", file=source, field=f"{where}.holds[{j}]"
                )
            seen.add(hid)
        for limb, hid in r.start.items():
            if limb not in LIMBS:
                raise SceneError(
                    f"unknown limb {limb!r} (accepted: {', '.join(LIMBS)})",
                    file=source,
                    field=f"{where}.start.{limb}",
                )
            if hid not in seen:
                raise SceneError(
                    f"start hold {hid!r} is not in this route's holds",
                    file=source,
                    field=f"{where}.start.{limb}",
                )
        if r.top not in seen or r.holds[-1] != r.top:
            raise SceneError(
                f"top hold {r.top!r} must be the last of the route's holds",
                file=source,
                field=f"{where}.top",
            )
        for j, (limb, hid) in enumerate(r.moves):
            if limb not in LIMBS or hid not in seen:
                raise SceneError(
                    f"move ({limb!r}, {hid!r}) needs a limb in {LIMBS} and one of the route's holds",
                    file=source,
                    field=f"{where}.moves[{j}]",
                )


def _check_sectors(scene: Scene, source: str) -> None:
    """Sector ids, their holds, cameras and geometry, and routes' sectors refer to what exists."""
    _unique(scene.sectors, "id", "sectors", source)
    hold_ids = {h.id for h in scene.holds}
    cameras = {c.name for c in scene.cameras}
    geoms = {g.name for g in scene.geometry}
    owner: dict[str, str] = {}
    for i, sec in enumerate(scene.sectors):
        where = f"sectors[{i}]"
        _unit(sec.normal, source=source, field=f"{where}.normal")
        for j, hid in enumerate(sec.holds):
            if hid not in hold_ids:
                raise SceneError(
                    f"refers to hold {hid!r}, which the scene does not define",
                    file=source,
                    field=f"{where}.holds[{j}]",
                )
            if hid in owner:
                raise SceneError(
                    f"hold {hid!r} is already on sector {owner[hid]!r}; a hold is on one sector",
                    file=source,
                    field=f"{where}.holds[{j}]",
                )
            owner[hid] = sec.id
        if sec.camera is not None and sec.camera not in cameras:
            raise SceneError(
                f"names camera {sec.camera!r}, which the scene does not define "
                f"(cameras: {sorted(cameras)})",
                file=source,
                field=f"{where}.camera",
            )
        for j, name in enumerate(sec.geometry):
            if name not in geoms:
                raise SceneError(
                    f"names geometry {name!r}, which the scene does not define",
                    file=source,
                    field=f"{where}.geometry[{j}]",
                )
    sector_ids = {sec.id: sec for sec in scene.sectors}
    for i, r in enumerate(scene.routes):
        if r.sector is None:
            continue
        if r.sector not in sector_ids:
            raise SceneError(
                f"is on sector {r.sector!r}, which the scene does not define "
                f"(sectors: {sorted(sector_ids)})",
                file=source,
                field=f"routes[{i}].sector",
            )
        off = [h for h in r.holds if owner.get(h) != r.sector]
        if off:
            raise SceneError(
                f"holds {off[:3]} are not on the route's sector {r.sector!r}",
                file=source,
                field=f"routes[{i}].holds",
            )


def validate_scene(
    scene: Scene, *, source: str = "<scene>", root: str | os.PathLike | None = None
) -> None:
    """Semantic checks; with `root`, also that every named mesh file exists there and is sound."""
    if scene.units != "m" or scene.up != "z":
        raise SceneError("scenes are stored in metres with z up", file=source, field="units")
    _unique(scene.geometry, "name", "geometry", source)
    _unique(scene.holds, "id", "holds", source)
    _unique(scene.routes, "id", "routes", source)
    _unique(scene.cameras, "name", "cameras", source)
    _check_geometry(scene, source, root)
    for i, h in enumerate(scene.holds):
        _unit(h.normal, source=source, field=f"holds[{i}].normal")
        if h.shape is not None:
            if root is None:
                check_relpath(h.shape, source=source, field=f"holds[{i}].shape")
            else:
                check_mesh_file(root, h.shape, source=source, field=f"holds[{i}].shape")
    _check_routes(scene, source)
    _check_sectors(scene, source)
    for i, c in enumerate(scene.cameras):
        view = [b - a for a, b in zip(c.pos, c.lookat)]
        horizontal = math.hypot(view[0], view[1])
        if horizontal < 1e-6 * max(_norm(view), 1e-300) or _norm(view) == 0:
            raise SceneError(
                "lookat must differ from pos and not lie straight above or below it (z is up)",
                file=source,
                field=f"cameras[{i}].lookat",
            )
    if scene.walkable is not None:
        widths = {len(r) for r in scene.walkable.rows}
        if len(widths) != 1:
            raise SceneError(
                f"all rows must have the same length, got lengths {sorted(widths)}",
                file=source,
                field="walkable.rows",
            )


def first_difference(a: Any, b: Any, path: str = "") -> tuple[str, str] | None:
    """The first (field path, description) where two scene trees differ, or None if equal.

    Unlike `==`, a tuple and a list with equal items differ here: they do not survive JSON alike.
    """
    if is_dataclass(a) and is_dataclass(b) and type(a) is type(b):
        for f in fields(a):
            sub = f"{path}.{f.name}" if path else f.name
            d = first_difference(getattr(a, f.name), getattr(b, f.name), sub)
            if d is not None:
                return d
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return path, f"keys {list(a)} != {list(b)}"
        for k in a:
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d is not None:
                return d
        return None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if type(a) is not type(b) or len(a) != len(b):
            return (
                path,
                f"{type(b).__name__} of {len(b)} read back as {type(a).__name__} of {len(a)}",
            )
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d is not None:
                return d
        return None
    try:
        equal = bool(a == b)
    except (TypeError, ValueError):  # e.g. a numpy array compared with a tuple
        equal = False
    # 1 == 1.0 == True in Python, but they are different JSON values.
    if (
        not equal
        or isinstance(a, bool) != isinstance(b, bool)
        or isinstance(a, float) != isinstance(b, float)
    ):
        return path, f"{b!r} ({type(b).__name__}) read back as {a!r} ({type(a).__name__})"
    return None
