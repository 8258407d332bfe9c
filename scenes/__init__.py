"""Scenes for navenv: the Scene data model, its on-disk format, generators, splits and assets.

`import scenes` stays light: jsonschema is imported on the first load/save and trimesh only when a
mesh file is checked or `import_mesh` is first used.
"""

from __future__ import annotations

from typing import Any

from scenes import splits
from scenes.errors import NoRoutesError, NoRoutesWarning, SceneError
from scenes.io import dumps, load, loads, resolve, save
from scenes.room import generate_room
from scenes.route_setter import ClimberDims, place_holds, set_routes
from scenes.shipped import list_builtin
from scenes.types import (
    HOLD_KINDS,
    LIMBS,
    SCENE_FORMAT_VERSION,
    SECTOR_KINDS,
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
from scenes.wall import generate_wall

__all__ = [
    "HOLD_KINDS",
    "LIMBS",
    "SCENE_FORMAT_VERSION",
    "SECTOR_KINDS",
    "Camera",
    "ClimberDims",
    "Heightfield",
    "Hold",
    "MeshGeom",
    "Metadata",
    "NoRoutesError",
    "NoRoutesWarning",
    "Primitive",
    "Region",
    "Route",
    "Scene",
    "SceneError",
    "Sector",
    "Spawn",
    "WalkableGrid",
    "dumps",
    "generate_room",
    "generate_wall",
    "import_mesh",
    "list_builtin",
    "load",
    "loads",
    "place_holds",
    "resolve",
    "save",
    "set_routes",
    "splits",
]


def __getattr__(name: str) -> Any:
    # The importer pulls in trimesh/scipy; load it only when asked for.
    if name == "import_mesh":
        from scenes.importer import import_mesh

        return import_mesh
    if name in ("import_hold_mesh", "place_hold_shape"):
        from scenes import hold_files

        return getattr(hold_files, name)
    raise AttributeError(f"module 'scenes' has no attribute {name!r}")
